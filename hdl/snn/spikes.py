"""From the macro's spikes to the events a layer sends (`SpikeEncoder`)."""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ...params.snn import SnnCoreParams
from ..common.wire import struct_layout


class SpikeEncoder(wiring.Component):
    """The macro's spikes (each the MSB column of a fired lane, lowest first) of the FIREs of
    a layer, group by group in order, become `events` (`event_format`): lane -> channel, and
    the group's output position, pooled, as (channel, row, column) or, for a `flat` layer,
    channel * out_positions + position. Padding lanes (past the last channel) are consumed and
    dropped. `start` resets the walk for a new layer; `next_group` moves it on when a FIRE's
    spikes are all out (the controller's fence). Positions, pooled positions and flat
    addresses are kept by counters and adders, so nothing is divided or multiplied; `events`
    is registered (`events.valid` also says an event is still on its way)."""

    def __init__(self, params: SnnCoreParams):
        self.params = params
        super().__init__({
            "desc": In(struct_layout(params.descriptor_format)),
            "start": In(1),
            "next_group": In(1),
            "columns": In(stream.Signature(params.macro.col_bits)),
            "events": Out(stream.Signature(struct_layout(params.event_format))),
        })

    def elaborate(self, platform):
        m = Module()
        p, desc = self.params, self.desc
        columns, events = self.columns, self.events

        # The output position of the group being fired, and its pooled position.
        cg = Signal.like(desc.channel_groups)
        group_base = Signal(range(p.max_channels * 2 + p.cols))   # cg * lanes
        ox = Signal.like(desc.out_w)
        phase_x, phase_y = Signal.like(desc.pool_x), Signal.like(desc.pool_y)
        qx, qy = Signal.like(desc.pooled_w), Signal.like(desc.out_h)
        q_line = Signal.like(desc.out_positions)                  # qy * pooled_w
        # The MSB column of the lane the next spike can be in.
        msb = Signal(range(2 * p.cols + 1))
        # Flat: channel * out_positions = group_flat + lane_flat (lane_flat: the lane's part).
        group_flat, lane_flat = Signal.like(desc.out_positions), Signal.like(desc.out_positions)

        # The lane's channel, and whether it is past the last one (a padding lane), kept in
        # registers: they decide the macro's spike ready, a path that must stay short.
        channel = Signal.like(group_base)
        padding = Signal()

        def to_channel(value):
            m.d.sync += [channel.eq(value), padding.eq(value >= desc.channels)]

        take = ~events.valid | events.ready
        with m.If(events.ready):
            m.d.sync += events.valid.eq(0)
        with m.If(columns.valid):
            with m.If(msb < columns.payload):
                # Spikes come lowest column first: step to the lane this one ends.
                m.d.sync += [msb.eq(msb + desc.lane_width),
                             lane_flat.eq(lane_flat + desc.out_positions)]
                to_channel(channel + 1)
            with m.Elif(padding):
                m.d.comb += columns.ready.eq(1)                   # a padding lane
            with m.Elif(take):
                m.d.comb += columns.ready.eq(1)
                m.d.sync += [
                    events.valid.eq(1),
                    events.payload.c.eq(Mux(desc.flat, group_flat + lane_flat + q_line + qx,
                                            channel)),
                    events.payload.y.eq(Mux(desc.flat, 0, qy)),
                    events.payload.x.eq(Mux(desc.flat, 0, qx)),
                ]

        with m.If(self.next_group):
            m.d.sync += [msb.eq(desc.lane_width - 1), lane_flat.eq(0)]
            with m.If(cg == desc.channel_groups - 1):
                m.d.sync += [cg.eq(0), group_base.eq(0), group_flat.eq(0)]
                to_channel(0)
                with m.If(ox == desc.out_w - 1):
                    m.d.sync += [ox.eq(0), qx.eq(0), phase_x.eq(0)]
                    with m.If(phase_y == desc.pool_y - 1):
                        m.d.sync += [phase_y.eq(0), qy.eq(qy + 1),
                                     q_line.eq(q_line + desc.pooled_w)]
                    with m.Else():
                        m.d.sync += phase_y.eq(phase_y + 1)
                with m.Else():
                    m.d.sync += ox.eq(ox + 1)
                    with m.If(phase_x == desc.pool_x - 1):
                        m.d.sync += [phase_x.eq(0), qx.eq(qx + 1)]
                    with m.Else():
                        m.d.sync += phase_x.eq(phase_x + 1)
            with m.Else():
                m.d.sync += [cg.eq(cg + 1), group_base.eq(group_base + desc.lanes),
                             group_flat.eq(group_flat + desc.group_positions)]
                to_channel(group_base + desc.lanes)
        with m.If(self.start):
            m.d.sync += [cg.eq(0), group_base.eq(0), ox.eq(0), qx.eq(0), qy.eq(0),
                         phase_x.eq(0), phase_y.eq(0), q_line.eq(0),
                         msb.eq(desc.lane_width - 1), lane_flat.eq(0),
                         group_flat.eq(0)]
            to_channel(0)
        return m
