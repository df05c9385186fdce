"""UART host bridge: a framed request/reply protocol (`cimforge.params.uart_protocol`) that writes a
core's input streams, reads its output streams and reports its own error counters.

The bridge never waits forever: every request is answered (or, if it stops half-way, dropped
after `byte_timeout_bits` idle bit times and answered TRUNCATED), and stream operations give up
after `timeout` cycles. Bytes that arrive while a request is executed or answered are ignored
and counted.
"""

from amaranth.hdl import Array, Cat, Const, Module, Mux, Shape, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ...params import uart_protocol as proto
from .uart_rx import UartRx
from .uart_tx import UartTx


def crc8_step(m: Module, crc, byte):
    """CRC-8 (polynomial 0x07) of `crc` extended by `byte`: eight shift-and-XOR steps, each
    bit of the result an XOR of input bits (one signal per step keeps the netlist small)."""
    value = Signal(8)
    m.d.comb += value.eq(crc ^ byte)
    for _ in range(8):
        step = Signal(8)
        m.d.comb += step.eq(Mux(value[7], ((value << 1) ^ proto.CRC_POLY)[:8], (value << 1)[:8]))
        value = step
    return value


def stream_ports(core: wiring.Component) -> tuple[list[str], list[str]]:
    """Names of the core's input and output streams, each in name order."""
    inputs, outputs = [], []
    for name, member in sorted(core.signature.members.items()):
        if member.is_signature and isinstance(member.signature, stream.Signature):
            (outputs if member.flow == Out else inputs).append(name)
    return inputs, outputs


def payload_width(core, name) -> int:
    return Shape.cast(core.signature.members[name].signature.members["payload"].shape).width


