"""The RACA core's host port: commands in, answers out, memories and registers written."""

from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.memory import ReadPort, WritePort
from amaranth.lib.wiring import In, Out

from ...params.raca import REG_BITS, Op, RacaParams
from ..common.wire import struct_layout
from .registers import register_bus


class RacaCommands(wiring.Component):
    """Takes the host's commands one at a time and performs the ones that load or read the
    core; START is handed to the sequencer, which checks it.

    A command is registered on entry, so decoding starts from flip-flops. Bad commands (unknown
    ops, addresses or register values out of range) are dropped and counted, as are the
    STARTs the sequencer refuses. While an inference runs (`idle` low) only NOP and READ_REG
    are taken; the others wait. A read waits while an earlier answer is still owed, so answers
    leave in command order.

    Parameters: `params` (`RacaParams`).

    Attributes:
    * `cmd` (in), `rdata` (out): as `RacaCore`'s;
    * `idle` (in): no inference runs;
    * `start` (out): a START is taken this cycle;
    * `refuse` (in): the sequencer refuses that START (a cycle later); it counts as dropped;
    * `dropped` (out): commands dropped so far (the DROPPED register);
    * `registers` (out, `register_bus`): READ_REG and WRITE_REG;
    * `weight_write`, `bias_write`, `act_write` (out): WRITE_WEIGHT, WRITE_BIAS and WRITE_ACT
      into the memories (a write port's signature, flipped);
    * `act_read` (out): READ_ACT's read of the activation memory (data the cycle after).
    """

    def __init__(self, params: RacaParams):
        self.params = params
        p = params
        write = lambda depth, shape: In(WritePort.Signature(
            addr_width=(depth - 1).bit_length(), shape=shape))
        super().__init__({
            "cmd": In(stream.Signature(struct_layout(p.command_format))),
            "rdata": Out(stream.Signature(p.rdata_width)),
            "idle": In(1),
            "start": Out(1),
            "refuse": In(1),
            "dropped": Out(REG_BITS),
            "registers": Out(register_bus(p)),
            "weight_write": write(p.weight_depth, p.tile_cols * p.weight_width),
            "bias_write": write(p.bias_depth, p.tile_cols * p.bias_width),
            "act_write": write(p.act_depth, p.scan_width),
            "act_read": In(ReadPort.Signature(addr_width=(p.act_depth - 1).bit_length(),
                                              shape=p.scan_width)),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.params
        cmd = Signal(struct_layout(p.command_format))
        held = Signal()
        can_take = Signal()
        take = held & can_take
        m.d.comb += self.cmd.ready.eq(~held | take)
        with m.If(self.cmd.valid & self.cmd.ready):
            m.d.sync += [cmd.eq(self.cmd.payload), held.eq(1)]
        with m.Elif(take):
            m.d.sync += held.eq(0)

        is_read = (cmd.op == Op.READ_REG) | (cmd.op == Op.READ_ACT)
        read_pending = Signal()                     # READ_ACT's data arrives next cycle
        m.d.comb += can_take.eq((self.idle | (cmd.op == Op.NOP) | (cmd.op == Op.READ_REG)) &
                                ~(is_read & (self.rdata.valid | read_pending)))
        with m.If(self.rdata.ready):
            m.d.sync += self.rdata.valid.eq(0)
        m.d.sync += read_pending.eq(0)
        with m.If(read_pending):
            m.d.sync += [self.rdata.valid.eq(1), self.rdata.payload.eq(self.act_read.data)]

        regs = self.registers
        m.d.comb += [regs.addr.eq(cmd.addr), regs.value.eq(cmd.data)]
        for port in (self.weight_write, self.bias_write, self.act_write):
            m.d.comb += [port.addr.eq(cmd.addr), port.data.eq(cmd.data)]
        m.d.comb += self.act_read.addr.eq(cmd.addr)
        in_range = lambda depth: cmd.addr < depth
        bad = Signal()
        with m.If(take):
            with m.Switch(cmd.op):
                with m.Case(Op.NOP):
                    pass
                with m.Case(Op.WRITE_REG):
                    m.d.comb += [regs.write.eq(1), bad.eq(regs.bad)]
                with m.Case(Op.READ_REG):
                    m.d.comb += [regs.read.eq(1), bad.eq(regs.bad)]
                    with m.If(~regs.bad):
                        m.d.sync += [self.rdata.valid.eq(1), self.rdata.payload.eq(regs.answer)]
                with m.Case(Op.WRITE_WEIGHT):
                    m.d.comb += [self.weight_write.en.eq(in_range(p.weight_depth)),
                                 bad.eq(~in_range(p.weight_depth))]
                with m.Case(Op.WRITE_BIAS):
                    m.d.comb += [self.bias_write.en.eq(in_range(p.bias_depth)),
                                 bad.eq(~in_range(p.bias_depth))]
                with m.Case(Op.WRITE_ACT):
                    m.d.comb += [self.act_write.en.eq(in_range(p.act_depth)),
                                 bad.eq(~in_range(p.act_depth))]
                with m.Case(Op.READ_ACT):
                    m.d.comb += bad.eq(~in_range(p.act_depth))
                    m.d.sync += read_pending.eq(in_range(p.act_depth))
                with m.Case(Op.START):
                    m.d.comb += self.start.eq(1)
                with m.Default():
                    m.d.comb += bad.eq(1)
        dropped_now = Signal()                      # registered: keeps the adder off decode
        m.d.sync += [dropped_now.eq((take & bad) | self.refuse),
                     self.dropped.eq(self.dropped + dropped_now)]
        return m
