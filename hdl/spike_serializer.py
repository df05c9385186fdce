"""Turns a FIRE's fired-lane mask into a stream of column indices, lowest first, one per cycle.

The lowest set bit is found by a balanced tree (log depth in the number of columns), so the
serializer keeps up with one spike per clock even on wide rows.
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out


def lowest_set(bits: list) -> tuple:
    """(any bit set, index of the lowest set bit) over a list of 1-bit values, as a tree."""
    size = 1 << max(0, (len(bits) - 1).bit_length())
    nodes = [(b, None) for b in bits] + [(Const(0, 1), None)] * (size - len(bits))
    while len(nodes) > 1:
        # Pair (lo, hi): the index gains a top bit, set when the lowest set bit is in hi.
        nodes = [(lo_any | hi_any,
                  ~lo_any if lo_idx is None else Cat(Mux(lo_any, lo_idx, hi_idx), ~lo_any))
                 for (lo_any, lo_idx), (hi_any, hi_idx) in zip(nodes[0::2], nodes[1::2])]
    found, index = nodes[0]
    return found, Const(0, 1) if index is None else index


class SpikeSerializer(wiring.Component):
    """`load` with `mask` replaces the pending set (only done when `idle`); `spikes` streams
    the indices of the set bits."""

    def __init__(self, width: int):
        self.width = width
        index_bits = max(1, (width - 1).bit_length())
        super().__init__({
            "load": In(1),
            "mask": In(width),
            "idle": Out(1),
            "spikes": Out(stream.Signature(index_bits)),
        })

    def elaborate(self, platform):
        m = Module()
        pending = Signal(self.width)
        found, index = lowest_set([pending[i] for i in range(self.width)])
        m.d.comb += [
            self.spikes.valid.eq(found),
            self.spikes.payload.eq(index),
            self.idle.eq(~found),
        ]
        with m.If(self.load):
            m.d.sync += pending.eq(self.mask)
        with m.Elif(self.spikes.valid & self.spikes.ready):
            m.d.sync += pending.bit_select(index, 1).eq(0)
        return m
