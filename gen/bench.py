"""`make bench`: measure what exists, write bench/results.json, bench/RESULTS.md and plots.

Each benchmark is a function registered in BENCHMARKS that returns a list of result rows (plain
dicts). Running a subset (`--only NAME`) keeps the other entries of an existing results.json.
"""

import json
import platform
import random
import shutil
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from amaranth.sim import Simulator

from . import bench_cim, bench_nir, bench_raca
from .blocks import get
from .fpga import boards
from .fpga.bench_rows import FPGA_TARGETS, fpga_rows
from .fpga.flow import FlowError
from .golden.aer import tree_links, xy_path
from .golden.cim import Counter, LayerConfig, Op, encode, modes_for
from .golden.lfsr import LfsrBankModel
from .golden.network import Conv2d, Linear, Network, Neurons
from .hdl.cim.macro import CimMacro
from .hdl.common.axis_top import AxisTop
from .hdl.snn.core import SnnCore
from .mapper import lane_width, map_network
from .params import ParamError
from .params.lfsr_bank import LfsrBankParams
from .params.snn import HostOp
from .progress import steps
from .runner import run as run_network
from .snn_host import load_program, step_program
from .verif import harness

# Anchors (ARCHITECTURE.md): the same open flow, ECP5 LFE5U-25F, post-route.
ANCHORS = [
    {"design": "ODIN", "lut4": 11150, "ff": 4513, "bram": 20, "fmax_mhz": 19.9, "sop_per_cycle": 1},
    {"design": "tinyODIN", "lut4": 2809, "ff": 1810, "bram": 17, "fmax_mhz": 40.9,
     "sop_per_cycle": 1},
]


def bench_lfsr_fpga(work: Path, quick: bool) -> list[dict]:
    return fpga_rows("lfsr_bank", ["default", "raca"], work)


def bench_lfsr_golden(work: Path, quick: bool) -> list[dict]:
    """Golden-model throughput: words per second on one core (best of several runs)."""
    rows = []
    for width, lanes, length in [(8, 1, 32), (8, 4, 32), (8, 16, 32), (16, 4, 64), (1, 4, 16)]:
        params = LfsrBankParams(width=width, lanes=lanes, length=length)
        model = LfsrBankModel(params)
        count = 100_000 if quick else 1_000_000
        best = float("inf")
        for _ in range(2 if quick else 5):
            start = time.perf_counter()
            model.words(12345, count)
            best = min(best, time.perf_counter() - start)
        rows.append({"params": params.as_dict(), "words": count * lanes,
                     "words_per_s": round(count * lanes / best)})
        print(f"  golden lfsr w{width} x{lanes} L{length}: "
              f"{count * lanes / best / 1e6:.1f} M words/s")
    return rows


CIM_PRESETS = ["flexspim", "tinyodin", "ice40"]
CIM_WIDTHS = [(b_w, b_v) for b_w in (1, 4, 8) for b_v in (8, 12, 16)]


