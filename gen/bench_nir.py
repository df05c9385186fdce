"""Benchmark entries `nir`: the NIR paper's N-MNIST CNN (random float weights) compiled from a
NIR graph, its rounding against the float graph, and its run on the 2x2 system's Verilog
(the fast path), checked against the golden system model; and `snn_workloads`: each
shipped spiking workload retrained from its seeds (the files must come out identical), its
accuracy in float and integers on the test split, and test samples on the core's Verilog."""

import time
from pathlib import Path

import numpy as np

from .golden.network import reference
from .golden.nir_reference import spike_count_errors
from .nirbridge import CompileOptions, from_nir
from .runner import run


def bench_nir(work: Path, quick: bool) -> list[dict]:
    from .verif.snn.nir_graphs import nmnist_cnn
    rows = []
    rng = np.random.default_rng(25)
    graph = nmnist_cnn(rng)
    events = lambda steps: [sorted(int(a) for a in rng.choice(2 * 34 * 34, 150, replace=False))
                            for _ in range(steps)]
    for b_w in (4, 6, 8):
        compiled = from_nir(graph, CompileOptions(b_w=b_w, b_v=16))
        rows.append({"kind": "rounding", "b_w": b_w, "b_v": 16,
                     "weight_error": [round(r.weight_error, 4) for r in compiled.report],
                     "layer_error": [round(e, 4) for e in spike_count_errors(
                         graph, compiled.network, events(4 if quick else 16))]})
        print(f"  B_W {b_w}: layer errors {rows[-1]['layer_error']}")
    network = from_nir(graph, CompileOptions(b_w=8, b_v=16)).network
    steps = 1 if quick else 3
    inputs = events(steps)
    start = time.monotonic()
    try:
        result = run(network, inputs, sim="fast", core="flexspim", mesh=(2, 2))
    except RuntimeError as differs:        # the RTL differs from the golden model: report it
        rows.append({"kind": "rtl", "system": "2x2 flexspim", "timesteps": steps,
                     "events": sum(map(len, inputs)), "error": str(differs)})
        print(f"  2x2 flexspim RTL: {differs}")
        return rows
    seconds = time.monotonic() - start
    rows.append({"kind": "rtl", "system": "2x2 flexspim", "timesteps": steps,
                 "events": sum(map(len, inputs)),
                 "layers": [f"{where} {how}" + (f" ({chunks} chunks)" if chunks > 1 else "")
                            for where, how, chunks in result.layers],
                 "cycles_per_timestep": round(result.cycles / steps, 1),
                 "output_spikes": int(result.counts.sum()), "equal_to_golden": True,
                 "wall_s": round(seconds)})
    print(f"  2x2 flexspim RTL: {rows[-1]['cycles_per_timestep']} cycles/timestep, "
          f"{rows[-1]['wall_s']} s")
    return rows


def bench_workloads(work: Path, quick: bool) -> list[dict]:
    from . import snn_workload
    rows = []
    for name, workload in snn_workload.WORKLOADS.items():
        folder = work / "workloads"
        folder.mkdir(parents=True, exist_ok=True)
        row = {"workload": name, **snn_workload.train_workload(name, folder)}
        fresh = snn_workload.shipped(name, folder)
        ship = snn_workload.shipped(name)
        row["retrained_identical"] = fresh.difference(ship) is None
        row["seconds"] = fresh.source["trained"]["seconds"]
        # The whole test split on the fast RTL path, sample by sample against the integer
        # reference (output spikes per timestep).
        count = 20 if quick else workload.samples - workload.train
        x, y = snn_workload.inputs(workload, range(workload.train, workload.train + count))
        cycles = steps = correct = identical = 0
        start = time.monotonic()
        for sample, label in zip(x, y):
            events = snn_workload.events_of(sample)
            result = run(ship, events, sim="fast", check=False)
            expected = reference(ship, events)
            identical += result.spikes == [step[-1] for step in expected.spikes]
            cycles += result.cycles
            steps += len(sample)
            correct += result.prediction == label
        seconds = time.monotonic() - start
        row.update(rtl_samples=count, rtl_identical=int(identical), rtl_correct=int(correct),
                   rtl_cycles_per_timestep=round(cycles / steps, 1),
                   rtl_cycles_per_inference=round(cycles / count),
                   rtl_cycles_per_second=round(cycles / seconds))
        row["energy_nj"] = snn_workload.energy_per_inference(
            name, range(workload.train, workload.train + (5 if quick else 40)))
        print(f"  {name}: float {row['float']:.2%}, integer {row['integer']:.2%}, RTL "
              f"{identical}/{count} identical, {correct} correct, "
              f"{row['rtl_cycles_per_inference']} cycles/inference, "
              f"{row['rtl_cycles_per_second']} cycles/s")
        rows.append(row)
    return rows