class UartBridge(wiring.Component):
    """`rx`/`tx`: the UART lines. `core`: the wrapped component (its streams are driven here,
    its 1-bit plain outputs come out on `flags`, in name order)."""

    def __init__(self, core: wiring.Component, divisor: int, *, timeout: int = 1 << 16,
                 byte_timeout_bits: int = 64):
        self.core = core
        self.divisor, self.timeout = divisor, timeout
        self.byte_timeout = byte_timeout_bits * divisor
        self.inputs, self.outputs = stream_ports(core)
        self.flag_names = [n for n, m in sorted(core.signature.members.items())
                           if m.is_port and m.flow == Out and Shape.cast(m.shape).width == 1]
        if len(self.inputs) > 255 or len(self.outputs) > 255:
            raise ValueError("UartBridge: at most 255 input and 255 output streams")
        self.in_bytes = [proto.nbytes(payload_width(core, n)) for n in self.inputs]
        self.out_bytes = [proto.nbytes(payload_width(core, n)) for n in self.outputs]
        if max(self.in_bytes + self.out_bytes + [0]) > 254:
            raise ValueError("UartBridge: a stream wider than 254 bytes does not fit a frame")
        self.buffer_bytes = max([1 + b for b in self.in_bytes] + self.out_bytes +
                                [2 * len(proto.COUNTERS),
                                 2 + len(self.inputs) + len(self.outputs)])
        super().__init__({"rx": In(1, init=1), "tx": Out(1, init=1),
                          "flags": Out(max(1, len(self.flag_names)))})

    def elaborate(self, platform):
        m = Module()
        m.submodules.core = core = self.core
        m.submodules.uart_rx = rx = UartRx(self.divisor)
        m.submodules.uart_tx = tx = UartTx(self.divisor)
        m.d.comb += [rx.rx.eq(self.rx), self.tx.eq(tx.tx)]
        for i, name in enumerate(self.flag_names):
            m.d.comb += self.flags[i].eq(getattr(core, name))

        buffer = Signal(8 * self.buffer_bytes)
        op, length, status = Signal(8), Signal(8), Signal(8)
        crc = Signal(8)
        index = Signal(8)
        idle_timer = Signal(range(self.byte_timeout + 1))
        op_timer = Signal(range(self.timeout + 1))
        counters = Array(Signal(16, name=f"count_{n}") for n in proto.COUNTERS)
        count = {n: i for i, n in enumerate(proto.COUNTERS)}
        bump = Signal(len(proto.COUNTERS))          # counter strobes, added a cycle later
        bumped = Signal.like(bump)
        m.d.sync += bumped.eq(bump)
        for i in range(len(proto.COUNTERS)):
            m.d.sync += counters[i].eq(counters[i] + bumped[i])
        with m.If(rx.framing_error):
            m.d.comb += bump[count["framing_errors"]].eq(1)

        port = buffer[:8]
        in_bytes = Array(Const(b, 8) for b in self.in_bytes + [0])
        reply_len = Signal(8)

        def answer(code, payload_len=0):
            m.d.sync += [status.eq(code), reply_len.eq(payload_len), index.eq(0)]
            m.d.comb += bump[count[{proto.OK: "ok", proto.BAD_CRC: "bad_crc",
                                     proto.BAD_REQUEST: "bad_request",
                                     proto.TIMEOUT: "timeout",
                                     proto.TRUNCATED: "truncated"}[code]]].eq(1)
            m.next = "REPLY_SYNC"

        receiving = Signal()
        waiting = Signal()
        with m.FSM():
            with m.State("SYNC"):
                m.d.comb += waiting.eq(1)
                with m.If(rx.valid):
                    with m.If(rx.data == proto.REQUEST_SYNC):
                        m.d.sync += [crc.eq(0), idle_timer.eq(0)]
                        m.next = "OP"
                    with m.Else():
                        m.d.comb += bump[count["junk_bytes"]].eq(1)

            for state, nxt in (("OP", "LEN"), ("LEN", "PAYLOAD"), ("PAYLOAD", "CRC"),
                               ("CRC", "EXECUTE")):
                with m.State(state):
                    m.d.comb += receiving.eq(1)
                    with m.If(rx.valid):
                        m.d.sync += idle_timer.eq(0)
                        if state != "CRC":
                            m.d.sync += crc.eq(crc8_step(m, crc, rx.data))
                        if state == "OP":
                            m.d.sync += op.eq(rx.data)
                            m.next = nxt
                        elif state == "LEN":
                            m.d.sync += [length.eq(rx.data), index.eq(0)]
                            m.next = nxt
                            with m.If(rx.data == 0):
                                m.next = "CRC"
                        elif state == "PAYLOAD":
                            with m.If(index < self.buffer_bytes):
                                m.d.sync += buffer.word_select(index, 8).eq(rx.data)
                            m.d.sync += index.eq(index + 1)
                            with m.If(index == length - 1):
                                m.next = "CRC"
                        else:
                            m.d.sync += status.eq(Mux(rx.data == crc, proto.OK, proto.BAD_CRC))
                            m.next = "EXECUTE"
                    with m.Else():
                        m.d.sync += idle_timer.eq(idle_timer + 1)
                        with m.If(idle_timer == self.byte_timeout):
                            answer(proto.TRUNCATED)

            with m.State("EXECUTE"):
                m.d.sync += op_timer.eq(0)
                with m.If(status != proto.OK):
                    answer(proto.BAD_CRC)
                with m.Elif((op == proto.WRITE) & (port < len(self.inputs)) &
                            (length == in_bytes[port] + 1)):
                    m.next = "WRITE"
                with m.Elif((op == proto.READ) & (port < len(self.outputs)) & (length == 1)):
                    m.next = "READ"
                with m.Elif((op == proto.STATUS) & (length == 0)):
                    m.d.sync += buffer.eq(Cat(*counters))
                    answer(proto.OK, 2 * len(proto.COUNTERS))
                with m.Elif((op == proto.INFO) & (length == 0)):
                    m.d.sync += buffer.eq(Cat(Const(len(self.inputs), 8),
                                              Const(len(self.outputs), 8),
                                              *[Const(b, 8) for b in self.in_bytes],
                                              *[Const(b, 8) for b in self.out_bytes]))
                    answer(proto.OK, 2 + len(self.inputs) + len(self.outputs))
                with m.Else():
                    answer(proto.BAD_REQUEST)

            with m.State("WRITE"):
                m.d.sync += op_timer.eq(op_timer + 1)
                taken = Signal()
                with m.Switch(port):
                    for i, name in enumerate(self.inputs):
                        with m.Case(i):
                            sink = getattr(core, name)
                            m.d.comb += [sink.valid.eq(1), sink.payload.eq(buffer[8:]),
                                         taken.eq(sink.ready)]
                with m.If(taken):
                    answer(proto.OK)
                with m.Elif(op_timer == self.timeout):
                    answer(proto.TIMEOUT)

            with m.State("READ"):
                m.d.sync += op_timer.eq(op_timer + 1)
                with m.Switch(port):
                    for i, name in enumerate(self.outputs):
                        with m.Case(i):
                            source = getattr(core, name)
                            m.d.comb += source.ready.eq(1)
                            with m.If(source.valid):
                                m.d.sync += buffer.eq(source.payload)
                                answer(proto.OK, self.out_bytes[i])
                            with m.Elif(op_timer == self.timeout):
                                answer(proto.TIMEOUT)

            # Reply: sync, status, length, payload, crc.
            with m.State("REPLY_SYNC"):
                m.d.comb += [tx.data.valid.eq(1), tx.data.payload.eq(proto.REPLY_SYNC)]
                with m.If(tx.data.ready):
                    m.d.sync += crc.eq(0)
                    m.next = "REPLY_STATUS"
            with m.State("REPLY_STATUS"):
                m.d.comb += [tx.data.valid.eq(1), tx.data.payload.eq(status)]
                with m.If(tx.data.ready):
                    m.d.sync += crc.eq(crc8_step(m, crc, status))
                    m.next = "REPLY_LEN"
            with m.State("REPLY_LEN"):
                m.d.comb += [tx.data.valid.eq(1), tx.data.payload.eq(reply_len)]
                with m.If(tx.data.ready):
                    m.d.sync += crc.eq(crc8_step(m, crc, reply_len))
                    m.next = "REPLY_DATA"
                    with m.If(reply_len == 0):
                        m.next = "REPLY_CRC"
            with m.State("REPLY_DATA"):
                byte = buffer.word_select(index, 8)
                m.d.comb += [tx.data.valid.eq(1), tx.data.payload.eq(byte)]
                with m.If(tx.data.ready):
                    m.d.sync += [crc.eq(crc8_step(m, crc, byte)), index.eq(index + 1)]
                    with m.If(index == reply_len - 1):
                        m.next = "REPLY_CRC"
            with m.State("REPLY_CRC"):
                m.d.comb += [tx.data.valid.eq(1), tx.data.payload.eq(crc)]
                with m.If(tx.data.ready):
                    m.next = "SYNC"

        # Bytes that arrive while a request is executed or answered are ignored, and counted.
        with m.If(rx.valid & ~receiving & ~waiting):
            m.d.comb += bump[count["busy_bytes"]].eq(1)
        return m
