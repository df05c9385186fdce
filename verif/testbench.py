"""The start of every cocotb testbench: configuration, clock, reset, idle streams, seed."""

import json
import random
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles

from .harness import MEASUREMENTS, testbench_config

CLOCK_NS = 10


async def start(dut, *, sources=(), sinks=(), idle=None):
    """`reset` the DUT with these streams and ports idle, then return the configuration under
    test, the launcher's arguments and a generator seeded from cocotb's RANDOM_SEED (the run's
    `--seed`)."""
    params, args = testbench_config()
    await reset(dut, sources=sources, sinks=sinks, idle=idle)
    return params, args, random.Random(cocotb.RANDOM_SEED)


async def reset(dut, *, sources=(), sinks=(), idle=None, reset_cycles: int = 3):
    """Start the clock and hold `rst` for `reset_cycles` cycles with the streams idle: valid low
    on every `sources` prefix (streams into the DUT, `s_axis_...`), ready low on every `sinks`
    prefix (`m_axis_...`), and any other `idle` port values set."""
    Clock(dut.clk, CLOCK_NS, unit="ns").start()
    dut.rst.value = 1
    for prefix in sources:
        getattr(dut, f"{prefix}_tvalid").value = 0
    for prefix in sinks:
        getattr(dut, f"{prefix}_tready").value = 0
    for name, value in (idle or {}).items():
        getattr(dut, name).value = value
    await ClockCycles(dut.clk, reset_cycles)
    dut.rst.value = 0


def measure(name: str, value) -> None:
    """Record a measurement of this run (any JSON value) in the run folder, where
    `harness.measurements(run)` reads it back: testbenches report what they measured, and the
    benchmarks decide what to keep."""
    path = Path(MEASUREMENTS)              # cocotb runs in the run folder
    values = json.loads(path.read_text()) if path.exists() else {}
    values[name] = value
    path.write_text(json.dumps(values, indent=1))
