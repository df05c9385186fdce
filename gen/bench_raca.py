"""RACA benchmarks for `make bench`: accuracy vs T (golden model and RTL), cycles per
inference, the stochastic neurons' statistics from the RTL, golden-model speed, FPGA resources.
"""

import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from .blocks import get
from .fpga.bench_rows import fpga_rows
from .golden.raca import RacaModel, cycles, image_seed
from .raca_workload import golden_accuracy, load_dataset, load_network, network_path, preset_params
from .verif import harness
from .verif.raca.stimulus import stats_params

ACCURACY_T = (1, 2, 4, 8, 16, 32, 64)
RTL_IMAGES = 100


def bench_accuracy(work: Path, quick: bool) -> list[dict]:
    """Test-split accuracy of the shipped networks: the deterministic float network and the
    golden model (bit-exact with the RTL) for each T; image k seeded with k."""
    rows = []
    for name in ("digits", "mnist"):
        with np.load(network_path(name)) as data:
            float_acc = float(data["float_accuracy"])
        images = 200 if quick else None
        accuracy = golden_accuracy(name, list(ACCURACY_T), images=images)
        net = load_network(name)
        rows.append({"dataset": name, "sizes": net.sizes, "float_accuracy": float_acc,
                     "images": images, "accuracy": {str(t): a for t, a in accuracy.items()}})
        print(f"  raca {name}: float {float_acc:.4f}; " +
              ", ".join(f"T={t} {a:.4f}" for t, a in accuracy.items()))
    return rows


def bench_rtl_mnist(work: Path, quick: bool) -> list[dict]:
    """The MNIST network through the RTL (Verilator, `mnist` preset) for every T: each image's
    prediction, vote counts and cycle count equal the golden model's (the testbench asserts
    it, image by image)."""
    images = 10 if quick else RTL_IMAGES
    start = time.perf_counter()
    run = harness.run("verilator", get("raca").configure("mnist"),
                      "cimforge.verif.raca.tb_workload", name="bench_mnist", quiet=True,
                      args={"dataset": "mnist", "images": images, "samples": list(ACCURACY_T),
                            "gap": 0, "stall": 0})
    elapsed = time.perf_counter() - start
    record = harness.measurements(run)["images"]
    rows = []
    for t in ACCURACY_T:
        runs = [r for r in record if r["samples"] == t]
        correct = sum(r["prediction"] == r["label"] for r in runs)
        cycles = [r["cycles"] for r in runs]
        rows.append({"images": len(runs), "samples": t, "correct": correct,
                     "accuracy": correct / len(runs), "cycles_mean": float(np.mean(cycles)),
                     "cycles_min": min(cycles), "cycles_max": max(cycles),
                     "identical_to_golden": True, "wall_s": elapsed})
        print(f"  raca RTL mnist T={t}: {correct}/{len(runs)}, "
              f"{rows[-1]['cycles_mean']:.0f} cycles per inference")
    return rows


def bench_cycles(work: Path, quick: bool) -> list[dict]:
    """Cycles per inference from the cycle model (equal to the RTL's CYCLES register: every
    RTL test checks it) on the first 50 test images, vs T, for the shipped networks with
    tile_cols = 128, 32 and 8 neurons summed per cycle (at most the widest layer: columns
    beyond it would sum nothing)."""

    rows = []
    for name, preset in (("digits", "digits"), ("mnist", "mnist")):
        data, net = load_dataset(name), load_network(name)
        base = get("raca").configure(preset)
        for tile_cols in dict.fromkeys(min(c, base.max_width) for c in (128, 32, 8)):
            params = replace(base, tile_cols=tile_cols)
            model = RacaModel(params)
            for t in ACCURACY_T:
                counts = [cycles(params, net, x, model.infer(net, x, t,
                                                             image_seed(k, params.lfsr_length)))
                          for k, x in enumerate(data.x_test[:10 if quick else 50])]
                rows.append({"dataset": name, "sizes": net.sizes,
                             "tile_cols": params.tile_cols, "samples": t,
                             "cycles_mean": float(np.mean(counts))})
            print(f"  raca cycles {name}, tile_cols {tile_cols}: " + ", ".join(
                f"T={r['samples']} {r['cycles_mean']:.0f}" for r in rows[-len(ACCURACY_T):]))
    return rows


def bench_statistics(work: Path, quick: bool) -> list[dict]:
    """Firing frequency vs the sigmoid (and the gauss form vs the probit), and winner
    frequencies vs softmax, from the RTL (Verilator)."""
    rows = []
    for neuron in ("sigmoid", "gauss"):
        run = harness.run("verilator", stats_params(neuron), "cimforge.verif.raca.tb_stats",
                          name=f"bench_stats_{neuron}", quiet=True,
                          args={"inferences": 100 if quick else 1000, "points": 16,
                                "wta_samples": 4095, "gap": 0, "stall": 0})
        result = harness.measurements(run)
        rows.append({"neuron": neuron, "firing": result[f"firing_{neuron}"],
                     "wta": result["wta"]})
        worst = max(abs(r["fired"] / r["trials"] - r["ideal"]) for r in rows[-1]["firing"])
        print(f"  raca stats {neuron}: worst |frequency - ideal| {worst:.4f}; WTA chi2 vs "
              f"softmax {result['wta']['chi2_softmax']:.2f} (p {result['wta']['p_softmax']:.3f})")
    return rows


