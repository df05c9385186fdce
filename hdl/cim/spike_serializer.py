"""Turns a FIRE's fired-lane mask into a stream of column indices, lowest first, one per cycle.

A search across the whole row in one cycle is a long routed path at 256 columns, so the mask is
cut into groups of `GROUP` bits and searched in two registered stages:

* stage 1 holds the next non-empty group's word: it picks the lowest group still to come from
  a `groups`-bit vector (the loaded mask itself stays unchanged until the next load). That
  group is kept one-hot in a register of its own, computed a step ahead, so the word select
  is a plain AND-OR from registers;
* stage 2 serializes one word, lowest bit first, and takes stage 1's word in the cycle its
  last bit goes out, so a run of spikes has no gap between groups.

`load` registers the mask and each group's any-bit-set flag; the first group is picked from
the flags a cycle later. The mask comes from every column across the array, so both of its
routes end at a flip-flop after at most the group's OR. Each stage searches at most `GROUP`
(or `groups`) bits per cycle. The first spike of a FIRE is valid four cycles after the `load`
cycle. (What each of these choices was measured against: `docs/design-history.md`.)
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ...params.cim_macro import COLUMN_GROUP as GROUP
from ...params.wire import bits


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


def lowest_one_hot(bits: list) -> list:
    """The lowest set bit of a list of 1-bit values, one-hot (all zero if none is set)."""
    return [b & ~Cat(*bits[:i]).any() if i else b for i, b in enumerate(bits)]


class SpikeSerializer(wiring.Component):
    """`load` with `mask` replaces the pending set (only done when `idle`); `spikes` streams
    the indices of the set bits."""

    def __init__(self, width: int):
        self.width = width
        self.index_bits = bits(width)
        super().__init__({
            "load": In(1),
            "mask": In(width),
            "idle": Out(1),
            "spikes": Out(stream.Signature(self.index_bits)),
        })

    def elaborate(self, platform):
        m = Module()
        group = min(GROUP, 1 << (self.width - 1).bit_length())
        groups = -(-self.width // group)
        local_bits = (group - 1).bit_length()

        mask = Signal(groups * group)
        flagging = Signal()                    # mask just loaded, `first` not yet set
        remaining = Signal(groups)             # groups not yet handed to stage 1
        word_of = lambda g: mask[g * group:(g + 1) * group]

        # Stage 1: the next non-empty group's word.
        next_valid = Signal()
        next_word = Signal(group)
        next_group = Signal(range(groups))
        # Stage 2: the word being serialized, and its group.
        word = Signal(group)
        word_group = Signal(range(groups))

        found, local = lowest_set([word[i] for i in range(group)])
        take = self.spikes.valid & self.spikes.ready
        rest = Mux(take, word & (word - 1), word)           # the lowest bit gone if taken
        refill = next_valid & (rest == 0)
        m.d.comb += [
            self.spikes.valid.eq(found),
            self.spikes.payload.eq(Cat(local[:local_bits], word_group)),
            self.idle.eq(~flagging & ~found & ~next_valid & (remaining == 0)),
        ]

        # The lowest group not yet handed to stage 1, one-hot, one step ahead of `remaining`.
        first = Signal(groups)
        chosen_word = Const(0, group)
        for g in range(groups):
            chosen_word = chosen_word | (word_of(g) & first[g].replicate(group))
        chosen_group = Const(0, range(groups))
        for g in range(1, groups):
            chosen_group = chosen_group | Mux(first[g], g, 0)

        with m.If(self.load):
            m.d.sync += [
                mask.eq(self.mask),
                remaining.eq(Cat(self.mask[g * group:(g + 1) * group].any()
                                 for g in range(groups))),
                flagging.eq(1),
                first.eq(0),
                next_valid.eq(0),
                word.eq(0),
            ]
        with m.Elif(flagging):
            m.d.sync += [
                flagging.eq(0),
                first.eq(Cat(*lowest_one_hot([remaining[g] for g in range(groups)]))),
            ]
        with m.Else():
            with m.If(refill):
                m.d.sync += [word.eq(next_word), word_group.eq(next_group)]
            with m.Else():
                m.d.sync += word.eq(rest)
            with m.If(~next_valid | refill):
                after = remaining & ~first
                m.d.sync += [
                    next_valid.eq(first.any()),
                    next_word.eq(chosen_word),
                    next_group.eq(chosen_group),
                    remaining.eq(after),
                    first.eq(Cat(*lowest_one_hot([after[g] for g in range(groups)]))),
                ]
        return m
