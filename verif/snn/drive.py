"""An accelerator core (`SnnCore`) in Amaranth's simulator, driven through its host port: the
one driver of the core's Amaranth-level tests."""

import random
from dataclasses import dataclass

from amaranth.sim import Simulator
from cimforge.hdl.snn.core import SnnCore


@dataclass
class CoreRun:
    """`issued`: every macro command the core issued (the host's MACRO commands included);
    `spikes`: output spikes per timestep; `rdata`: the read-data words, in order."""
    issued: list
    spikes: list
    rdata: list


def simulate(params, words: list[int], *, timesteps: int, answers: int,
             rng: random.Random | None = None, stall: float = 0.0,
             max_cycles: int = 200_000) -> CoreRun:
    """Sends `words` on the host port (valid whenever there is a word); runs until `timesteps`
    end markers and `answers` read-data words are in, the spike and read-data ports stalled
    with probability `stall`. A core that does not get there in `max_cycles` fails the test."""
    rng = rng or random.Random(0)
    dut = SnnCore(params)
    run = CoreRun([], [], [])

    async def host(ctx):
        for word in words:
            ctx.set(dut.host.valid, 1)
            ctx.set(dut.host.payload.as_value(), word)
            await ctx.tick().until(dut.host.ready)
        ctx.set(dut.host.valid, 0)

    async def monitor(ctx):
        async for _, _, valid, ready, word in ctx.tick().sample(
                dut.macro.cmd.valid, dut.macro.cmd.ready, dut.macro.cmd.payload.as_value()):
            if valid and ready:
                run.issued.append(word)

    async def sink(ctx):
        current = []
        for _ in range(max_cycles):
            ready, rready = rng.random() >= stall, rng.random() >= stall
            ctx.set(dut.spike.ready, ready)
            ctx.set(dut.rdata.ready, rready)
            if ready and ctx.get(dut.spike.valid):
                payload = ctx.get(dut.spike.payload)
                if payload["end"]:
                    run.spikes.append(current)
                    current = []
                else:
                    current.append(payload["address"])
            if rready and ctx.get(dut.rdata.valid):
                run.rdata.append(ctx.get(dut.rdata.payload))
            if len(run.spikes) == timesteps and len(run.rdata) == answers:
                return
            await ctx.tick()
        raise AssertionError(f"hung: {len(run.spikes)} of {timesteps} timesteps ended, "
                             f"{len(run.rdata)} of {answers} read-data words in")

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(host, background=True)
    sim.add_process(monitor)
    sim.add_testbench(sink)
    sim.run()
    return run