def bench_golden_speed(work: Path, quick: bool) -> list[dict]:
    """Golden-model inferences per second on one core (noise generation included), and weight
    additions (SOP) per second."""
    rows = []
    for name in ("digits", "mnist"):
        params, data, net = preset_params(name), load_dataset(name), load_network(name)
        model = RacaModel(params)
        images = data.x_test[:20 if quick else 100]
        for t in (1, 16, 64):
            start = time.perf_counter()
            sops = 0
            for k, x in enumerate(images):
                result = model.infer(net, x, t, image_seed(k, params.lfsr_length))
                sops += int(x.sum()) * net.sizes[1]       # layer 0 once per inference
                for h, acts in enumerate(result.hidden):
                    sops += int(acts.sum()) * net.sizes[h + 2]
            elapsed = time.perf_counter() - start
            rows.append({"dataset": name, "samples": t,
                         "inferences_per_s": len(images) / elapsed, "sop_per_s": sops / elapsed})
            print(f"  raca golden {name} T={t}: {len(images) / elapsed:.1f} inferences/s, "
                  f"{sops / elapsed / 1e6:.1f} M SOP/s")
    return rows


def bench_fpga(work: Path, quick: bool) -> list[dict]:
    return (fpga_rows("raca", ["ice40"], work, targets=("ice40-up5k", "ecp5-25f")) +
            fpga_rows("raca", ["ecp5"], work, targets=("ecp5-25f",)))


BENCHMARKS = {
    "raca_accuracy": bench_accuracy,
    "raca_rtl_mnist": bench_rtl_mnist,
    "raca_cycles": bench_cycles,
    "raca_statistics": bench_statistics,
    "raca_golden": bench_golden_speed,
    "raca_fpga": bench_fpga,
}


