"""Benchmarks of the CIM macro at its ports (Amaranth's simulator): cycles per command, back to
back, for every preset. Part of `make bench` (`cimforge.bench`)."""

from amaranth.sim import Simulator

from .blocks import get
from .golden.cim import Counter, LayerConfig, Op, encode, modes_for
from .hdl.cim.macro import CimMacro

OP_PRESETS = ["flexspim", "tinyodin", "ice40", "icebreaker"]
OP_SLICES = (1, 2, 4)
# Measured at the ports before the fire queue and the deeper queues (commit 70653f3): cycles
# per command, back to back.
OPS_BEFORE = {
    "flexspim": {"ACC": 1, "LOAD": 1, "STORE": 1.25, "FIRE": {"1": 7, "2": 8, "4": 10}},
    "tinyodin": {"ACC": 1, "LOAD": 1, "STORE": 1.25, "FIRE": {"1": 7, "2": 8, "4": 10}},
    "ice40": {"ACC": 2, "LOAD": 2, "STORE": 2.5, "FIRE": {"1": 7, "2": 8, "4": 10}},
    "icebreaker": {"ACC": 2, "LOAD": 2, "STORE": 2.5, "FIRE": {"1": 7, "2": 8, "4": 10}},
}


class MacroPorts:
    """A testbench's view of the macro's ports: commands offered back to back, read-data
    always taken (and time-stamped), spikes always taken, one clock counter."""

    def __init__(self, ctx, dut):
        self.ctx, self.dut, self.cycle, self.reads = ctx, dut, 0, []
        ctx.set(dut.rdata.ready, 1)
        ctx.set(dut.spike.ready, 1)

    async def tick(self):
        if self.ctx.get(self.dut.rdata.valid):
            self.reads.append((self.cycle, self.ctx.get(self.dut.rdata.payload)))
        await self.ctx.tick()
        self.cycle += 1

    async def send(self, words) -> list[int]:
        """Offers `words` back to back; the cycle each one was accepted."""
        accepted = []
        self.ctx.set(self.dut.cmd.valid, 1)
        for word in words:
            self.ctx.set(self.dut.cmd.payload.as_value(), word)
            while not self.ctx.get(self.dut.cmd.ready):
                await self.tick()
            accepted.append(self.cycle)
            await self.tick()
        self.ctx.set(self.dut.cmd.valid, 0)
        return accepted

    async def read(self, count: int) -> list[tuple[int, int]]:
        """The next `count` read-data words, as (cycle, value)."""
        while len(self.reads) < count:
            await self.tick()
        got, self.reads[:] = self.reads[:count], self.reads[count:]
        return got


def simulate(params, testbench) -> None:
    dut = CimMacro(params)

    async def bench(ctx):
        await testbench(MacroPorts(ctx, dut))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()


def measure_op_cycles(params, cases, events: int) -> dict:
    """Cycles per command of each case (label, setup words, command, read-data words per
    command), back to back at the ports: (T(2N) - T(N)) / N, T(N) from the first of N commands
    accepted to the answer of a COUNTER read queued behind them, so fixed costs cancel."""
    marker = encode(params, Op.COUNTER, Counter.BUSY)
    out = {}

    async def testbench(ports):
        for label, setup, word, answers in cases:
            span = {}
            for count in (events, 2 * events):
                await ports.send(setup + [marker])
                await ports.read(1)
                first = (await ports.send([word] * count + [marker]))[0]
                span[count] = (await ports.read(count * answers + 1))[-1][0] - first
            out[label] = (span[2 * events] - span[events]) / events

    simulate(params, testbench)
    return out


def op_cases(params) -> list:
    """ACC and FIRE over n-slice operands (FIRE where no lane fires: a membrane of -1 against a
    threshold of 0, so the spike port is not what is measured), LOAD and STORE."""
    width = min(8, params.lane_limit)
    lanes = params.cols // width
    cases = []
    for n in OP_SLICES:
        if n > params.max_slices:
            continue
        config = LayerConfig(modes_for([width] * lanes, params.cols), width, n * width, False)
        setup = [encode(params, *c) for c in config.commands(params)]
        setup += [encode(params, Op.LOAD, row, 0, (1 << params.cols) - 1) for row in range(n)]
        half = params.rows // 2
        cases += [(f"ACC/{n}", setup, encode(params, Op.ACC, half, 0), 0),
                  (f"FIRE/{n}", setup, encode(params, Op.FIRE, 0, half), 0)]
        if n == 1:
            cases += [("LOAD", setup, encode(params, Op.LOAD, 3, 0, 5), 0),
                      ("STORE", setup, encode(params, Op.STORE, 3), 1)]
    return cases


def bench_cim_ops(work, quick: bool) -> list[dict]:
    rows = []
    for preset in OP_PRESETS:
        params = get("cim_macro").configure(preset)
        cycles = measure_op_cycles(params, op_cases(params), 8 if quick else 32)
        rows.append({"preset": preset, "cmd_depth": params.cmd_depth,
                     "rdata_depth": params.rdata_depth, "fire_queue": params.fire_queue,
                     "cycles": cycles, "before": OPS_BEFORE.get(preset)})
        print(f"  cim ops {preset}: " + ", ".join(f"{k} {v:g}" for k, v in cycles.items()))
    return rows


