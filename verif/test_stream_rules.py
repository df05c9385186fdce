"""The stream protocol checker catches sources that break the valid/ready rules.

A small Amaranth source offers a counter on a stream; with `breaks` set it misbehaves once:
`drop` withdraws valid while stalled, `change` adds 100 to the payload while stalled. The
checker must pass the good source and name the broken one's fault, in Amaranth's simulator
and, through `StreamSink`, in Icarus and Verilator.
"""

import pytest
from amaranth.back import verilog
from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator
from cimforge.verif import seeds
from cimforge.verif.stream_rules import StreamProtocolError, checked
from cocotb_test.simulator import run

BREAKS = ("none", "drop", "change")


class CountingSource(wiring.Component):
    """Offers 1, 2, 3, ... on `out`; in the second cycle that an offer waits, it breaks the
    rules as told, once."""

    def __init__(self, breaks: str):
        self.breaks = breaks
        super().__init__({"out": Out(stream.Signature(8)), "go": In(1)})

    def elaborate(self, platform):
        m = Module()
        value = Signal(8, init=1)
        stalled = Signal(8)          # cycles the current offer has waited
        broken = Signal()
        m.d.comb += [self.out.valid.eq(self.go), self.out.payload.eq(value)]
        with m.If(self.out.valid & self.out.ready):
            m.d.sync += [value.eq(value + 1), stalled.eq(0)]
        with m.Elif(self.out.valid):
            m.d.sync += stalled.eq(stalled + 1)
        misbehave = (stalled == 1) & ~broken
        if self.breaks == "drop":
            with m.If(misbehave):
                m.d.comb += self.out.valid.eq(0)
                m.d.sync += broken.eq(1)
        elif self.breaks == "change":
            with m.If(misbehave):
                m.d.comb += self.out.payload.eq(value + 100)
                m.d.sync += broken.eq(1)
        return m


def run_amaranth(breaks: str, rng) -> list[int]:
    dut = CountingSource(breaks)
    received = []

    async def sink(ctx):
        ctx.set(dut.go, 1)
        held = 0
        for _ in range(200):
            # Random backpressure, and the 5th offer stalled for its first three cycles.
            fifth = len(received) == 4
            held = held + 1 if fifth else 0
            ready = (held > 3) if fifth else rng.random() < 0.5
            ctx.set(dut.out.ready, ready)
            if ready and ctx.get(dut.out.valid):
                received.append(ctx.get(dut.out.payload))
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(checked(dut.out, "out"), background=True)
    sim.add_testbench(sink)
    sim.run()
    return received


@pytest.mark.parametrize("breaks", BREAKS)
def test_checker_in_amaranth(breaks):
    rng = seeds.rng("stream-rules", breaks)
    if breaks == "none":
        received = run_amaranth(breaks, rng)
        assert len(received) > 10 and received == list(range(1, len(received) + 1))
        return
    message = "valid dropped" if breaks == "drop" else r"payload changed from 0x\w+ to 0x\w+"
    with pytest.raises(StreamProtocolError, match=message):
        run_amaranth(breaks, rng)


@pytest.mark.parametrize("breaks", BREAKS)
def test_checker_in_cocotb(sim, breaks, tmp_path):
    """`StreamSink` on the emitted Verilog: the good source must pass, and a broken one must
    end its test with a `StreamProtocolError` (cocotb's `expect_error` in tb_stream_rules)."""
    source = tmp_path / "counting_source.v"
    source.write_text(verilog.convert(CountingSource(breaks), name="counting_source"))
    extra = {"compile_args": ["-g2005"]} if sim == "icarus" else {"compile_args": ["-Wno-fatal"]}
    run(simulator=sim, toplevel="counting_source", module="cimforge.verif.tb_stream_rules",
        testcase="good_source_passes" if breaks == "none" else "broken_source_is_caught",
        verilog_sources=[str(source)], sim_build=str(tmp_path / sim), timescale="1ns/1ps",
        extra_env={"FAULT": breaks}, seed=seeds.session_seed(), **extra)