def table(columns: list[str], rows) -> list[str]:
    """A markdown table: header, rule, one line per row (cells already formatted)."""
    return (["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)] +
            ["| " + " | ".join(row) + " |" for row in rows] + [""])


def render(entries: dict, fpga_cells) -> list[str]:
    lines = []
    t_columns = [f"T={t}" for t in ACCURACY_T]
    if "raca_accuracy" in entries:
        lines += ["## RACA: accuracy vs T (test split; golden model = RTL bit for bit)", "",
                  "Deterministic float network (sigmoid hidden units, no noise) vs the "
                  "integer network in the stochastic core: T samples, one vote each. "
                  "Plot: `bench/raca_accuracy.png`.", ""]
        lines += table(["dataset", "network", "float", *t_columns],
                       ([r["dataset"], "-".join(map(str, r["sizes"])),
                         f"{r['float_accuracy']:.3f}",
                         *(f"{r['accuracy'][str(t)]:.3f}" for t in ACCURACY_T)]
                        for r in entries["raca_accuracy"]))
    if "raca_rtl_mnist" in entries:
        rows = entries["raca_rtl_mnist"]
        golden = {r["dataset"]: r for r in entries.get("raca_accuracy", [])}.get("mnist")
        lines += ["## RACA: MNIST through the RTL (Verilator, `mnist` preset)", "",
                  f"First {rows[0]['images']} test images (10 per class), every T: each "
                  "prediction, vote count and cycle count is identical to the golden model's "
                  "(asserted image by image). Cycles are counted at the `busy` port (the "
                  "CYCLES register, a cross-check, agrees on every inference). The golden "
                  "column is the whole 1000-image test split.", ""]
        lines += table(["T", "RTL accuracy", "golden, 1000 images",
                        "cycles per inference (mean, min, max)"],
                       ([str(r["samples"]), f"{r['accuracy']:.2f}",
                         f"{golden['accuracy'][str(r['samples'])]:.3f}" if golden else "",
                         f"{r['cycles_mean']:.0f}, {r['cycles_min']}, {r['cycles_max']}"]
                        for r in rows))
    if "raca_cycles" in entries:
        lines += ["## RACA: cycles per inference", "",
                  "Mean over the first 50 test images, from the cycle model that every RTL "
                  "test checks against the `busy` port and the CYCLES register. Layer 0 is computed once per "
                  "inference; each sample re-samples it and recomputes the later layers.", ""]
        groups = {}
        for r in entries["raca_cycles"]:
            groups.setdefault((r["dataset"], r["tile_cols"]), []).append(r)
        lines += table(["network", "tile_cols", *t_columns],
                       (["-".join(map(str, rows[0]["sizes"])), str(tile_cols),
                         *(f"{r['cycles_mean']:.0f}" for r in rows)]
                        for (_, tile_cols), rows in groups.items()))
    if "raca_statistics" in entries:
        lines += ["## RACA: stochastic neurons measured in the RTL (Verilator)", "",
                  "Firing frequency of bias-only hidden neurons at table arguments x (4 neurons "
                  "per point, T = 1 per inference, mixed seeds), against the table's exact "
                  "probability and the ideal curve (sigmoid; Phi(x/1.702) for the gauss form). "
                  "Plot: `bench/raca_firing.png`.", ""]
        lines += table(["form", "x", "trials", "frequency", "table", "ideal"],
                       ([r["neuron"], f"{f['x']:.2f}", str(f["trials"]),
                         f"{f['fired'] / f['trials']:.4f}", f"{f['exact']:.4f}",
                         f"{f['ideal']:.4f}"]
                        for r in entries["raca_statistics"] for f in r["firing"][::2]))
        lines += ["Winner-takes-all (one output layer, logits = biases), T = 4095 samples "
                  "in one inference:", ""]
        lines += table(["form", "logits", "counts", "softmax x T", "chi2 vs softmax (p)",
                        "chi2 vs tables (p)"],
                       ([r["neuron"], ", ".join(f"{v:g}" for v in r["wta"]["logits"]),
                         ", ".join(map(str, r["wta"]["counts"])),
                         ", ".join(f"{p * r['wta']['samples']:.0f}" for p in r["wta"]["softmax"]),
                         f"{r['wta']['chi2_softmax']:.2f} ({r['wta']['p_softmax']:.3f})",
                         f"{r['wta']['chi2_exact']:.2f} ({r['wta']['p_exact']:.3f})"]
                        for r in entries["raca_statistics"]))
    if "raca_golden" in entries:
        lines += ["## RACA: golden model speed (one core)", ""]
        lines += table(["dataset", "T", "inferences/s", "M SOP/s"],
                       ([r["dataset"], str(r["samples"]), f"{r['inferences_per_s']:.1f}",
                         f"{r['sop_per_s'] / 1e6:.1f}"] for r in entries["raca_golden"]))
    if "raca_fpga" in entries:
        lines += ["## RACA: resources and Fmax", "",
                  "`ice40`: the digits network's maxima (64-32-10), 8 columns summed per cycle. "
                  "`ecp5`: 784-64-10 maxima, 32 columns per cycle (the 784-256-10 `mnist` "
                  "preset needs 2 Mbit of weights, more block RAM than an ECP5-25F has).", ""]
        lines += table(["preset", "target", "LUT4", "FF", "BRAM", "Fmax (MHz)",
                        "constraint (MHz)", "met"],
                       ([r["preset"], fpga_cells(r)] if r.get("fits", True) else
                        [r["preset"], r["target"], "does not fit: " + (", ".join(
                            f"{k} {u}/{a}" for k, (u, a) in r.get("over", {}).items())
                            or r.get("error", "")), "", "", "", "", ""]
                        for r in entries["raca_fpga"]))
    return lines


def _finish(plt, fig, ax, xlabel: str, ylabel: str, path: Path) -> None:
    """Labels, legend, grid; save the figure as `path` and close it."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot(entries: dict, out: Path, plt) -> None:
    if "raca_accuracy" in entries:
        fig, ax = plt.subplots(figsize=(5, 3.5))
        for r in entries["raca_accuracy"]:
            line, = ax.plot(ACCURACY_T, [r["accuracy"][str(t)] for t in ACCURACY_T], "o-",
                            label=f"{r['dataset']} stochastic (golden = RTL)")
            ax.axhline(r["float_accuracy"], color=line.get_color(), ls=":", lw=1,
                       label=f"{r['dataset']} deterministic float")
        rtl = entries.get("raca_rtl_mnist")
        if rtl:
            ax.plot([r["samples"] for r in rtl], [r["accuracy"] for r in rtl], "k*--", ms=7,
                    lw=0.8, label=f"mnist RTL, first {rtl[0]['images']} images")
        ax.set_xscale("log", base=2)
        _finish(plt, fig, ax, "samples T", "test accuracy", out / "raca_accuracy.png")
    if "raca_statistics" in entries:
        fig, ax = plt.subplots(figsize=(5, 3.5))
        for r in entries["raca_statistics"]:
            x = [f["x"] for f in r["firing"]]
            freq = [f["fired"] / f["trials"] for f in r["firing"]]
            n = r["firing"][0]["trials"]
            err = [3 * np.sqrt(max(f["exact"] * (1 - f["exact"]), 1e-9) / n)
                   for f in r["firing"]]
            ax.errorbar(x, freq, yerr=err, fmt="o", ms=3, label=f"RTL, {r['neuron']} form")
        grid = np.linspace(-9, 9, 200)
        ax.plot(grid, 1 / (1 + np.exp(-grid)), "k-", lw=1, label="sigmoid(x)")
        _finish(plt, fig, ax, "table argument x = z' 2^-F", "firing frequency",
                out / "raca_firing.png")