BENCHMARKS = {"nir": bench_nir, "snn_workloads": bench_workloads}


def render(entries: dict) -> list[str]:
    lines = []
    if "snn_workloads" in entries:
        lines += ["## Spiking workloads (docs/workloads.md)", "",
                  "Each shipped network retrained from its seeds by `python -m "
                  "cimforge.snn_workload train NAME`; accuracy on the whole test split of the "
                  "float NIR graph (`golden.nir_reference`) and of the compiled integer network "
                  "(the layer-level reference); then the whole test split on the `small` "
                  "core's Verilog (the fast path: Verilated, C++ driver), each sample's output "
                  "spikes per timestep against the reference. Cycles/s: simulated cycles over "
                  "the wall time of the RTL runs, Python's host programs included.", "",
                  "| workload | test samples | float | integer | same prediction | retrained "
                  "identical | data + training (s) | RTL identical | RTL correct | "
                  "cycles/timestep | cycles/inference | cycles/s |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in entries["snn_workloads"]:
            lines.append(f"| {r['workload']} | {r['test_samples']} | {r['float']:.1%} | "
                         f"{r['integer']:.1%} | {r['same_prediction']:.1%} | "
                         f"{'yes' if r['retrained_identical'] else 'NO'} | "
                         f"{r['seconds']['data']} + {r['seconds']['training']} | "
                         f"{r['rtl_identical']}/{r['rtl_samples']} | "
                         f"{r['rtl_correct']}/{r['rtl_samples']} | "
                         f"{r['rtl_cycles_per_timestep']} | {r['rtl_cycles_per_inference']} | "
                         f"{r['rtl_cycles_per_second']} |")
        lines += ["", "Energy per inference on one `flexspim` core (nJ, `golden.energy` from the "
                  "golden model's counters, first 40 test samples): macro additions and "
                  "comparisons, rows loaded into or stored from the macro, operand-buffer "
                  "traffic. DRAM and the mesh are not counted yet.", "",
                  "| workload | stationarity | layers | macro | macro loads/stores | buffer | "
                  "total |", "|---|---|---|---|---|---|---|"]
        for r in entries["snn_workloads"]:
            for how, e in r.get("energy_nj", {}).items():
                if "error" in e:
                    lines.append(f"| {r['workload']} | {how} | {e['error']} | | | | |")
                else:
                    lines.append(f"| {r['workload']} | {how} | {' '.join(e['layers'])} | "
                                 f"{e['macro']} | {e['macro_moves']} | {e['buffer']} | "
                                 f"{e['total']} |")
        lines.append("")
    if "nir" not in entries:
        return lines
    rows = entries["nir"]
    lines += ["## NIR: the NIR paper's N-MNIST CNN from a NIR graph", "",
             "2x34x34 -> Conv 16 5x5 s2 p1 -> IF -> Conv 16 3x3 p1 -> IF -> SumPool 2 -> "
             "Conv 8 3x3 p1 -> IF -> SumPool 2 -> Flatten -> Linear 256 -> IF -> Linear 10 -> "
             "IF, random float weights, compiled by `cimforge.nirbridge` (docs/nir.md). "
             "Rounding: per weighted layer, spike counts of the integer network against "
             "the float graph (`golden.nir_reference`), L1 over the float total, 150 input "
             "events per timestep.", "",
             "| B_W | B_V | weight error per layer | spike-count error per layer |",
             "|---|---|---|---|"]
    for r in (r for r in rows if r["kind"] == "rounding"):
        lines.append(f"| {r['b_w']} | {r['b_v']} | "
                     f"{' / '.join(f'{e:.2%}' for e in r['weight_error'])} | "
                     f"{' / '.join(f'{e:.1%}' for e in r['layer_error'])} |")
    lines += ["", "On the system's Verilog (the fast path: Verilated, C++ driver; the mapper's "
              "default plan; output spikes and every deterministic counter checked against "
              "the golden system model):", "",
              "| system | timesteps | input events | where the layers run | cycles/timestep | "
              "output spikes | wall time |", "|---|---|---|---|---|---|---|"]
    for r in (r for r in rows if r["kind"] == "rtl"):
        if "error" in r:
            lines.append(f"| {r['system']} | {r['timesteps']} | {r['events']} | "
                         f"**differs from the golden model**: {r['error']} | | | |")
            continue
        lines.append(f"| {r['system']} | {r['timesteps']} | {r['events']} | "
                     f"{'; '.join(r['layers'])} | {r['cycles_per_timestep']} | "
                     f"{r['output_spikes']} | {r['wall_s']} s |")
    return lines + [""]
