"""From a layer's queued input events to the ACCs they make: `EventDecoder` works out where each
event's kernel taps start, `TapWalker` walks them. A linear layer is a 1 x 1 convolution of
`inputs` channels on a 1 x 1 map (`SnnCoreParams.descriptor_format`), so both serve both.

An event (c, y, x) of a convolution touches output (oy, ox) through tap (ky, kx) when
y + pad_y = oy * stride_y + ky (and likewise in x), with ky < kh and 0 <= oy < out_h. Walking
ky upwards from the first such tap, oy steps down by one and ky up by the stride; the first is
ky0 = (y + pad_y) % stride_y + j * stride_y with j the rows skipped below the map's bottom edge.
The walker issues taps in (ky, kx, channel group) order, the order of the golden model
(`CoreModel._targets`).
"""

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from ...params.snn import SnnCoreParams
from ...params.wire import bits
from ..common.wire import struct_layout


def step_width(params: SnnCoreParams) -> int:
    """Row offsets into the macro or the buffer (weights of os layers, chunked membranes)."""
    return bits(max(params.rows, params.buffer_rows) + 1)


def event_start_layout(params: SnnCoreParams) -> data.StructLayout:
    """Where one event's taps start: the first tap (ky, kx) and the output (oy, ox) it lands
    on; `weights`: that tap's weight operand for channel group 0, in rows from the first
    operand; `membranes`: the output position's first membrane row, from the layer's first."""
    side, kernel = bits(params.max_map + 1), bits(params.max_kernel + 1)
    return data.StructLayout({
        "weights": step_width(params), "membranes": step_width(params),
        "ky": kernel, "kx": kernel, "oy": side, "ox": side,
        "empty": 1,                 # no tap lands inside the output map
        "last": 1,                  # the layer's last queued event
    })


