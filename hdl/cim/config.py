"""The CIM macro's layer configuration: shadow planes written by PLANE, made active by COMMIT."""

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from ...params.cim_macro import COLUMN_GROUP, COMMIT_FLAGS, LSB, MSB, PROP, CimMacroParams
from ..common.wire import struct_layout
from .columns import column_config
from .lane_scan import named_signals


def mode_rules(mode: list, lane_limit: int) -> list:
    """The rules of a valid mode vector (see the golden model), one AND per column: the local
    ones, and no lane wider than `lane_limit`, i.e. no `lane_limit` consecutive columns that
    each open a lane towards the next (LSB or PROP), checked by the window starting there."""
    cols = len(mode)
    opens = [(mode[c] == LSB) | (mode[c] == PROP) for c in range(cols)]
    rules = []
    for c in range(cols):
        nxt = mode[c + 1] if c + 1 < cols else 0
        prev = mode[c - 1] if c else 0
        rules.append([~opens[c] | (nxt == PROP) | (nxt == MSB),
                      (mode[c] != PROP) | (prev == LSB) | (prev == PROP)])
    if lane_limit < cols:
        # runs[k][c]: columns c .. c + 2**k - 1 all open; any window is two such runs.
        runs, width = [opens], 1
        while 2 * width <= lane_limit:
            last = runs[-1]
            runs.append([last[c] & last[c + width] for c in range(len(last) - width)])
            width *= 2
        last = runs[-1]
        shift = lane_limit - width
        for c in range(len(last) - shift):
            rules[c].append(~(last[c] & last[c + shift]))
    return [Cat(*r).all() for r in rules]


class MacroConfig(wiring.Component):
    """The configuration the column datapath runs under, and the one being written.

    PLANE i writes bit i of every column's configuration word into the shadow planes; COMMIT
    copies the shadow into the active configuration and sets the walk length and the flags.
    Both land a cycle after the issue stage takes the command, from registers, which keeps the
    issue decision off their wide enables. The shadow's modes are checked in two registered
    steps (per group of `COLUMN_GROUP` columns, then the row), so no check spans the row in one
    cycle. Nothing here is reset (a reset net to every configuration flip-flop crosses the
    chip): it starts from its init at power-up.

    Attributes, inputs at issue unless said otherwise:
    * `write_plane`, `plane`: a PLANE of plane `plane` is taken; its row is on `plane_data`
      the next cycle;
    * `commit`, `slices_minus_1`, `flags` (`COMMIT_FLAGS`): a COMMIT is taken;
    * `config`, `walk_length`, `last_start` (the last row a walk may start from),
      `saturate`, `subtract`: the active configuration;
    * `modes_ok`: the shadow modes form lanes no wider than `lane_limit`;
    * `settled`: `modes_ok` has seen every PLANE write taken so far, so a COMMIT may go.
    """

    def __init__(self, params: CimMacroParams):
        self.params = params
        super().__init__({
            "write_plane": In(1),
            "plane": In(range(params.planes)),
            "plane_data": In(params.cols),
            "commit": In(1),
            "slices_minus_1": In(range(params.max_slices)),
            "flags": In(struct_layout(COMMIT_FLAGS)),
            "config": Out(column_config(params)),
            "walk_length": Out(range(params.max_slices + 1)),
            "last_start": Out(range(params.rows)),
            "saturate": Out(1),
            "subtract": Out(1),
            "modes_ok": Out(1),
            "settled": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.params
        cols, planes = p.cols, p.planes
        shadow = Signal(data.ArrayLayout(cols, planes), reset_less=True)
        config = Signal(column_config(p), reset_less=True)
        walk_length = Signal(range(p.max_slices + 1), init=1, reset_less=True)
        last_start = Signal(range(p.rows), init=p.rows - 1, reset_less=True)
        saturate = Signal(reset_less=True)
        subtract = Signal(reset_less=True)
        m.d.comb += [self.config.eq(config), self.walk_length.eq(walk_length),
                     self.last_start.eq(last_start), self.saturate.eq(saturate),
                     self.subtract.eq(subtract)]

        # Column c's configuration word is bit c of every plane.
        column = struct_layout(p.column_format)
        shadow_words = [column(Cat(shadow[i][c] for i in range(planes))) for c in range(cols)]

        plane_write = Signal(data.StructLayout({"en": 1, "plane": range(planes)}))
        copy = Signal()
        m.d.sync += [plane_write.en.eq(self.write_plane), plane_write.plane.eq(self.plane),
                     copy.eq(self.commit)]
        with m.If(plane_write.en):
            m.d.sync += shadow[plane_write.plane].eq(self.plane_data)
        with m.If(copy):
            m.d.sync += [config[c].eq(word) for c, word in enumerate(shadow_words)]
        # The column flags are decoded from `config` a cycle after issue, so a copy a cycle
        # late is still in time for the next command's slices; the walk length is set now.
        with m.If(self.commit):
            m.d.sync += [walk_length.eq(self.slices_minus_1 + 1),
                         last_start.eq(p.rows - 1 - self.slices_minus_1),
                         saturate.eq(self.flags.saturate),
                         subtract.eq(self.flags.subtract)]

        rules = mode_rules([word.mode for word in shadow_words], p.lane_limit)
        groups_ok = named_signals(m, "modes_ok_group", [
            Cat(*rules[g:g + COLUMN_GROUP]).all() for g in range(0, cols, COLUMN_GROUP)], "sync")
        fresh = Signal(2)            # no PLANE write 1 and 2 cycles ago
        m.d.sync += [self.modes_ok.eq(Cat(*groups_ok).all()),
                     fresh.eq(Cat(~plane_write.en, fresh[0]))]
        m.d.comb += self.settled.eq(~plane_write.en & fresh.all())
        return m
