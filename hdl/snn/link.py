"""A core's link to the address-event mesh (`CoreLink`); contract in `cimforge.params.snn_system`."""

from amaranth.hdl import Array, Cat, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ...params.snn import HostOp
from ...params.snn_system import LinkCounter, LinkReg, SnnSystemParams
from ..common.wire import struct_layout

COUNTER_WIDTH = 32


class CoreLink(wiring.Component):
    """Sends a core's spikes on (to the host, or a copy to each destination core, address
    moved by `offset`, with an end marker per timestep to each) and turns the flits it
    receives into the core's commands (EVENT per spike, STEP once every feeding core's end
    marker is in).

    Parameters: `params` (`SnnSystemParams`).

    Attributes:
    * `config` (in): register writes and counter reads (`params.link_format`);
    * `answer` (out): the counters read, in order;
    * `spike` (in): the core's spikes and end markers (`snn_core` spike_format);
    * `to_host` (out): the same, when the link has no destinations;
    * `inject` (out), `eject` (in): the core's mesh ports;
    * `command` (out): EVENT and STEP commands for the core (`snn_core` host_format).
    """

    def __init__(self, params: SnnSystemParams):
        if not isinstance(params, SnnSystemParams):
            raise TypeError(f"CoreLink needs SnnSystemParams, got {type(params).__name__}")
        self.params = params
        core, mesh = params.core_params, params.mesh
        spike = struct_layout(core.spike_format)
        super().__init__({
            "config": In(stream.Signature(struct_layout(params.link_format))),
            "answer": Out(stream.Signature(COUNTER_WIDTH)),
            "spike": In(stream.Signature(spike)),
            "to_host": Out(stream.Signature(spike)),
            "inject": Out(stream.Signature(struct_layout(mesh.inject_format))),
            "eject": In(stream.Signature(struct_layout(mesh.flit_format))),
            "command": Out(stream.Signature(struct_layout(core.host_format))),
        })

    def elaborate(self, platform):
        m = Module()
        p, mesh = self.params, self.params.mesh
        feeders = Signal(range(p.cores + 1))
        offset = Signal(mesh.addr_width)
        dests = Signal(range(p.max_fanout + 1))
        dest_x = Array(Signal(mesh.x_width, name=f"dest_x{k}") for k in range(p.max_fanout))
        dest_y = Array(Signal(mesh.y_width, name=f"dest_y{k}") for k in range(p.max_fanout))
        counters = Array(Signal(COUNTER_WIDTH, name=f"{c.name.lower()}") for c in LinkCounter)

        # -- configuration and counter reads -----------------------------------------------
        clear = Signal()
        write = self.config.payload
        with m.If(~self.answer.valid | self.answer.ready):
            m.d.comb += self.config.ready.eq(1)
            m.d.sync += self.answer.valid.eq(0)
            with m.If(self.config.valid & write.read):
                m.d.sync += [self.answer.valid.eq(1), self.answer.payload.eq(counters[write.reg])]
            with m.Elif(self.config.valid):
                with m.Switch(write.reg):
                    with m.Case(LinkReg.FEEDERS):
                        m.d.sync += feeders.eq(write.value)
                    with m.Case(LinkReg.OFFSET):
                        m.d.sync += offset.eq(write.value)
                    with m.Case(LinkReg.DESTS):
                        m.d.sync += dests.eq(write.value)
                    with m.Case(LinkReg.CLEAR):
                        m.d.comb += clear.eq(1)
                    for k in range(p.max_fanout):
                        with m.Case(LinkReg.DEST + k):
                            m.d.sync += [dest_x[k].eq(write.value[:mesh.x_width]),
                                         dest_y[k].eq(write.value[mesh.x_width:][:mesh.y_width])]

        def count(counter, when):
            with m.If(when):
                m.d.sync += counters[counter].eq(counters[counter] + 1)

        # -- out: to the host, or one flit per destination -----------------------------------
        spike = self.spike.payload
        sent_step = Signal(p.timestep_bits)             # timesteps this link has ended
        copy = Signal(range(p.max_fanout))
        to_mesh = dests != 0
        m.d.comb += [self.to_host.payload.end.eq(spike.end),
                     self.to_host.payload.address.eq(spike.address + offset),
                     self.to_host.valid.eq(self.spike.valid & ~to_mesh)]
        flit = self.inject.payload.flit
        m.d.comb += [flit.addr.eq(spike.address + offset), flit.x.eq(dest_x[copy]),
                     flit.y.eq(dest_y[copy]), flit.tag.eq(Cat(spike.end, sent_step)),
                     self.inject.valid.eq(self.spike.valid & to_mesh)]
        last_copy = copy == dests - 1
        with m.If(to_mesh):
            m.d.comb += self.spike.ready.eq(self.inject.ready & last_copy)
        with m.Else():
            m.d.comb += self.spike.ready.eq(self.to_host.ready)
        sent = self.inject.valid & self.inject.ready
        count(LinkCounter.SENT, sent)
        with m.If(sent):
            m.d.sync += copy.eq(copy + 1)
            with m.If(last_copy):
                m.d.sync += copy.eq(0)
                with m.If(spike.end):
                    m.d.sync += sent_step.eq(sent_step + 1)

        # -- in: spikes become EVENTs; the last feeder's end marker becomes a STEP -------------
        got = self.eject.payload
        got_tag = Signal(1 + p.timestep_bits)
        m.d.comb += got_tag.eq(got.tag)
        got_end, got_step = got_tag[0], got_tag[1:]
        step = Signal(p.timestep_bits)                  # timesteps this core was stepped
        markers = Signal(range(p.cores + 1))            # end markers held this timestep
        stepping = got_end & (markers + 1 == feeders)
        command = self.command.payload
        m.d.comb += [command.op.eq(HostOp.EVENT), command.a.eq(got.addr)]
        with m.If(got_end):
            m.d.comb += [command.op.eq(HostOp.STEP), command.a.eq(0)]
        m.d.comb += [self.command.valid.eq(self.eject.valid & (~got_end | stepping)),
                     self.eject.ready.eq(self.command.ready | (got_end & ~stepping))]
        taken = self.eject.valid & self.eject.ready
        count(LinkCounter.RECEIVED, taken & ~got_end)
        count(LinkCounter.MARKERS, taken & got_end)
        count(LinkCounter.LATE, taken & (got_step != step))
        with m.If(taken & got_end):
            m.d.sync += markers.eq(markers + 1)
            with m.If(stepping):
                m.d.sync += [markers.eq(0), step.eq(step + 1)]
        with m.If(clear):                   # a new network: the host waits for quiet first
            m.d.sync += [c.eq(0) for c in counters]
            m.d.sync += [sent_step.eq(0), step.eq(0), markers.eq(0), copy.eq(0)]
        return m