class EventDecoder(wiring.Component):
    """Reads events `0..count-1` of queue `bank` after a `start` strobe and sends each one's
    `event_start_layout` on `starts`. Three registered stages (divide by the stride; skip rows
    past the map; multiply into row offsets) with backpressure, running ahead of the walker so
    that it can take a new event every cycle."""

    def __init__(self, params: SnnCoreParams):
        self.params = params
        super().__init__({
            "desc": In(struct_layout(params.descriptor_format)),
            "start": In(1),
            "count": In(range(params.queue_depth + 1)),
            "bank": In(1),
            "queue_addr": Out(bits(2 * params.queue_depth)),
            "queue_en": Out(1),
            "queue_data": In(params.event_format.size),
            "starts": Out(stream.Signature(event_start_layout(params))),
        })

    def elaborate(self, platform):
        m = Module()
        p, desc = self.params, self.desc
        index_bits = bits(p.queue_depth)
        side, kernel = bits(p.max_map + 1), bits(p.max_kernel + 1)

        k = Signal(range(p.queue_depth + 1))
        running = Signal()
        with m.If(self.start):
            m.d.sync += [k.eq(0), running.eq(self.count != 0)]

        # Stage 1: the queue's read data; 2: quotient and remainder by the stride; 3: the
        # first tap; then the output register.
        v1, v2, v3 = Signal(), Signal(), Signal()
        last1, last2, last3 = Signal(), Signal(), Signal()
        out = self.starts
        adv_out = ~out.valid | out.ready
        adv3 = ~v3 | adv_out
        adv2 = ~v2 | adv3
        adv1 = ~v1 | adv2

        issue = running & ~self.start
        m.d.comb += [self.queue_addr.eq(Cat(k[:index_bits], self.bank)),
                     self.queue_en.eq(adv1)]
        with m.If(adv1 & ~self.start):
            m.d.sync += [v1.eq(issue), last1.eq(k == self.count - 1)]
            with m.If(issue):
                m.d.sync += k.eq(k + 1)
                with m.If(k == self.count - 1):
                    m.d.sync += running.eq(0)

        event = data.View(struct_layout(p.event_format), self.queue_data)
        c2 = Signal.like(event.c)
        qy, qx = Signal(side + 1), Signal(side + 1)
        ry, rx = Signal(kernel), Signal(kernel)
        with m.If(adv2):
            ty, tx = event.y + desc.pad_y, event.x + desc.pad_x
            m.d.sync += [v2.eq(v1), last2.eq(last1), c2.eq(event.c),
                         qy.eq(ty // desc.stride_y), ry.eq(ty % desc.stride_y),
                         qx.eq(tx // desc.stride_x), rx.eq(tx % desc.stride_x)]

        c3 = Signal.like(c2)
        ky, kx = Signal(kernel + side + 1), Signal(kernel + side + 1)
        oy, ox = Signal(side), Signal(side)
        with m.If(adv3):
            # Rows (columns) below the map's far edge are skipped: j of them.
            jy = Mux(qy >= desc.out_h, qy - desc.out_h + 1, 0)
            jx = Mux(qx >= desc.out_w, qx - desc.out_w + 1, 0)
            m.d.sync += [v3.eq(v2), last3.eq(last2), c3.eq(c2),
                         ky.eq(ry + jy * desc.stride_y), oy.eq(qy - jy),
                         kx.eq(rx + jx * desc.stride_x), ox.eq(qx - jx)]

        with m.If(adv_out):
            m.d.sync += [
                out.valid.eq(v3),
                out.payload.last.eq(last3),
                out.payload.empty.eq((ky >= desc.kh) | (kx >= desc.kw)),
                out.payload.ky.eq(ky), out.payload.kx.eq(kx),
                out.payload.oy.eq(oy), out.payload.ox.eq(ox),
                out.payload.weights.eq(c3 * desc.channel_weights + ky * desc.line_weights
                                       + kx * desc.s_w),
                out.payload.membranes.eq(oy * desc.line_rows + ox * desc.position_rows),
            ]
        return m


class TapWalker(wiring.Component):
    """Walks each event's taps, and per tap the channel groups `cg_first..cg_last` of the
    current chunk, sending one `targets` entry (weight operand offset, membrane row) per ACC.
    A convolution's taps on output positions outside the chunk's membrane rows `[m0, m1)` are
    passed over (a cycle each). `done` rises once the event marked `last` is walked; `restart`
    clears it for the next chunk."""

    def __init__(self, params: SnnCoreParams):
        self.params = params
        width = step_width(params)
        super().__init__({
            "desc": In(struct_layout(params.descriptor_format)),
            "starts": In(stream.Signature(event_start_layout(params))),
            "restart": In(1),
            "m0": In(width), "m1": In(width),
            "cg_first": In(range(params.max_channels + 1)),
            "cg_last": In(range(params.max_channels + 1)),
            "w_first": In(width), "v_first": In(width),
            "targets": Out(stream.Signature(data.StructLayout({
                "weights": width,                     # the operand's first row, offset
                "membrane": params.macro.addr_width,  # the membrane group's first macro row
            }))),
            "done": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        desc, start = self.desc, self.starts.payload
        layout = event_start_layout(self.params)
        width = step_width(self.params)

        busy, last = Signal(), Signal()
        ky, kx, oy, ox = (Signal(layout[name].shape, name=name) for name in ("ky", "kx", "oy",
                                                                              "ox"))
        kx0, ox0 = Signal.like(kx), Signal.like(ox)
        w_line, w_tap, m_line, m_tap = (Signal(width, name=name) for name in (
            "w_line", "w_tap", "m_line", "m_tap"))
        cg = Signal.like(self.cg_first)
        w_cg, v_cg = Signal(width), Signal(width)

        in_chunk = ~desc.conv | ((m_tap >= self.m0) & (m_tap < self.m1))
        target = self.targets
        m.d.comb += [target.valid.eq(busy & in_chunk),
                     target.payload.weights.eq(w_tap + w_cg),
                     target.payload.membrane.eq(desc.membrane_rows + m_tap + v_cg - self.m0)]
        step = busy & (~in_chunk | target.ready)
        more_cg = in_chunk & (cg < self.cg_last)
        more_x = (kx + desc.stride_x < desc.kw) & (ox != 0)
        more_y = (ky + desc.stride_y < desc.kh) & (oy != 0)
        finishing = step & ~more_cg & ~more_x & ~more_y
        m.d.comb += self.starts.ready.eq(~busy | finishing)

        with m.If(step):
            with m.If(more_cg):
                m.d.sync += [cg.eq(cg + 1), w_cg.eq(w_cg + desc.group_weights),
                             v_cg.eq(v_cg + desc.s_v)]
            with m.Else():
                m.d.sync += [cg.eq(self.cg_first), w_cg.eq(self.w_first),
                             v_cg.eq(self.v_first)]
                with m.If(more_x):
                    m.d.sync += [kx.eq(kx + desc.stride_x), ox.eq(ox - 1),
                                 w_tap.eq(w_tap + desc.stride_x_weights),
                                 m_tap.eq(m_tap - desc.position_rows)]
                with m.Elif(more_y):
                    m.d.sync += [ky.eq(ky + desc.stride_y), oy.eq(oy - 1),
                                 kx.eq(kx0), ox.eq(ox0),
                                 w_line.eq(w_line + desc.stride_y_weights),
                                 w_tap.eq(w_line + desc.stride_y_weights),
                                 m_line.eq(m_line - desc.line_rows),
                                 m_tap.eq(m_line - desc.line_rows)]
                with m.Else():
                    m.d.sync += busy.eq(0)
                    with m.If(last):
                        m.d.sync += self.done.eq(1)

        with m.If(self.starts.valid & self.starts.ready):
            with m.If(start.empty):
                m.d.sync += busy.eq(0)
                with m.If(start.last):
                    m.d.sync += self.done.eq(1)
            with m.Else():
                m.d.sync += [
                    busy.eq(1), last.eq(start.last),
                    ky.eq(start.ky), kx.eq(start.kx), oy.eq(start.oy), ox.eq(start.ox),
                    kx0.eq(start.kx), ox0.eq(start.ox),
                    w_line.eq(start.weights), w_tap.eq(start.weights),
                    m_line.eq(start.membranes), m_tap.eq(start.membranes),
                    cg.eq(self.cg_first), w_cg.eq(self.w_first), v_cg.eq(self.v_first)]
        with m.If(self.restart):
            m.d.sync += self.done.eq(0)
        return m
