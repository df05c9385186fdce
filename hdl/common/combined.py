"""Several cores in one design: every port of core `block` appears as `<block>_<port>`, so one
host bridge (or one top level) reaches them all."""

from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import connect, flipped


class Combined(wiring.Component):
    def __init__(self, cores: dict[str, wiring.Component]):
        self.cores = cores
        members = {}
        for prefix, core in cores.items():
            for name, member in core.signature.members.items():
                members[f"{prefix}_{name}"] = member
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        for prefix, core in self.cores.items():
            m.submodules[prefix] = core
            for name, member in core.signature.members.items():
                outer, inner = getattr(self, f"{prefix}_{name}"), getattr(core, name)
                if member.is_signature:
                    if member.flow == wiring.Out:
                        connect(m, inner, flipped(outer))
                    else:
                        connect(m, flipped(outer), inner)
                elif member.flow == wiring.Out:
                    m.d.comb += outer.eq(inner)
                else:
                    m.d.comb += inner.eq(outer)
        return m
