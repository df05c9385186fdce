"""Wiring a wrapper's port to the same port of the component inside it."""

from amaranth.lib import wiring
from amaranth.lib.wiring import connect, flipped


def forward(m, member: wiring.Member, outer, inner) -> None:
    """Connects `outer`, a port of the wrapper, to `inner`, the wrapped component's port of the
    same signature member `member` (as the wrapper declares it): streams and other interfaces
    with `connect`, plain signals by assignment in the direction of `member.flow`."""
    if member.is_signature:
        if member.flow == wiring.Out:
            connect(m, inner, flipped(outer))
        else:
            connect(m, flipped(outer), inner)
    elif member.flow == wiring.Out:
        m.d.comb += outer.eq(inner)
    else:
        m.d.comb += inner.eq(outer)
