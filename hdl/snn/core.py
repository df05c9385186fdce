"""One core of the FlexSpIM accelerator: a CIM macro and the controller that turns a
timestep's events into its commands (contract: `cimforge.golden.snn.CoreModel`).

This first controller runs linear layers with resident membranes, weight- or
output-stationary. A descriptor it cannot run yet (a convolution, chunked membranes, pooling)
is refused when its layer comes up: the layer is skipped and counted in `refused`.
"""

from amaranth.hdl import Array, Cat, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ...params.cim_macro import Counter, Op
from ...params.snn import HostOp, SnnCoreParams
from ...params.wire import bits
from ..cim.macro import CimMacro
from ..common.wire import struct_layout


class SnnCore(wiring.Component):
    """Attributes:
    * `host` (in): host commands (`params.host_format`, `HostOp`);
    * `spike` (out): the last layer's spikes, then an end marker per timestep
      (`params.spike_format`);
    * `rdata` (out): read-data of MACRO commands passed through from the host;
    * `dropped` (out): events that found their queue full; `refused` (out): layers skipped
      because this controller cannot run their descriptor.
    """

    def __init__(self, params: SnnCoreParams):
        if not isinstance(params, SnnCoreParams):
            raise TypeError(f"SnnCore needs SnnCoreParams, got {type(params).__name__}")
        self.params = params
        self.macro = CimMacro(params.macro)
        super().__init__({
            "host": In(stream.Signature(struct_layout(params.host_format))),
            "spike": Out(stream.Signature(struct_layout(params.spike_format))),
            "rdata": Out(stream.Signature(params.macro.data_width)),
            "dropped": Out(32),
            "refused": Out(32),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.params
        mp = p.macro
        m.submodules.macro = macro = self.macro
        host = self.host.payload
        cmd = macro.cmd.payload
        addr_bits = bits(p.max_inputs)

        m.submodules.descriptors = descriptors = Memory(
            shape=p.descriptor_format.size, depth=p.max_layers, init=[])
        m.submodules.buffer = buffer = Memory(shape=p.cols, depth=p.buffer_rows, init=[])
        # Two event queues: the layer being run reads one, its spikes fill the other.
        m.submodules.queues = queues = Memory(shape=addr_bits, depth=2 * p.queue_depth, init=[])
        d_wr, d_rd = descriptors.write_port(), descriptors.read_port()
        b_wr, b_rd = buffer.write_port(), buffer.read_port()
        q_wr, q_rd = queues.write_port(), queues.read_port()
        index_bits = bits(p.queue_depth)

        desc = Signal(struct_layout(p.descriptor_format))
        layers = Signal(range(p.max_layers + 1), init=1)
        layer = Signal(range(p.max_layers + 1))
        bank = Signal()                          # the queue the current layer reads
        counts = Array(Signal(range(p.queue_depth + 1), name=f"count{i}") for i in range(2))
        count_in = Signal.like(counts[0])        # events of the current layer
        k = Signal.like(counts[0])               # the event being run
        cg = Signal(range(p.max_channels + 1))   # channel group (= membrane group, linear)
        s = Signal(range(p.max_slices + 1))
        plane = Signal(range(mp.planes + 1))
        v_row = Signal(mp.addr_width)
        th_row = Signal(mp.addr_width)
        w_row = Signal(bits(max(p.rows, p.buffer_rows) * 2))   # macro row (ws) or buffer row (os)
        cg_stride = Signal.like(w_row)           # inputs * s_w: from one group's operand to the next
        dropped = Signal(32)
        refused = Signal(32)
        m.d.comb += [self.dropped.eq(dropped), self.refused.eq(refused)]
        last_layer = layer == layers - 1
        flags = Cat(desc.saturate, desc.subtract)

        def issue(op, a=0, b=0, data=0):
            m.d.comb += [macro.cmd.valid.eq(1), cmd.op.eq(op), cmd.a.eq(a), cmd.b.eq(b),
                         cmd.data.eq(data)]
            return macro.cmd.ready

        m.d.comb += [d_rd.addr.eq(layer), q_rd.addr.eq(Cat(k[:index_bits], bank))]

        def push(which, address):
            """Append `address` to queue `which` (0 or 1), or count it dropped if full."""
            count = Signal.like(counts[0])
            m.d.comb += count.eq(counts[which])
            with m.If(count < p.queue_depth):
                m.d.comb += [q_wr.en.eq(1), q_wr.addr.eq(Cat(count[:index_bits], which)),
                             q_wr.data.eq(address)]
                m.d.sync += counts[which].eq(count + 1)
            with m.Else():
                m.d.sync += dropped.eq(dropped + 1)

        # -- spikes: MSB columns -> lanes -> neurons -> the next queue or the spike port ---
        # The group of the FIRE being answered; set when its FIRE is issued (the previous
        # FIRE's spikes are all in by then: each FIRE is fenced).
        new_group = Signal()
        group_base = Signal(range(p.max_channels * 2 + p.cols))
        lane = Signal(range(p.cols + 1))
        msb = Signal(range(2 * p.cols + 1))
        with m.If(new_group):
            m.d.sync += [lane.eq(0), msb.eq(desc.lane_width - 1)]
        neuron = group_base + lane
        spike_out = Signal()
        with m.If(macro.spike.valid):
            with m.If(msb < macro.spike.payload):
                # Spikes come lowest column first: step to the lane this one ends.
                m.d.sync += [lane.eq(lane + 1), msb.eq(msb + desc.lane_width)]
            with m.Elif(neuron >= desc.channels):
                m.d.comb += macro.spike.ready.eq(1)          # a padding lane (never fires)
            with m.Elif(last_layer):
                m.d.comb += [spike_out.eq(1), macro.spike.ready.eq(self.spike.ready)]
            with m.Else():
                m.d.comb += macro.spike.ready.eq(1)
                push(~bank, neuron)

        # -- the controller -----------------------------------------------------------------
        with m.FSM():
            with m.State("IDLE"):
                m.d.comb += self.host.ready.eq(1)
                m.d.comb += [self.rdata.valid.eq(macro.rdata.valid),
                             self.rdata.payload.eq(macro.rdata.payload),
                             macro.rdata.ready.eq(self.rdata.ready)]
                take = self.host.valid
                with m.Switch(host.op):
                    with m.Case(HostOp.LAYER):
                        m.d.comb += [d_wr.addr.eq(host.a), d_wr.data.eq(host.data),
                                     d_wr.en.eq(take & (host.a < p.max_layers))]
                    with m.Case(HostOp.BUFFER):
                        m.d.comb += [b_wr.addr.eq(host.a), b_wr.data.eq(host.data),
                                     b_wr.en.eq(take & (host.a < p.buffer_rows))]
                    with m.Case(HostOp.MACRO):
                        m.d.comb += [macro.cmd.valid.eq(take),
                                     macro.cmd.payload.as_value().eq(host.data),
                                     self.host.ready.eq(macro.cmd.ready)]
                    with m.Case(HostOp.EVENT):
                        with m.If(take):
                            push(bank, host.a)
                    with m.Case(HostOp.LAYERS):
                        with m.If(take & (host.a >= 1) & (host.a <= p.max_layers)):
                            m.d.sync += layers.eq(host.a)
                    with m.Case(HostOp.STEP):
                        with m.If(take):
                            m.d.sync += layer.eq(0)
                            m.next = "DESC"

            with m.State("DESC"):                # the descriptor is read this cycle
                m.next = "DESC_HELD"

            with m.State("DESC_HELD"):
                m.d.sync += [desc.eq(d_rd.data), plane.eq(0),
                             count_in.eq(counts[bank])]
                m.next = "CHECK"

            with m.State("CHECK"):
                m.d.sync += cg_stride.eq(desc.inputs * desc.s_w)
                with m.If(desc.conv | ~desc.resident | (desc.pool_y != 1) | (desc.pool_x != 1)):
                    m.d.sync += refused.eq(refused + 1)
                    m.next = "NEXT"
                with m.Else():
                    m.next = "PLANE_READ"

            with m.State("PLANE_READ"):          # the plane's row is read from the buffer
                m.d.comb += b_rd.addr.eq(desc.buffer_planes + plane)
                m.next = "PLANE"

            with m.State("PLANE"):
                m.d.comb += b_rd.addr.eq(desc.buffer_planes + plane)
                with m.If(issue(Op.PLANE, plane, 0, b_rd.data)):
                    m.d.sync += plane.eq(plane + 1)
                    with m.If(plane == mp.planes - 1):
                        m.next = "COMMIT"
                    with m.Else():
                        m.next = "PLANE_READ"

            with m.State("COMMIT"):
                with m.If(issue(Op.COMMIT, desc.s_v - 1, flags)):
                    m.d.sync += [cg.eq(0), v_row.eq(desc.membrane_rows),
                                 w_row.eq(desc.bias_rows)]
                    with m.If(desc.has_bias):
                        m.next = "BIAS"
                    with m.Else():
                        m.next = "EVENTS"

            with m.State("BIAS"):
                with m.If(issue(Op.ACC, w_row, v_row)):
                    m.d.sync += [cg.eq(cg + 1), v_row.eq(v_row + desc.s_v),
                                 w_row.eq(w_row + desc.s_w)]
                    with m.If(cg == desc.channel_groups - 1):
                        m.next = "EVENTS"

            with m.State("EVENTS"):
                m.d.sync += k.eq(0)
                with m.If(count_in == 0):
                    m.next = "FIRES"
                with m.Else():
                    m.next = "EVENT_READ"

            with m.State("EVENT_READ"):          # the event's address is read this cycle
                m.next = "EVENT"

            with m.State("EVENT"):
                m.d.comb += q_rd.addr.eq(Cat((k + 1)[:index_bits], bank))    # read ahead
                operand = q_rd.data * desc.s_w
                m.d.sync += [cg.eq(0), s.eq(0),
                             v_row.eq(desc.membrane_rows)]
                with m.If(desc.os):
                    m.d.sync += w_row.eq(desc.buffer_weights + operand)
                    m.next = "OS_READ"
                with m.Else():
                    m.d.sync += w_row.eq(desc.weight_rows + operand)
                    m.next = "WS_ACC"

            def next_group():
                m.d.sync += [cg.eq(cg + 1), v_row.eq(v_row + desc.s_v),
                             w_row.eq(w_row + cg_stride), s.eq(0)]
                with m.If(cg == desc.channel_groups - 1):
                    m.d.sync += k.eq(k + 1)
                    with m.If(k == count_in - 1):
                        m.next = "FIRES"
                    with m.Else():
                        m.next = "EVENT_READ"

            with m.State("WS_ACC"):
                # One ACC per cycle: the queue is read one event ahead (two while this cycle
                # moves on to the next event), so the next event's row is ready at once.
                advance = Signal()
                m.d.comb += q_rd.addr.eq(Cat((k + 1 + advance)[:index_bits], bank))
                with m.If(issue(Op.ACC, w_row, v_row)):
                    with m.If(cg == desc.channel_groups - 1):
                        m.d.comb += advance.eq(1)
                        m.d.sync += [k.eq(k + 1), cg.eq(0), v_row.eq(desc.membrane_rows),
                                     w_row.eq(desc.weight_rows + q_rd.data * desc.s_w)]
                        with m.If(k == count_in - 1):
                            m.next = "FIRES"
                    with m.Else():
                        m.d.sync += [cg.eq(cg + 1), v_row.eq(v_row + desc.s_v),
                                     w_row.eq(w_row + cg_stride)]

            with m.State("OS_READ"):             # a weight row is read from the buffer
                m.d.comb += b_rd.addr.eq(w_row + s)
                m.next = "OS_LOAD"

            with m.State("OS_LOAD"):
                m.d.comb += b_rd.addr.eq(w_row + s)
                with m.If(issue(Op.LOAD, desc.weight_rows + s, 0, b_rd.data)):
                    m.d.sync += s.eq(s + 1)
                    with m.If(s == desc.s_w - 1):
                        m.next = "OS_ACC"
                    with m.Else():
                        m.next = "OS_READ"

            with m.State("OS_ACC"):
                with m.If(issue(Op.ACC, desc.weight_rows, v_row)):
                    m.next = "OS_READ"           # the next group's operand
                    next_group()

            with m.State("FIRES"):
                m.d.sync += [cg.eq(0), v_row.eq(desc.membrane_rows), group_base.eq(0),
                             th_row.eq(desc.threshold_rows)]
                m.d.comb += new_group.eq(1)
                m.next = "FIRE"

            with m.State("FIRE"):
                with m.If(issue(Op.FIRE, v_row, th_row)):
                    m.next = "FENCE"

            with m.State("FENCE"):
                with m.If(issue(Op.COUNTER, Counter.SPIKES)):
                    m.next = "FENCE_WAIT"

            with m.State("FENCE_WAIT"):          # every spike of this FIRE is out
                m.d.comb += macro.rdata.ready.eq(1)
                with m.If(macro.rdata.valid):
                    m.d.comb += new_group.eq(1)
                    m.d.sync += [cg.eq(cg + 1), v_row.eq(v_row + desc.s_v),
                                 th_row.eq(th_row + desc.s_v),
                                 group_base.eq(group_base + desc.lanes)]
                    with m.If(cg == desc.groups - 1):
                        m.next = "NEXT"
                    with m.Else():
                        m.next = "FIRE"

            with m.State("NEXT"):
                # The layer's queue is used up; the next layer reads the one its spikes filled.
                m.d.sync += counts[bank].eq(0)
                m.d.sync += [bank.eq(~bank), layer.eq(layer + 1)]
                with m.If(last_layer):
                    m.next = "END"
                with m.Else():
                    m.next = "DESC"

            with m.State("END"):
                m.d.comb += [self.spike.valid.eq(1), self.spike.payload.end.eq(1)]
                with m.If(self.spike.ready):
                    m.next = "IDLE"

        with m.If(spike_out):
            m.d.comb += [self.spike.valid.eq(1), self.spike.payload.address.eq(neuron)]
        return m