def render_ops(rows: list[dict]) -> list[str]:
    lines = ["## CIM macro: cycles per command at the ports", "",
             "Each command offered back to back, read-data and spikes always taken; (T(2N) - "
             "T(N)) / N with N = 32, T(N) from the first command accepted to the answer of a "
             "COUNTER read behind them (Amaranth's simulator). FIRE/n: n-slice membranes where "
             "no lane fires (the spike port is not what is measured). Targets: one command per "
             "clock, FIRE within 2n + 2, STORE one per clock. Before: the same measurement at "
             "commit 70653f3, before the fire queue (`fire_queue`) and the deeper read-data "
             "queue (`rdata_depth` 5); the iCE40 presets keep their short queues to fit the "
             "UP5K, and `tinyodin` has no fire queue and a read-data queue of 4 to fit the "
             "ECP5-25F (a fire queue of 2 took it to 24 634 of 24 288 logic cells); their "
             "documentation states these rates.", "",
             "| preset | cmd / rdata / fire queue | ACC | LOAD | STORE | FIRE n=1 | FIRE n=2 | "
             "FIRE n=4 | 2n + 2 | before: ACC, STORE, FIRE n=1/2/4 |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        c, b = r["cycles"], r["before"]
        fire = [c.get(f"FIRE/{n}") for n in OP_SLICES]
        met = all(f is None or f <= 2 * n + 2 for f, n in zip(fire, OP_SLICES))
        before = (f"{b['ACC']:g}, {b['STORE']:g}, "
                  + "/".join(f"{b['FIRE'][str(n)]:g}" for n in OP_SLICES)) if b else ""
        lines.append(f"| {r['preset']} | {r['cmd_depth']} / {r['rdata_depth']} / "
                     f"{r['fire_queue']} | {c['ACC/1']:g} | {c['LOAD']:g} | {c['STORE']:g} | "
                     + " | ".join("" if f is None else f"{f:g}" for f in fire)
                     + f" | {'met' if met else 'not met'} | {before} |")
    return lines + [""]


GOLDEN_SHAPES = [(8, 16, False), (8, 16, True), (4, 12, False), (1, 8, False)]


def bench_cim_golden(work, quick: bool) -> list[dict]:
    """The macro's golden model on one core: ACC events per second and SOP/s on the `flexspim`
    preset, events as a core issues them (random weight rows into 4 membrane groups), through
    `run` (batched ACCs) and through `execute` command by command (the slice-by-slice walk,
    the model before the batch path). Best of three runs."""
    import random
    import time

    from .golden.cim import CimMacroModel
    params = get("cim_macro").configure("flexspim")
    rows = []
    for b_w, b_v, saturate in GOLDEN_SHAPES:
        lane = max(b_w, -(-b_v // params.max_slices))
        config = LayerConfig(modes_for([lane] * (params.cols // lane), params.cols), b_w, b_v,
                             saturate=saturate)
        rng = random.Random(1)
        setup = [encode(params, *c) for c in config.commands(params)]
        setup += [encode(params, Op.LOAD, r, 0, rng.getrandbits(params.cols))
                  for r in range(params.rows)]
        n = config.n
        weights = min(64, params.rows // n - 4)
        events = [encode(params, Op.ACC, rng.randrange(weights) * n,
                         weights * n + rng.randrange(4) * n) for _ in range(40_000)]
        row = {"preset": "flexspim", "b_w": b_w, "b_v": b_v, "saturate": saturate,
               "lanes": len(config.lanes)}
        for way, count in (("run", 4_000 if quick else 40_000), ("execute", 300)):
            best = float("inf")
            for _ in range(1 if quick else 3):
                model = CimMacroModel(params)
                model.run(setup)
                start = time.perf_counter()
                if way == "run":
                    model.run(events[:count])
                else:
                    for word in events[:count]:
                        model.execute(word)
                best = min(best, time.perf_counter() - start)
            row[f"{way}_events_per_s"] = round(count / best)
            row[f"{way}_msop_per_s"] = round(count * row["lanes"] / best / 1e6, 2)
        print(f"  golden cim {b_w}b/{b_v}b {'saturate' if saturate else 'wrap'}: "
              f"{row['run_msop_per_s']} M SOP/s batched, {row['execute_msop_per_s']} one by one")
        rows.append(row)
    return rows


def render_golden(rows: list[dict]) -> list[str]:
    lines = ["## CIM macro: golden model speed (one core)", "",
             "The `flexspim` preset (512 x 256); ACC events into 4 membrane groups from up to 64 "
             "random weight operands, as a core issues them; best of three. `run`: the model's "
             "batch path (wrap-mode ACCs summed as integers per lane, saturate-mode ACCs one "
             "after another across lanes; `cimforge.golden.cim_batch`, equal to the walk in "
             "every test); `execute`: one command at a time, slice by slice and column by "
             "column (the model before the batch path). Target: >= 10 M SOP/s.", "",
             "| B_W | B_V | overflow | lanes | run: events/s | run: M SOP/s | "
             "execute: events/s | execute: M SOP/s | speed-up |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['b_w']} | {r['b_v']} | {'saturate' if r['saturate'] else 'wrap'} "
                     f"| {r['lanes']} | {r['run_events_per_s']} | {r['run_msop_per_s']} | "
                     f"{r['execute_events_per_s']} | {r['execute_msop_per_s']} | "
                     f"{r['run_events_per_s'] / r['execute_events_per_s']:.0f}x |")
    return lines + [""]
