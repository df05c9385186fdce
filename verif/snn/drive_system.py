"""The accelerator system (`SnnSystem`) in Amaranth's simulator, driven through its host port
timestep by timestep as the host must (the next timestep once every end marker of this one is
back): the Amaranth-level driver of the system's tests."""

import random
from dataclasses import dataclass

from amaranth.sim import Simulator
from cimforge.hdl.snn.system import SnnSystem
from cimforge.params.snn_system import SystemOut
from cimforge.system_host import ends_per_step, parse_out, spike_of, step_program


@dataclass
class SystemRun:
    """`spikes[t]`: the addresses the host received at timestep t (sorted); `outs`: every
    output word after the timesteps (`system_host.Out`), in order."""
    spikes: list
    outs: list


def simulate(system, smap, load: list[int], events: list, reads: list[int], *,
             rng: random.Random | None = None, gap: float = 0.0, stall: float = 0.0,
             max_cycles: int = 400_000) -> SystemRun:
    """Loads with `load`, runs `events` (flat input addresses per timestep), then sends
    `reads` and collects one answer per word. The host waits `gap` of the cycles, the output
    is stalled with probability `stall`. Not done in `max_cycles`: the test fails."""
    rng = rng or random.Random(0)
    dut = SnnSystem(system)
    run = SystemRun([], [])
    ends = ends_per_step(smap)
    state = {"ends": 0, "spikes": [], "reading": False}

    async def send(ctx, words):
        for word in words:
            while rng.random() < gap:
                ctx.set(dut.host.valid, 0)
                await ctx.tick()
            ctx.set(dut.host.valid, 1)
            ctx.set(dut.host.payload.as_value(), word)
            await ctx.tick().until(dut.host.ready)
        ctx.set(dut.host.valid, 0)

    async def host(ctx):
        await send(ctx, load)
        for step in events:
            await send(ctx, step_program(system, smap, step))
            while state["ends"] < ends:
                await ctx.tick()
            run.spikes.append(sorted(state["spikes"]))
            state["ends"], state["spikes"] = 0, []
        state["reading"] = True
        await send(ctx, reads)

    async def sink(ctx):
        for _ in range(max_cycles):
            ready = rng.random() >= stall
            ctx.set(dut.out.ready, ready)
            if ready and ctx.get(dut.out.valid):
                out = parse_out(system, ctx.get(dut.out.payload.as_value()))
                if state["reading"]:
                    run.outs.append(out)
                elif out.kind == SystemOut.SPIKE:
                    end, address = spike_of(system, out)
                    if end:
                        state["ends"] += 1
                    else:
                        state["spikes"].append(address)
                else:
                    raise AssertionError(f"unexpected output word {out} while running")
            if len(run.spikes) == len(events) and len(run.outs) == len(reads):
                return
            await ctx.tick()
        raise AssertionError(f"the system did not finish in {max_cycles} cycles: "
                             f"{len(run.spikes)} of {len(events)} timesteps, "
                             f"{len(run.outs)} of {len(reads)} answers")

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(host, background=True)
    sim.add_testbench(sink)
    sim.run()
    return run
