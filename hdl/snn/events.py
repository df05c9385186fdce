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

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value
from amaranth.lib import data, stream, wiring
from amaranth.lib.fifo import SyncFIFOBuffered
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


def _divide(steps, dividend, remainder, quotient, divisor):
    """`steps` steps of restoring division, most significant dividend bit first: the dividend
    shifts out to the left as the remainder and quotient take its bits. Two steps per pipeline
    stage keep each stage to two short subtract-compare chains."""
    for _ in range(steps):
        width = len(dividend)
        trial = Cat(dividend[-1], remainder)
        fits = trial >= divisor
        remainder = Mux(fits, trial - divisor, trial)[:len(remainder)]
        quotient = Cat(fits, quotient)[:len(quotient)]
        dividend = Cat(Const(0, 1), dividend)[:width]
    return dividend, remainder, quotient


class EventDecoder(wiring.Component):
    """Reads events `0..count-1` of the current queue after a `start` strobe and sends each one's
    `event_start_layout` on `starts`. A pipeline of registered stages with backpressure
    (divide by the stride two bits a stage; skip rows past the map; the first tap; multiply
    into row offsets) and a 3-entry FIFO, running ahead of the walker so that it can take a
    new event every cycle."""

    def __init__(self, params: SnnCoreParams):
        self.params = params
        super().__init__({
            "desc": In(struct_layout(params.descriptor_format)),
            "start": In(1),
            "count": In(range(params.queue_depth + 1)),
            "queue_index": Out(bits(params.queue_depth)),
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

        # What each stage computes from the one before (a dict of named values).
        event = data.View(struct_layout(p.event_format), self.queue_data)
        dividend = len(Value.cast(event.y + desc.pad_y))          # bits of y + pad_y

        def begin(_):
            return {"c": event.c, "ny": event.y + desc.pad_y, "nx": event.x + desc.pad_x,
                    "ry": Const(0, kernel), "rx": Const(0, kernel),
                    "qy": Const(0, dividend), "qx": Const(0, dividend)}

        def divide(v, steps):
            ny, ry, qy = _divide(steps, v["ny"], v["ry"], v["qy"], desc.stride_y)
            nx, rx, qx = _divide(steps, v["nx"], v["rx"], v["qx"], desc.stride_x)
            return {**v, "ny": ny, "ry": ry, "qy": qy, "nx": nx, "rx": rx, "qx": qx}

        def skip(v):
            # Rows (columns) past the map's far edge are skipped: j of them.
            return {"c": v["c"], "ry": v["ry"], "rx": v["rx"], "qy": v["qy"], "qx": v["qx"],
                    "jy": Mux(v["qy"] >= desc.out_h, v["qy"] - desc.out_h + 1, 0),
                    "jx": Mux(v["qx"] >= desc.out_w, v["qx"] - desc.out_w + 1, 0)}

        def first_tap(v):
            return {"c": v["c"],
                    "ky": v["ry"] + v["jy"] * desc.stride_y, "oy": (v["qy"] - v["jy"])[:side],
                    "kx": v["rx"] + v["jx"] * desc.stride_x, "ox": (v["qx"] - v["jx"])[:side]}

        stages = [begin]
        for done in range(0, dividend, 2):
            stages.append(lambda v, steps=min(2, dividend - done): divide(v, steps))
        stages += [skip, first_tap]

        # The last stage multiplies into a register, which feeds a small FIFO: its ready does
        # not depend on the walker's in the same cycle, so no combinational path runs from
        # the walker through every stage's advance.
        m.submodules.fifo = fifo = SyncFIFOBuffered(width=len(self.starts.payload.as_value()),
                                                    depth=3)
        out = Signal(event_start_layout(p))
        out_valid = Signal()
        m.d.comb += [fifo.w_data.eq(out), fifo.w_en.eq(out_valid),
                     self.starts.valid.eq(fifo.r_rdy), self.starts.payload.eq(fifo.r_data),
                     fifo.r_en.eq(self.starts.ready)]
        valids = [Signal(name=f"valid{i}") for i in range(len(stages) + 1)]   # 0: queue data
        lasts = [Signal(name=f"last{i}") for i in range(len(stages) + 1)]
        advances = [None] * (len(stages) + 1)
        advance_out = ~out_valid | fifo.w_rdy
        following = advance_out
        for i in reversed(range(len(valids))):
            advances[i] = ~valids[i] | following
            following = advances[i]

        # Stage 0: the queue's read port (its data register holds while the stage waits).
        issue = running & ~self.start
        m.d.comb += [self.queue_index.eq(k[:index_bits]),
                     self.queue_en.eq(advances[0])]
        with m.If(advances[0] & ~self.start):
            m.d.sync += [valids[0].eq(issue), lasts[0].eq(k == self.count - 1)]
            with m.If(issue):
                m.d.sync += k.eq(k + 1)
                with m.If(k == self.count - 1):
                    m.d.sync += running.eq(0)

        values = {}
        for i, stage in enumerate(stages, 1):
            computed = stage(values)
            registers = {name: Signal.like(Value.cast(value), name=f"{name}{i}")
                         for name, value in computed.items()}
            with m.If(advances[i]):
                m.d.sync += [valids[i].eq(valids[i - 1]), lasts[i].eq(lasts[i - 1])]
                m.d.sync += [registers[name].eq(value) for name, value in computed.items()]
            values = registers

        with m.If(advance_out):
            m.d.sync += [
                out_valid.eq(valids[-1]),
                out.last.eq(lasts[-1]),
                out.empty.eq((values["ky"] >= desc.kh) | (values["kx"] >= desc.kw)),
                out.ky.eq(values["ky"]), out.kx.eq(values["kx"]),
                out.oy.eq(values["oy"]), out.ox.eq(values["ox"]),
                out.weights.eq(values["c"] * desc.channel_weights
                               + values["ky"] * desc.line_weights + values["kx"] * desc.s_w),
                out.membranes.eq(values["oy"] * desc.line_rows
                                 + values["ox"] * desc.position_rows),
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
