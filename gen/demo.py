"""`make demo`: emit Verilog for every registered block, run the LFSR noise bank on Icarus and
Verilator against the golden model, a few MNIST images through the RACA RTL, and a few event
samples through the shipped spiking network on the accelerator core's RTL."""

import json
import time
from pathlib import Path

from .blocks import BLOCKS
from .emit import emit
from .golden.lfsr import LfsrBankModel
from .golden.raca import RacaModel, image_seed
from .raca_workload import DatasetMissing, load_dataset, load_network
from .verif import harness


def run(out: Path) -> int:
    print("== Verilog for every block (default configuration)")
    for block in BLOCKS.values():
        params = block.configure(None, [])
        path = emit(params, out / block.name)
        ports = json.loads(path.with_suffix(".json").read_text())["interface"]["members"]
        print(f"   {block.name:<12} -> {path}  ({path.stat().st_size // 1024} kB; ports "
              f"{', '.join(ports)})")

    params = BLOCKS["lfsr_bank"].configure("default", [])
    model = LfsrBankModel(params)
    print(f"\n== LFSR noise bank {params.width}-bit x {params.lanes} lanes, L = {params.length}: "
          f"first words after reset (golden model)")
    for i, row in enumerate(model.after_reset(4)):
        print(f"   word {i}: " + " ".join(f"{int(w):02x}" for w in row))

    print("\n== The same bank in RTL, against the golden model (random backpressure, reseeds)")
    failures = 0
    for sim in harness.SIMULATORS:
        start = time.monotonic()
        try:
            harness.run(sim, params, "cimforge.verif.raca.tb_lfsr_bank", name="demo",
                        args={"words": 300}, quiet=True)
            verdict = "PASS: every word matches the model"
        except harness.SimulatorMissing as missing:
            verdict, failures = f"MISSING: {missing}", failures + 1
        except SystemExit as failed:
            verdict, failures = f"FAIL: {failed} (log: sim_build/.../runs/demo/sim.log)", \
                failures + 1
        print(f"   {sim:<9} {verdict} ({time.monotonic() - start:.1f} s incl. build)")
    failures += raca_demo(out)
    failures += snn_demo()
    print(f"\nVerilog, metadata JSON and params are in {out}/; simulator builds in sim_build/.")
    return 1 if failures else 0


def raca_demo(out: Path, images: int = 4, samples: int = 8) -> int:
    """A few MNIST test images through the RACA RTL (Verilator), checked against the model."""
    params = BLOCKS["raca"].configure("mnist", [])
    print(f"\n== RACA: the shipped 784-256-10 MNIST network, first {images} test images, "
          f"T = {samples} (RTL in Verilator vs the golden model)")
    try:
        data, net = load_dataset("mnist"), load_network("mnist")
    except DatasetMissing as missing:
        print(f"   MISSING: {missing}")
        return 1
    record = (out / "raca_mnist.json").resolve()
    start = time.monotonic()
    try:
        harness.run("verilator", params, "cimforge.verif.raca.tb_workload", name="demo",
                    args={"dataset": "mnist", "images": images, "samples": samples,
                          "gap": 0, "stall": 0, "out": str(record)}, quiet=True)
    except (harness.SimulatorMissing, SystemExit) as failed:
        print(f"   FAIL: {failed} (log: sim_build/.../runs/demo/sim.log)")
        return 1
    model = RacaModel(params)
    for r in json.loads(record.read_text())["images"]:
        votes = model.infer(net, data.x_test[r["image"]], samples,
                            image_seed(r["image"], params.lfsr_length)).counts
        print(f"   image {r['image']}: label {r['label']}, RTL predicts {r['prediction']} "
              f"(votes {' '.join(map(str, r['counts']))}; model "
              f"{'same' if list(votes) == r['counts'] else 'DIFFERS'}), {r['cycles']} cycles")
    print(f"   PASS: predictions, votes and cycle counts match the model "
          f"({time.monotonic() - start:.1f} s incl. build)")
    return 0


def snn_demo(samples: int = 6) -> int:
    """Digits event samples through the shipped spiking network on the `small` core's Verilog
    (the fast path), checked against the layer-level reference."""
    from .golden.network import Linear, reference
    from .runner import run as run_network
    from .snn_workload import WORKLOADS, events_of, inputs, shipped
    workload, network = WORKLOADS["digits"], shipped("digits")
    print(f"\n== Spiking network: the shipped digits network (288-48-10, B_W 4, B_V 16) on "
          f"{samples} test samples of the digits event data, {workload.bins} timesteps each, "
          f"on the `small` snn_core's Verilog (fast path) vs the integer reference")
    start = time.monotonic()
    x, y = inputs(workload, range(workload.train, workload.train + samples))
    correct = total_cycles = total_sops = 0
    for index, (sample, label) in enumerate(zip(x, y)):
        events = events_of(sample)
        try:
            result = run_network(network, events, sim="fast", check=False)
        except Exception as failed:          # noqa: BLE001 - a demo reports, never dies
            print(f"   FAIL: {failed}")
            return 1
        expected = reference(network, events)
        same = result.spikes == [step[-1] for step in expected.spikes]
        # synaptic operations: every event into a layer reaches every neuron of it
        fan_out = [layer.weight.shape[0] for layer in network.layers if isinstance(layer, Linear)]
        sops = sum(len(step) for step in events) * fan_out[0] + sum(
            len(step[0]) for step in expected.spikes) * fan_out[1]
        correct += result.prediction == label
        total_cycles += result.cycles
        total_sops += sops
        print(f"   sample {workload.train + index}: label {label}, predicts {result.prediction} "
              f"(spike counts {' '.join(map(str, result.counts))}; reference "
              f"{'same' if same else 'DIFFERS'}), {result.cycles} cycles, "
              f"{sops / result.cycles:.2f} SOP/cycle")
        if not same:
            return 1
    print(f"   accuracy {correct}/{samples}; {total_cycles / samples:.0f} cycles and "
          f"{total_sops / total_cycles:.2f} SOP/cycle on average "
          f"({time.monotonic() - start:.1f} s incl. build); whole test split: bench/RESULTS.md")
    from .snn_workload import energy_per_inference
    print("   energy per inference on one `flexspim` core, by stationarity (golden.energy: "
          "macro + loads/stores + buffer; DRAM and mesh not counted yet):")
    for how, e in energy_per_inference(
            "digits", range(workload.train, workload.train + samples)).items():
        print(f"     {how:<6} " + (e["error"] if "error" in e else
                                   f"{e['total']:7.1f} nJ (macro {e['macro']}, loads/stores "
                                   f"{e['macro_moves']}, buffer {e['buffer']}; layers "
                                   f"{' '.join(e['layers'])})"))
    return 0