def measure_cim_cycles(params, widths, events: int) -> list[dict]:
    """Cycles per ACC event and SOP/cycle at the macro's ports, in Amaranth's simulator.

    The testbench offers commands back to back (results always taken) and counts clock cycles:
    T(N) runs from the cycle the first of N ACC events is accepted to the cycle the result of a
    COUNTER read queued behind them leaves `rdata`. (T(2N) - T(N)) / N is the cost of one event
    with every fixed cost (queue fill, pipeline fill and drain, the read's own latency)
    cancelled, whichever side limits it: the issue walk or the command port. The macro's BUSY
    counter (less WAITS, the read's own wait for the last slices) over the 2N events is kept as
    a cross-check. Lane width = B_W (a weight is one row) or the widest lane the macro allows,
    widened where the membrane would take more than max_slices rows."""
    runs, results = [], []
    for b_w, b_v, saturate in widths:
        width = lane_width(params, b_w, b_v)
        lanes = params.cols // width
        config = LayerConfig(modes_for([width] * lanes, params.cols), b_w, b_v, saturate)
        if config.n > params.max_slices or config.n + 1 > params.rows // 2:
            continue
        setup = [encode(params, *c) for c in config.commands(params)] + [encode(params, Op.CLEAR)]
        runs.append((b_w, b_v, saturate, lanes, config.n, setup))
    acc = encode(params, Op.ACC, params.rows // 2, 0)
    busy, waits = encode(params, Op.COUNTER, Counter.BUSY), encode(params, Op.COUNTER, Counter.WAITS)

    async def testbench(ports):
        for b_w, b_v, saturate, lanes, n, setup in runs:
            span = {}
            for count in (events, 2 * events):
                await ports.send(setup + [busy])             # configure, clear, and drain
                await ports.read(1)
                first = (await ports.send([acc] * count + [busy, waits]))[0]
                (done, busy_count), (_, wait_count) = await ports.read(2)
                span[count] = done - first
            port = (span[2 * events] - span[events]) / events
            counted = (busy_count - wait_count) / (2 * events)
            results.append({"b_w": b_w, "b_v": b_v, "saturate": saturate, "lanes": lanes,
                            "slices": n, "events": events, "cycles_per_event": port,
                            "sop_per_cycle": round(lanes / port, 3),
                            "fixed_cycles": span[events] - events * port,
                            "busy_cycles_per_event": counted})

    bench_cim.simulate(params, testbench)
    return results


def bench_cim_cycles(work: Path, quick: bool) -> list[dict]:
    rows = []
    for preset in CIM_PRESETS:
        params = get("cim_macro").configure(preset)
        widths = [(b_w, b_v, False) for b_w, b_v in CIM_WIDTHS] + [(8, 16, True)]
        for r in measure_cim_cycles(params, widths, 8 if quick else 32):
            rows.append({"preset": preset, **r})
            print(f"  cim {preset} B_W={r['b_w']} B_V={r['b_v']}"
                  f"{' sat' if r['saturate'] else ''}: {r['sop_per_cycle']} SOP/cycle, "
                  f"{r['cycles_per_event']} cycles/event")
    return rows


def measure_snn_core(core, net, mapping, events: list) -> dict:
    """One mapped network through the `snn_core` RTL (Amaranth's simulator), host port always
    valid and spike port always ready: cycles from the STEP accepted to the end marker, and the
    macro's own slice counts read back through the host port afterwards."""
    dut = SnnCore(core)
    fmt = core.host_format
    program = load_program(core, net, mapping)
    reads = [fmt.pack(op=HostOp.MACRO, data=encode(core.macro, Op.COUNTER, c))
             for c in (Counter.ACC_SLICES, Counter.FIRE_SLICES, Counter.LOADS)]
    spans, values = [], []

    async def host(ctx):
        cycle, started = 0, None
        ctx.set(dut.spike.ready, 1)
        ctx.set(dut.rdata.ready, 1)
        words = program + step_program(core, net, events) + reads
        for word in words:
            ctx.set(dut.host.valid, 1)
            ctx.set(dut.host.payload.as_value(), word)
            while True:
                if ctx.get(dut.spike.valid) and ctx.get(dut.spike.payload.end):
                    spans.append(cycle - started)
                    started = None
                if ctx.get(dut.rdata.valid):
                    values.append(ctx.get(dut.rdata.payload))
                ready = ctx.get(dut.host.ready)
                await ctx.tick()
                cycle += 1
                if ready:
                    break
            if fmt.field_value(word, "op") == HostOp.STEP:
                started = cycle - 1
        ctx.set(dut.host.valid, 0)
        while len(values) < len(reads):
            if ctx.get(dut.rdata.valid):
                values.append(ctx.get(dut.rdata.payload))
            await ctx.tick()
        if ctx.get(dut.dropped) or ctx.get(dut.refused):
            raise RuntimeError("snn_core bench: events dropped or layers refused")

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(host)
    sim.run()
    acc, fire, loads = values
    cycles = sum(spans)
    count = sum(len(step) for step in events)
    return {"events": count, "cycles": cycles,
            "cycles_per_event": round(cycles / count, 2), "acc_slices": acc,
            "fire_slices": fire, "loads": loads,
            "utilisation": round((acc + fire) / cycles, 3)}


def bench_snn_core(work: Path, quick: bool) -> list[dict]:
    """Cycles per input event and macro utilisation of the core controller: a 64-input linear
    layer at three walk lengths, an interior event of a 3 x 3 convolution (9 taps), and a
    linear layer resident against chunked, each ws and os. Like the macro's bench, the cost of
    an event is (T(2N) - T(N)) / N over timesteps of N and 2N events, so the timestep's fixed
    work (configuring the macro, LOAD/STORE of chunks, firing) is apart; utilisation = ACC
    slices per event over that cost. Zero weights: nothing fires, so both timesteps do the
    same fixed work."""
    core = get("snn_core").configure("small")
    rng = np.random.default_rng(1)
    n = 16 if quick else 64
    cases = []
    for b_w, b_v in ((8, 8), (4, 8), (2, 16)):
        net = Network((64,), [Linear(np.zeros((32 // b_w, 64), int), Neurons(1, b_w, b_v))])
        events = list(rng.choice(64, 2 * n))
        cases += [("linear 64", net, core.macro, how, events) for how in ("ws", "os")]
    for b_w, b_v in ((8, 8), (4, 8)):
        # Events inside the map's border: every one lands on all nine taps.
        net = Network((1, 6, 6), [Conv2d(np.zeros((32 // b_w, 1, 3, 3), int),
                                         Neurons(1, b_w, b_v), padding=1)])
        events = [int(y * 6 + x) for y, x in rng.integers(1, 5, (2 * n, 2))]
        cases += [("conv 3x3", net, core.macro, how, events) for how in ("ws", "os")]
    # 32 neurons in 8 groups of 4 lanes: resident, or chunks of 2 groups (4 chunks) on a
    # macro just large enough (256 weight rows + 2 groups of 2 membrane and 2 threshold rows).
    net = Network((32,), [Linear(np.zeros((32, 32), int), Neurons(1, 8, 16))])
    events = list(rng.choice(32, 2 * n))
    cases += [("linear 32, resident", net, core.macro, "ws", events),
              ("linear 32, 4 chunks", net, replace(core.macro, rows=256 + 8), "ws", events)]
    rows = []
    for label, net, macro, how, events in cases:
        mapping = map_network(net, macro, how, core.buffer_rows)
        plan = mapping.plans[0]
        runs = [measure_snn_core(core, net, mapping, [events[:count]]) for count in (n, 2 * n)]
        per_event = (runs[1]["cycles"] - runs[0]["cycles"]) / n
        slices = (runs[1]["acc_slices"] - runs[0]["acc_slices"]) / n
        rows.append({"layer": label, "b_w": net.layers[0].neurons.b_w,
                     "b_v": net.layers[0].neurons.b_v, "s_v": plan.s_v,
                     "stationarity": how, "chunks": -(-plan.groups // plan.chunk),
                     "events": n, "cycles_per_event": round(per_event, 2),
                     "fixed_cycles": round(runs[0]["cycles"] - n * per_event),
                     "acc_slices_per_event": slices,
                     "utilisation": round(slices / per_event, 3)})
        print(f"  snn_core {label} B_W={rows[-1]['b_w']} B_V={rows[-1]['b_v']} {how}: "
              f"{per_event:.2f} cycles/event, utilisation {rows[-1]['utilisation']}")
    return rows


def bench_snn_system(work: Path, quick: bool) -> list[dict]:
    """One network on one `ice40`-preset core and on 1x1, 1x2 and 2x2 meshes of them (the
    default plan), the Verilog in Verilator through `cimforge run`: cycles per timestep at
    the host port (first host word to the last end marker), checked against the golden model
    as they run."""
    rng = np.random.default_rng(7)
    layer = lambda n_out, n_in: Linear(rng.integers(-1, 6, (n_out, n_in)),
                                       Neurons(12, b_w=4, b_v=12))
    net = Network((64,), [layer(32, 64), layer(24, 32), layer(10, 24)])
    steps = 2 if quick else 4
    events = [sorted(int(a) for a in rng.choice(64, 16, replace=False)) for _ in range(steps)]
    rows = []
    for mesh in (None, (1, 1), (1, 2), (2, 2)):
        result = run_network(net, events, sim="verilator", core="ice40", mesh=mesh)
        cores = 1 if mesh is None else mesh[0] * mesh[1]
        rows.append({"system": "snn_core" if mesh is None else f"{mesh[0]}x{mesh[1]}",
                     "cores": cores, "timesteps": steps, "events": sum(map(len, events)),
                     "layers": [f"{where} {how}" + (f" ({chunks} chunks)" if chunks > 1 else "")
                                for where, how, chunks in result.layers],
                     "cycles_per_timestep": round(result.cycles / steps, 1)})
        print(f"  {rows[-1]['system']}: {rows[-1]['cycles_per_timestep']} cycles/timestep")
    base = rows[0]["cycles_per_timestep"]
    for r in rows:
        r["speedup"] = round(base / r["cycles_per_timestep"], 2)
    return rows


def bench_cim_fpga(preset: str, targets: tuple[str, ...], seeds: tuple[int, ...] = (1,)):
    """The 256-column presets need more block RAM than an iCE40 UP5K has (30 x 4 kbit).
    `seeds`: placer seeds, where one seed would not say whether the Fmax target holds."""
    return lambda work, quick: fpga_rows("cim_macro", [preset], work, targets=targets,
                                         seeds=seeds[:1] if quick else seeds)


def bench_cim_forwarding(work: Path, quick: bool) -> list[dict]:
    """What forwarding costs: the `ice40` preset on the ECP5-25F with and without it (the
    variant without is wrong on hazards; it is built only to be measured), over three placer
    seeds, since one seed's Fmax moves by several MHz between equivalent netlists."""
    seeds = (1,) if quick else (1, 2, 3)
    return [row for forwarding in (True, False) for row in fpga_rows(
        "cim_macro", ["ice40"], work, ("ecp5-25f",), seeds=seeds,
        variant="forwarding (the design)" if forwarding else "no forwarding",
        make_core=lambda p, f=forwarding: AxisTop(CimMacro(p, forwarding=f)))]


def bench_aer_fpga(work: Path, quick: bool) -> list[dict]:
    """A single router (the centre of a 3x3 mesh: five ports) and a 2x2 mesh with tables and
    counters."""
    return [*fpga_rows("aer_router", ["inner"], work, ("ecp5-25f",)),
            *fpga_rows("aer_router", ["inner-ice40"], work, ("ice40-up5k",)),
            *fpga_rows("aer_mesh", ["2x2"], work, ("ecp5-25f",)),
            *fpga_rows("aer_mesh", ["2x2-ice40"], work, ("ice40-up5k",))]


AER_PATTERNS = ("uniform", "transpose", "hotspot")
AER_DEPTH = get("aer_mesh").configure("4x4").fifo_depth
BENCH_DIR = Path(__file__).resolve().parent.parent / "bench"


def aer_before() -> dict:
    """The AER measurements before the routers had a queue per input and output pair."""
    path = BENCH_DIR / "aer_before.json"
    return json.loads(path.read_text()) if path.exists() else {}

AER_LOADS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)


def bench_aer_load(work: Path, quick: bool) -> list[dict]:
    """Throughput and latency vs offered load on the 4x4 mesh's Verilog (Verilator, cocotb):
    Bernoulli unicast sources, latency from a flit's creation (source queueing included) to
    its ejection."""
    params = get("aer_mesh").configure("4x4")
    loads = AER_LOADS[::2] if quick else AER_LOADS
    rows = []
    for pattern in AER_PATTERNS:
        run = harness.run("verilator", params, "cimforge.verif.aer.bench_load",
                          name=f"load_{pattern}", quiet=True,
                          args={"pattern": pattern, "loads": list(loads),
                                "warmup": 200, "cycles": 600 if quick else 1500})
        for r in harness.measurements(run)["loads"]:
            rows.append({"pattern": pattern, **r})
            print(f"  aer 4x4 {pattern} offered {r['offered']:.3f}: throughput "
                  f"{r['throughput']:.3f} flits/core/cycle, latency {r['latency_mean']:.1f} "
                  f"(p99 {r['latency_p99']})")
    return rows


def bench_aer_multicast(work: Path, quick: bool) -> list[dict]:
    """Where multicast copies are made: link traversals per spike on a 4x4 mesh with copies
    at injection (what the hardware does; the model's counts equal the RTL's forwarded
    counters, checked by the tests) vs a tree along the same XY paths, and the cycles the
    injection port is busy per spike (fan-out + 3)."""

    p = get("aer_mesh").configure("4x4")
    rng = random.Random(1)
    rows = []
    for fanout in (1, 2, 4, 8, 16):
        copies = tree = 0
        trials = 2000
        for _ in range(trials):
            src = rng.randrange(p.cores)
            dsts = rng.sample(range(p.cores), fanout)
            copies += sum(len(xy_path(p, src, d)) - 1 for d in dsts)
            tree += tree_links(p, src, dsts)
        rows.append({"fanout": fanout, "links_injection": copies / trials,
                     "links_tree": tree / trials, "ratio": copies / max(tree, 1),
                     "port_cycles": fanout + 3})
        print(f"  aer multicast fan-out {fanout}: {copies / trials:.2f} link traversals with "
              f"copies at injection, {tree / trials:.2f} with a tree")
    return rows


def bench_boards(work: Path, quick: bool) -> list[dict]:
    """Every design behind the UART bridge on every board, to a bitstream; the per-build
    reports are copied to bench/fpga/."""

    rows = []
    out = Path("bench/fpga")
    out.mkdir(parents=True, exist_ok=True)
    for board in boards.BOARDS:
        for design, (_, presets) in boards.DESIGNS.items():
            if boards.board(board).family not in presets:
                continue                            # e.g. no accelerator fits an iCE40
            try:
                report = boards.build(board, design, work / "boards")
            except FlowError as failed:
                text = str(failed)
                rows.append({"board": board, "design": design, "error": text[:300]})
                print(f"  {board}/{design}: {text[:200]}")
                continue
            for suffix in ("json", "md"):
                shutil.copy(work / "boards" / f"{board}-{design}" / f"report.{suffix}",
                            out / f"{board}-{design}.{suffix}")
            rows.append({k: v for k, v in report.items() if k != "bitstream"})
            print(f"  {board}/{design}: {report['fmax_mhz']} MHz")
    return rows


BENCHMARKS = {
    "fpga_boards": bench_boards,
    "lfsr_bank_fpga": bench_lfsr_fpga,
    "lfsr_bank_golden": bench_lfsr_golden,
    "cim_cycles": bench_cim_cycles,
    "cim_ops": bench_cim.bench_cim_ops,
    "cim_golden": bench_cim.bench_cim_golden,
    "cim_fpga_ice40": bench_cim_fpga("ice40", FPGA_TARGETS),
    "cim_fpga_tinyodin": bench_cim_fpga("tinyodin", ("ecp5-25f",), seeds=tuple(range(1, 9))),
    "cim_fpga_flexspim": bench_cim_fpga("flexspim", ("ecp5-25f", "ecp5-85f")),
    "cim_forwarding": bench_cim_forwarding,
    "aer_fpga": bench_aer_fpga,
    "aer_load": bench_aer_load,
    "aer_multicast": bench_aer_multicast,
    "snn_core": bench_snn_core,
    "snn_system": bench_snn_system,
    # Four ice40-preset cores do not fit the 25F (the flow says so before placing).
    "snn_system_fpga": lambda work, quick: fpga_rows("snn_system", ["ecp5"], work,
                                                     targets=("ecp5-25f", "ecp5-85f")),
    "snn_core_fpga": lambda work, quick: (
        fpga_rows("snn_core", ["ice40", "small"], work, targets=FPGA_TARGETS)
        + fpga_rows("snn_core", ["flexspim"], work, targets=("ecp5-85f",))),
    **bench_raca.BENCHMARKS,
    **bench_nir.BENCHMARKS,
}


def lanes(row: dict) -> str:
    """', lanes <= N' for a macro generated with a lane limit (older results have none)."""
    limit = row["params"].get("max_lane", 0)
    return f", lanes <= {limit}" if limit and limit < row["params"]["cols"] else ""


def fpga_cells(r: dict) -> str:
    """Table cells target | LUT4 | FF | BRAM | Fmax | constraint | met of an FPGA row."""
    return (f"{r['target']} | {r['lut4']} | {r['ff']} | {r['bram']} | {r['fmax_mhz']} | "
            f"{r['constraint_mhz']} | {'yes' if r['met'] else 'no'}")


def seed_spread(rows: list[dict]) -> list[str]:
    """Post-route Fmax over placer seeds, per design and target placed at several."""
    by_design: dict = {}
    for r in rows:
        if "seed" in r:
            by_design.setdefault((r["preset"], r["target"]), []).append(r)
    lines = []
    for (preset, target), runs in by_design.items():
        fmax = sorted(r["fmax_mhz"] for r in runs if r.get("fits", True))
        if not fmax:
            continue
        met = sum(f >= 100 for f in fmax)
        lines.append(f"`{preset}` on the {target} over placer seeds "
                     f"{', '.join(str(r['seed']) for r in runs)}: Fmax min {fmax[0]:g}, median "
                     f"{float(np.median(fmax)):g}, max {fmax[-1]:g} MHz; >= 100 MHz at {met} of "
                     f"{len(runs)}.")
    return lines + [""] if lines else []


def unfit_outcome(r: dict) -> str:
    """What a build that produced no numbers says: the cells it lacked, or the tool's error."""
    if "error" in r:
        return f"failed: {r['error'].splitlines()[0]}"
    over = ", ".join(f"{k} {u}/{a}" for k, (u, a) in r.get("over", {}).items())
    return f"does not fit: {over}"


def board_cells(r: dict) -> list[str]:
    """One board build's table cells (or its failure)."""
    if "error" in r:
        return [r["board"], r["design"], f"failed: {r['error'][:120]}", "", "", "", ""]
    u = r["utilisation"]
    logic = u.get("ICESTORM_LC") or u.get("TRELLIS_COMB")
    ram = u.get("ICESTORM_RAM") or u.get("DP16KD")
    fmax = min(r["fmax_mhz"].values()) if r["fmax_mhz"] else 0
    return [r["board"], f"{r['design']} ({r['core']['block']}/{r['core']['preset']})",
            f"{logic[0]} / {logic[1]}", f"{ram[0]} / {ram[1]}", f"{fmax:g}",
            f"{r['clk_mhz']:g}", "yes" if r["met"] else "no"]


def render_markdown(results: dict) -> str:
    lines = ["# cimforge benchmark results", "",
             f"Generated by `make bench` on {results['meta']['date']} "
             f"({results['meta']['machine']}). FPGA numbers are post-route (YoWASP yosys + "
             "nextpnr); each core sits in the pin-light bench shell (`cimforge.fpga.bench_shell`"
             ": about 1.3 extra FF per port bit), so they include it.", ""]
    entries = results["entries"]
    if "lfsr_bank_fpga" in entries:
        lines += ["## LFSR noise bank: resources and Fmax", "",
                  "| preset | width x lanes, L | target | LUT4 | FF | BRAM | Fmax (MHz) | "
                  "constraint (MHz) | met |", "|---|---|---|---|---|---|---|---|---|"]
        for r in entries["lfsr_bank_fpga"]:
            p = r["params"]
            lines.append(f"| {r['preset']} | {p['width']} x {p['lanes']}, {p['length']} | "
                         f"{fpga_cells(r)} |")
        lines.append("")
    if "lfsr_bank_golden" in entries:
        lines += ["## LFSR golden model throughput (one core)", "",
                  "| width | lanes | L | M words/s |", "|---|---|---|---|"]
        for r in entries["lfsr_bank_golden"]:
            p = r["params"]
            lines.append(f"| {p['width']} | {p['lanes']} | {p['length']} | "
                         f"{r['words_per_s'] / 1e6:.1f} |")
        lines.append("")
    if "cim_cycles" in entries:
        lines += ["## CIM macro: throughput at the ports (back-to-back ACC events)", "",
                  "Lane width = B_W (a weight is one row) or max_lane if smaller, widened where "
                  "the membrane would span more than max_slices rows; one event = "
                  "one ACC on every lane. Cycles/event are counted by the testbench at the "
                  "ports: (T(2N) - T(N)) / N, T(N) from the first of N events accepted to the "
                  "result of a COUNTER read behind them, commands offered back to back; "
                  "fixed = T(N) - N x cycles/event (queue, pipeline and the read). "
                  "BUSY: the macro's own count (BUSY - WAITS over 2N events), a cross-check; "
                  "where the two differ by more than 0.1 the row says which side limits.", "",
                  "| preset | B_W | B_V | overflow | lanes | slices | cycles/event | "
                  "SOP/cycle | fixed | BUSY cycles/event | note |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in entries["cim_cycles"]:
            busy = r.get("busy_cycles_per_event")
            note = ("the command port: the macro is idle between events"
                    if busy is not None and r["cycles_per_event"] - busy > 0.1 else "")
            lines.append(f"| {r['preset']} | {r['b_w']} | {r['b_v']} | "
                         f"{'saturate' if r['saturate'] else 'wrap'} | {r['lanes']} | "
                         f"{r['slices']} | {r['cycles_per_event']:g} | {r['sop_per_cycle']:g} | "
                         f"{r['fixed_cycles']:g} | "
                         f"{'n/a' if busy is None else f'{busy:.3g}'} | {note} |")
        lines.append("")
    if "cim_ops" in entries:
        lines += bench_cim.render_ops(entries["cim_ops"])
    if "cim_golden" in entries:
        lines += bench_cim.render_golden(entries["cim_golden"])
    cim_fpga = [r for key in ("cim_fpga_ice40", "cim_fpga_tinyodin", "cim_fpga_flexspim")
                for r in entries.get(key, [])]
    if cim_fpga:
        cycles = {(r["preset"], r["b_w"], r["b_v"]): r["sop_per_cycle"]
                  for r in entries.get("cim_cycles", []) if not r["saturate"]}
        lines += ["## CIM macro vs tinyODIN: resources, Fmax, throughput", "",
                  "GSOP/s = SOP/cycle at 8-bit weights / 16-bit membranes (4/12 for the "
                  "tinyodin preset) x post-route Fmax.", "",
                  "| design | target | LUT4 | FF | BRAM | Fmax (MHz) | SOP/cycle | GSOP/s |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in cim_fpga:
            seed = f", seed {r['seed']}" if "seed" in r else ""
            if not r.get("fits", True):
                outcome = unfit_outcome(r)
                lines.append(f"| cim_macro/{r['preset']} ({r['params']['rows']}x"
                             f"{r['params']['cols']}{lanes(r)}{seed}) | {r['target']} | {outcome} "
                             f"| | | | | |")
                continue
            key = (r["preset"], 4, 12) if r["preset"] == "tinyodin" else (r["preset"], 8, 16)
            sop = cycles.get(key)
            gsops = f"{sop * r['fmax_mhz'] / 1000:.2f}" if sop else "n/a"
            lines.append(f"| cim_macro/{r['preset']} ({r['params']['rows']}x"
                         f"{r['params']['cols']}{lanes(r)}{seed}) | {r['target']} | {r['lut4']} | "
                         f"{r['ff']} | {r['bram']} | {r['fmax_mhz']} | {sop if sop else 'n/a'} | "
                         f"{gsops} |")
        for a in ANCHORS:
            lines.append(f"| {a['design']} (anchor) | ecp5-25f | {a['lut4']} | {a['ff']} | "
                         f"{a['bram']} | {a['fmax_mhz']} | {a['sop_per_cycle']} | "
                         f"{a['sop_per_cycle'] * a['fmax_mhz'] / 1000:.3f} |")
        lines.append("")
        lines += seed_spread(cim_fpga)
    if "snn_core" in entries:
        lines += ["## Accelerator core: cycles per event and macro utilisation",
                  "", "One layer on the `small` core (512 x 32 macro, lanes of B_W columns, "
                  "S_V = B_V / B_W slices per membrane); RTL in Amaranth's simulator, host port "
                  "always valid, spike port always ready. Cycles from STEP accepted to the "
                  "timestep's end marker; cycles/event = (T(2N) - T(N)) / N, fixed = the rest "
                  "of a timestep (configuring the macro, chunk LOAD/STORE, firing); "
                  "utilisation = ACC slices per event / cycles per event. Convolution events "
                  "are inside the map's border (nine taps each).", "",
                  "| layer | B_W | B_V | S_V | stationarity | chunks | cycles/event | "
                  "ACC slices/event | utilisation | fixed cycles per timestep |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for r in entries["snn_core"]:
            lines.append(f"| {r.get('layer', 'linear 64')} | {r['b_w']} | {r['b_v']} | "
                         f"{r['s_v']} | {r['stationarity']} | {r.get('chunks', 1)} | "
                         f"{r['cycles_per_event']} | {r['acc_slices_per_event']:g} | "
                         f"{r['utilisation']} | {r['fixed_cycles']} |")
        lines.append("")
    if "snn_system" in entries:
        lines += ["## Accelerator system: one network on one core and on meshes", "",
                  "A 64-32-24-10 fully connected network (B_W 4, B_V 12), 16 input events "
                  "per timestep, on cores of the `ice40` preset (128 x 32 macros): one "
                  "`snn_core`, then `snn_system` meshes with the mapper's default plan. "
                  "Verilator, host port without gaps, output always ready; cycles from a "
                  "timestep's first host word to its last end marker. Timesteps run in "
                  "lockstep, so stages do not overlap: more cores help by splitting layers.",
                  "", "| system | cores | where the layers run | cycles/timestep | speedup |",
                  "|---|---|---|---|---|"]
        for r in entries["snn_system"]:
            lines.append(f"| {r['system']} | {r['cores']} | {'; '.join(r['layers'])} | "
                         f"{r['cycles_per_timestep']} | {r['speedup']} |")
        lines.append("")
    if "snn_system_fpga" in entries:
        lines += ["## Accelerator system on FPGAs", "",
                  "The `ecp5` `snn_system` (2 x 2 mesh of `ice40`-preset cores: 128 x 32 "
                  "macros, links, routers) in the bench shell, post-route, placer seed 1.", "",
                  "| preset | target | LUT4 | FF | BRAM | Fmax (MHz) |", "|---|---|---|---|---|---|"]
        for r in entries["snn_system_fpga"]:
            if not r.get("fits", True):
                lines.append(f"| {r['preset']} | {r['target']} | {unfit_outcome(r)} | | | |")
                continue
            lines.append(f"| {r['preset']} | {r['target']} | {r['lut4']} | {r['ff']} | "
                         f"{r['bram']} | {r['fmax_mhz']} |")
        lines.append("")
    if "snn_core_fpga" in entries:
        macro = {(r["preset"], r["target"]): r for key in ("cim_fpga_ice40", "cim_fpga_flexspim")
                 for r in entries.get(key, []) if r.get("fits", True)}
        lines += ["## Accelerator core on FPGAs", "",
                  "One `snn_core` (macro, controller, descriptor/buffer/queue memories, "
                  "counters) in the bench shell, post-route, placer seed 1; beside it the "
                  "macro of the same size alone (the `cim_macro` rows above).", "",
                  "| core preset | macro | target | LUT4 | FF | BRAM | Fmax (MHz) | "
                  "macro alone: LUT4, Fmax |", "|---|---|---|---|---|---|---|---|"]
        for r in entries["snn_core_fpga"]:
            size = f"{r['params']['rows']}x{r['params']['cols']}"
            alone = macro.get(({"small": None}.get(r["preset"], r["preset"]), r["target"]))
            beside = f"{alone['lut4']}, {alone['fmax_mhz']}" if alone else ""
            if not r.get("fits", True):
                outcome = unfit_outcome(r)
                lines.append(f"| {r['preset']} | {size} | {r['target']} | {outcome} | | | | "
                             f"{beside} |")
                continue
            lines.append(f"| {r['preset']} | {size} | {r['target']} | {r['lut4']} | {r['ff']} | "
                         f"{r['bram']} | {r['fmax_mhz']} | {beside} |")
        lines.append("")
    if "cim_forwarding" in entries:
        slices = sorted({(r["b_w"], r["b_v"], r["slices"], r["cycles_per_event"])
                         for r in entries.get("cim_cycles", [])
                         if r["preset"] == "ice40" and not r["saturate"]})
        lines += ["## CIM macro: forwarding or stalling", "",
                  "A slice reads its rows two cycles before the slice ahead of it writes back, "
                  "so back-to-back ACCs on one membrane need forwarding or stalls. Resources "
                  "and Fmax: the `ice40` preset with forwarding (the design) and without it "
                  "(built only to be measured), each placed with three seeds. Cycles: "
                  "back-to-back ACC events on one "
                  "membrane (the cycles bench), with forwarding (measured) and, for a design "
                  "that stalls instead, max(n, 4) per event (a row written by a slice issued "
                  "at cycle t can be read by a slice issued at t + 4).", "",
                  "| variant | LUT4 | FF | BRAM | Fmax (MHz) by seed | median |",
                  "|---|---|---|---|---|---|"]
        for variant in dict.fromkeys(r.get("variant", "") for r in entries["cim_forwarding"]):
            runs = [r for r in entries["cim_forwarding"]
                    if r.get("variant", "") == variant and r.get("fits", True)]
            if runs:
                fmax = [r["fmax_mhz"] for r in runs]
                lines.append(f"| {variant} | {runs[0]['lut4']} | {runs[0]['ff']} | "
                             f"{runs[0]['bram']} | {', '.join(f'{f:g}' for f in fmax)} | "
                             f"{float(np.median(fmax)):g} |")
        lines += ["", "| B_W | B_V | slices n | cycles/event, forwarding | cycles/event, "
                  "stalling |", "|---|---|---|---|---|"]
        for b_w, b_v, n, cpe in slices:
            lines.append(f"| {b_w} | {b_v} | {n} | {cpe:g} | {max(n, 4)} |")
        lines.append("")
    if "aer_fpga" in entries:
        lines += ["## AER router and mesh: resources and Fmax", "",
                  "`aer_router/inner`: one router with all five ports (centre of a 3x3 mesh), "
                  "queues and arbiters only. `aer_mesh/2x2`: four routers, four injectors with "
                  "256-neuron / 256-entry multicast tables, 65 counters and their read port. "
                  "Queues of 8 flits on the ECP5 (distributed RAM), of 2 on the iCE40 (the "
                  "`-ice40` presets: it has no distributed RAM, so queues are flip-flops; with "
                  "8 the router takes 5574 and the 2x2 mesh 8264 of the UP5K's 5280 cells). "
                  "Target: >= 100 MHz on ECP5-25F.", "",
                  "| design | target | LUT4 | FF | BRAM | Fmax (MHz) | constraint (MHz) | met |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in entries["aer_fpga"]:
            cells = fpga_cells(r) if r.get("fits", True) else \
                f"{r['target']} | {unfit_outcome(r)} | | | | |"
            lines.append(f"| {r['block']}/{r['preset']} | {cells} |")
        before = aer_before()
        lines += ["", f"Before (routers with {before.get('router', '')}):", "",
                  "| design | target | LUT4 | FF | BRAM | Fmax (MHz) | constraint (MHz) | met |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in before.get("aer_fpga", []):
            lines.append(f"| {r['block']}/{r['preset']} | {fpga_cells(r)} |")
        lines.append("")
    if "aer_load" in entries:
        before = aer_before()
        old = {}                        # by pattern and load step (the same offered loads)
        for r in before.get("aer_load", []):
            old.setdefault(r["pattern"], []).append(r)
        step = {pattern: iter(rows) for pattern, rows in old.items()}
        lines += ["## AER 4x4 mesh: throughput and latency vs offered load (RTL, Verilator)", "",
                  "Bernoulli unicast sources on every core; offered and throughput in flits per "
                  "core per cycle (throughput = flits ejected during the measurement window); "
                  "latency in cycles from a flit's creation to its ejection, source queueing "
                  "included (zero-load: 2 per router + 1). Uniform: any other core (the XY "
                  "channel-load bound is 15/16 = 0.9375). Transpose: "
                  "(x, y) -> (y, x); the four diagonal cores send nothing, so offered load is "
                  "at most 0.75. Hotspot: a quarter of the flits go to core (2, 2), the rest "
                  "uniform. Routers with a queue per input and output pair, "
                  f"{AER_DEPTH} flits each (the design); before: {before.get('router', '')}, "
                  "the same measurement. Plot: `bench/aer_load.png` (before dashed).", "",
                  "| pattern | offered | throughput | mean latency | p99 latency | "
                  "before: throughput, mean latency |", "|---|---|---|---|---|---|"]
        for r in entries["aer_load"]:
            was = next(step.get(r["pattern"], iter(())), None)
            was = f"{was['throughput']:.3f}, {was['latency_mean']:.1f}" if was else ""
            lines.append(f"| {r['pattern']} | {r['offered']:.3f} | {r['throughput']:.3f} | "
                         f"{r['latency_mean']:.1f} | {r['latency_p99']} | {was} |")
        lines.append("")
    if "aer_multicast" in entries:
        lines += ["## AER multicast: copies at injection vs a routing tree (4x4 mesh)", "",
                  "Mean router-to-router link traversals per spike to `fan-out` distinct random "
                  "cores (2000 random spikes), and the cycles the source's injection port is "
                  "busy.", "",
                  "| fan-out | links, copies at injection | links, XY tree | ratio | "
                  "injection cycles |", "|---|---|---|---|---|"]
        for r in entries["aer_multicast"]:
            lines.append(f"| {r['fanout']} | {r['links_injection']:.2f} | "
                         f"{r['links_tree']:.2f} | {r['ratio']:.2f} | {r['port_cycles']} |")
        lines.append("")
    lines += bench_raca.render(entries, fpga_cells)
    lines += bench_nir.render(entries)
    if "fpga_boards" in entries:
        lines += ["## Board builds (core + UART bridge + LEDs, to a bitstream)", "",
                  "`cimforge fpga build --board B --design D`; per-build reports in "
                  "`bench/fpga/`. Cells from nextpnr's utilisation report (ICESTORM_LC / "
                  "TRELLIS_COMB: logic cells; RAM: EBR / DP16KD).", ""]
        lines += bench_raca.table(["board", "design (core preset)", "logic cells",
                                   "RAM blocks", "Fmax (MHz)", "clock (MHz)", "met"],
                                  map(board_cells, entries["fpga_boards"]))
    lines += ["## Anchors (ARCHITECTURE.md; ECP5-25F, same open flow, post-route)", "",
              "| design | LUT4 | FF | DP16KD | Fmax (MHz) | SOP/cycle |",
              "|---|---|---|---|---|---|"]
    lines += [f"| {a['design']} | {a['lut4']} | {a['ff']} | {a['bram']} | {a['fmax_mhz']} | "
              f"{a['sop_per_cycle']} |" for a in ANCHORS]
    return "\n".join(lines) + "\n"


def plot(results: dict, out: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    load = results["entries"].get("aer_load")
    if load:
        fig, (ax_t, ax_l) = plt.subplots(1, 2, figsize=(9, 3.5))
        before = aer_before().get("aer_load", [])
        for k, pattern in enumerate(AER_PATTERNS):
            for rows, style, label in (
                    ([r for r in load if r["pattern"] == pattern], "o-", pattern),
                    ([r for r in before if r["pattern"] == pattern], "x--", f"{pattern}, before")):
                offered = [r["offered"] for r in rows]
                color = f"C{k}"
                ax_t.plot(offered, [r["throughput"] for r in rows], style, color=color,
                          label=label)
                ax_l.plot(offered, [r["latency_mean"] for r in rows], style, color=color,
                          label=label)
        ax_t.plot([0, 1], [0, 1], color="grey", ls=":", lw=1)
        ax_t.set_xlabel("offered load (flits/core/cycle)")
        ax_t.set_ylabel("throughput (flits/core/cycle)")
        ax_l.set_xlabel("offered load (flits/core/cycle)")
        ax_l.set_ylabel("mean latency (cycles)")
        ax_l.set_yscale("log")
        for ax in (ax_t, ax_l):
            ax.legend(fontsize=8)
            ax.grid(alpha=0.3)
        fig.suptitle("AER 4x4 mesh (RTL in Verilator)")
        fig.tight_layout()
        fig.savefig(out / "aer_load.png", dpi=110)
        plt.close(fig)
    bench_raca.plot(results["entries"], out, plt)
    rows = results["entries"].get("lfsr_bank_fpga")
    if not rows:
        return
    fig, (ax_f, ax_l) = plt.subplots(1, 2, figsize=(9, 3.5))
    labels = [f"{r['preset']}\n{r['target']}" for r in rows]
    x = np.arange(len(rows))
    ax_f.bar(x, [r["fmax_mhz"] for r in rows], color="tab:blue")
    ax_f.axhline(100, color="tab:red", ls="--", lw=1, label="ECP5 target 100 MHz")
    ax_f.set_ylabel("post-route Fmax (MHz)")
    ax_f.legend(fontsize=8)
    ax_l.bar(x - 0.2, [r["lut4"] for r in rows], 0.4, label="LUT4")
    ax_l.bar(x + 0.2, [r["ff"] for r in rows], 0.4, label="FF")
    ax_l.legend(fontsize=8)
    for ax in (ax_f, ax_l):
        ax.set_xticks(x, labels, fontsize=7)
    fig.suptitle("LFSR noise bank (in bench shell)")
    fig.tight_layout()
    fig.savefig(out / "lfsr_bank.png", dpi=110)
    plt.close(fig)


def save(results: dict, out: Path) -> None:
    results["meta"] = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
                       "machine": f"{platform.machine()}, {platform.python_implementation()} "
                                  f"{platform.python_version()}"}
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    (out / "RESULTS.md").write_text(render_markdown(results))


def run(out: Path, only: list[str] = (), quick: bool = False) -> int:
    unknown = [name for name in only if name not in BENCHMARKS]
    if unknown:
        raise ParamError(f"unknown benchmark {', '.join(unknown)}; benchmarks are "
                         f"{', '.join(BENCHMARKS)}")
    out.mkdir(parents=True, exist_ok=True)
    path = out / "results.json"
    results = json.loads(path.read_text()) if path.exists() and only else {"entries": {}}
    work = Path("build/bench")
    chosen = [name for name in BENCHMARKS if not only or name in only]
    for name in steps(chosen, "benchmarks"):
        function = BENCHMARKS[name]
        print(f"bench {name}")
        start = time.monotonic()
        results["entries"][name] = function(work, quick)
        if not quick:
            results.setdefault("durations_s", {})[name] = round(time.monotonic() - start)
        save(results, out)            # after every entry: a later failure loses nothing
    save(results, out)
    plot(results, out)
    print(f"wrote {path}, {out / 'RESULTS.md'}")
    return 0
