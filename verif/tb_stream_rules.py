"""cocotb side of test_stream_rules: a `StreamSink` on a (possibly broken) counting source.

`good_source_passes` must run clean; `broken_source_is_caught` passes only if the sink's
checker stops the test with a `StreamProtocolError` naming the fault (`FAULT`)."""

import os
import random

import cocotb
from cimforge.verif import testbench
from cimforge.verif.stream_rules import StreamProtocolError
from cimforge.verif.streams import StreamSink
from cocotb.triggers import ClockCycles


async def run(dut):
    await testbench.reset(dut, idle={"go": 0})
    sink = StreamSink(dut.clk, (dut.out__valid, dut.out__ready, dut.out__payload),
                      rng=random.Random(cocotb.RANDOM_SEED), stall=0.5)
    await ClockCycles(dut.clk, 2)          # the sink watches before the source starts
    dut.go.value = 1
    await ClockCycles(dut.clk, 300)
    return sink


@cocotb.test()
async def good_source_passes(dut):
    sink = await run(dut)
    values = [v for _, v in sink.received]
    assert len(values) > 50 and values == list(range(1, len(values) + 1))


@cocotb.test(expect_error=StreamProtocolError)
async def broken_source_is_caught(dut):
    await run(dut)
    raise AssertionError(f"the {os.environ['FAULT']} fault went unnoticed")
