"""The CIM macro's command queue: commands decoded on their way in, row data beside them."""

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.fifo import SyncFIFO, SyncFIFOBuffered
from amaranth.lib.wiring import In, Out

from ...params.cim_macro import CimMacroParams, Counter, Op
from ..common.wire import struct_layout


def decoded_layout(params: CimMacroParams) -> data.StructLayout:
    """A queued command: its opcode one-hot (bit `Op.X` set for op X, none for an unknown
    op), its fields, and the range checks that do not depend on the configuration."""
    command = params.command_format
    return data.StructLayout({
        "is_op": len(Op), "a": command["a"].width, "b": command["b"].width,
        "a_row": 1,        # a < rows
        "a_plane": 1,      # a < planes
        "a_counter": 1,    # a < the number of counters
        "a_slices": 1,     # a < max_slices
    })


class CommandQueue(wiring.Component):
    """`cmd_depth` commands between the macro's `cmd` port and its issue stage.

    Commands are decoded as they enter, so the issue stage starts from registered one-hot
    flags. Their row data (the `data` field of LOAD and PLANE) waits in a queue of its own,
    popped in step with `head`: `head`'s register is enabled by the issue decision, and that
    enable across a whole row was the 256-column macro's critical path; `row_data` is a small
    memory read at the data queue's read pointer instead, for the issue stage to register.

    Attributes:
    * `cmd`: the macro's command stream (`CimMacroParams.command_format`);
    * `head`: the oldest command, decoded (`decoded_layout`); taking it pops both queues;
    * `row_data`: the `data` field of `head`.
    """

    def __init__(self, params: CimMacroParams):
        self.params = params
        super().__init__({
            "cmd": In(stream.Signature(struct_layout(params.command_format))),
            "head": Out(stream.Signature(decoded_layout(params))),
            "row_data": Out(params.cols),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.params
        layout = decoded_layout(p)
        m.submodules.commands = commands = SyncFIFOBuffered(width=layout.size, depth=p.cmd_depth)
        m.submodules.row_data = row_data = SyncFIFO(width=p.cols, depth=p.cmd_depth)
        cmd = self.cmd.payload
        decoded = Signal(layout)
        m.d.comb += [
            decoded.is_op.eq(Cat(cmd.op == op for op in Op)),
            decoded.a.eq(cmd.a),
            decoded.b.eq(cmd.b),
            decoded.a_row.eq(cmd.a < p.rows),
            decoded.a_plane.eq(cmd.a < p.planes),
            decoded.a_counter.eq(cmd.a < len(Counter)),
            decoded.a_slices.eq(cmd.a < p.max_slices),
            commands.w_data.eq(decoded),
            row_data.w_data.eq(cmd.data),
            self.cmd.ready.eq(commands.w_rdy & row_data.w_rdy),
            commands.w_en.eq(self.cmd.valid & self.cmd.ready),
            row_data.w_en.eq(self.cmd.valid & self.cmd.ready),
            self.head.payload.eq(commands.r_data),
            self.head.valid.eq(commands.r_rdy),
            self.row_data.eq(row_data.r_data),
            commands.r_en.eq(self.head.ready),
            row_data.r_en.eq(self.head.ready),
        ]
        return m
