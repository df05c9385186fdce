"""Spiking workloads end to end: event data (`cimforge.event_data`) binned into timesteps, a
network trained in numpy (`cimforge.snn_train`), written as NIR, compiled to the hardware's
integers (`cimforge.nirbridge`), and its accuracy in float and in the integer golden model.

    python -m cimforge.snn_workload train digits      # rewrites the shipped network
    python -m cimforge.snn_workload accuracy digits   # float vs integer on the test split
    python -m cimforge.snn_workload sample digits 1400 -o in.npy   # one sample's input,
        # for `cimforge run $(python -m cimforge.snn_workload path digits) --input in.npy`
    python -m cimforge.snn_workload path digits       # where the shipped network is

Workloads (`WORKLOADS`): `digits`, a 288-48-10 fully connected network on the 8x8 digits
through the pixel model (12 x 12 x 2 sensor, 10 timesteps of 30 ms); the first 1400 samples
train, the other 397 test. The shipped files are `golden/networks/snn_<name>.npz` (the
compiled integer network, its `source` saying how) and `snn_<name>.nir` (the float graph
it was compiled from).
"""

import argparse
import importlib.util
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from . import event_data
from .golden.network import Network, reference
from .nirbridge import CompileOptions, from_nir
from .snn_train import TrainConfig, predict, to_graph, train

NETWORK_DIR = Path(importlib.util.find_spec("cimforge.golden").origin).parent / "networks"


@dataclass(frozen=True)
class Workload:
    name: str
    samples: int            # the set's size; the first `train` train, the rest test
    train: int
    bins: int
    config: TrainConfig
    data_seed: int = 0

    def dataset(self, indices) -> event_data.EventSet:
        return SETS[self.name][0](indices, seed=self.data_seed)

    @property
    def sensor(self) -> tuple:
        size = SETS[self.name][1]["size"]
        return (2, size, size)


# Each workload's event set: its generator and its geometry.
SETS = {"digits": (event_data.digits_events, event_data.DIGITS)}


WORKLOADS = {
    # 48 hidden neurons: the largest layer whose weights (4 bits, 288 inputs) fit the `small`
    # core's buffer with the output layer's (288 x 6 + 48 x 2 rows of 32 columns), so the
    # tests run it on that core's RTL.
    "digits": Workload("digits", 1797, 1400, 10,
                       TrainConfig(hidden=(48,), b_w=4, b_v=16, epochs=40)),
}


def inputs(workload: Workload, indices) -> tuple[np.ndarray, np.ndarray]:
    """Spike counts (samples, bins, 2 * H * W) and labels of the set's samples `indices`."""
    data = workload.dataset(indices)
    counts = np.array([event_data.to_counts(e, data.sensor, data.duration_us, workload.bins)
                       .reshape(workload.bins, -1) for e in data.samples])
    return counts, data.labels


def events_of(counts: np.ndarray) -> list[list[int]]:
    """One sample's spike counts (bins, n) as the accelerator's input events per timestep."""
    return [list(np.repeat(np.arange(step.size), step)) for step in counts]


def integer_counts(network: Network, counts: np.ndarray) -> np.ndarray:
    """Output spike counts of the integer network (the layer-level reference) per sample."""
    return np.array([reference(network, events_of(sample)).counts() for sample in counts])


def shipped(name: str, folder: Path = NETWORK_DIR) -> Network:
    return Network.load(folder / f"snn_{name}.npz")


def compile_options(workload: Workload) -> CompileOptions:
    return CompileOptions(b_w=workload.config.b_w, b_v=workload.config.b_v, reset="subtract")


def train_workload(name: str, out: Path = NETWORK_DIR) -> dict:
    workload = WORKLOADS[name]
    start = time.monotonic()
    x, y = inputs(workload, range(workload.samples))
    generated = time.monotonic() - start
    params = train(x[:workload.train], y[:workload.train], workload.config)
    trained = time.monotonic() - start - generated
    graph = to_graph(params, workload.config.threshold, workload.sensor)
    import nir
    nir.write(str(out / f"snn_{name}.nir"), graph)
    compiled = from_nir(out / f"snn_{name}.nir", compile_options(workload))
    compiled.network.source["trained"] = {
        "script": f"python -m cimforge.snn_workload train {name}",
        "config": {k: (list(v) if isinstance(v, tuple) else v)
                   for k, v in workload.config.__dict__.items()},
        "data_seed": workload.data_seed, "bins": workload.bins,
        "seconds": {"data": round(generated, 1), "training": round(trained, 1)}}
    compiled.network.save(out / f"snn_{name}.npz")
    print(compiled.render())
    return accuracy(name, folder=out)


def accuracy(name: str, samples: int | None = None, folder: Path = NETWORK_DIR) -> dict:
    """Accuracy on the test split of the shipped network: the float NIR graph (simulated by
    `golden.nir_reference` from its own parameters) and the compiled integer network (the
    layer-level reference, which the golden models and the RTL equal)."""
    import nir

    from .golden.nir_reference import simulate
    workload = WORKLOADS[name]
    test = range(workload.train, workload.samples if samples is None
                 else min(workload.samples, workload.train + samples))
    x, y = inputs(workload, test)
    graph = nir.read(str(folder / f"snn_{name}.nir"))
    options = compile_options(workload)
    floats = np.array([simulate(graph, events_of(sample), options).counts for sample in x])
    integers = integer_counts(shipped(name, folder), x)
    result = {"workload": name, "test_samples": len(y),
              "float": float(np.mean(predict(floats) == y)),
              "integer": float(np.mean(predict(integers) == y)),
              "same_prediction": float(np.mean(predict(floats) == predict(integers)))}
    print(f"{name}: {len(y)} test samples, float {result['float']:.2%}, integer "
          f"{result['integer']:.2%}, same prediction {result['same_prediction']:.2%}")
    return result


def energy_per_inference(name: str, samples: range, core: str = "flexspim") -> dict:
    """Energy (nJ per inference, by component) of the shipped network on one core of preset
    `core` for each stationarity choice, from the golden model's counters over `samples`."""
    from .golden.energy import core_energy
    from .golden.snn import CoreModel
    from .mapper import MappingError, map_network
    from .params.snn import PRESETS
    params = PRESETS[core]
    network = shipped(name)
    x, _ = inputs(WORKLOADS[name], samples)
    out = {}
    for stationarity in ("ws", "os", "hs-min"):
        try:
            mapping = map_network(network, params.macro, stationarity, params.buffer_rows)
        except MappingError as error:
            out[stationarity] = {"error": str(error)}
            continue
        total: dict = {}
        for sample in x:
            result = CoreModel(params.macro, network, mapping,
                               params.queue_depth).run(events_of(sample))
            for part, pj in core_energy(result.macro, result.counters,
                                        params.macro.cols).items():
                total[part] = total.get(part, 0.0) + pj / 1000 / len(x)
        out[stationarity] = {part: round(nj, 1) for part, nj in total.items()}
        out[stationarity]["layers"] = [plan.stationarity for plan in mapping.plans]
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cimforge.snn_workload")
    parser.add_argument("action", choices=["train", "accuracy", "sample", "path"])
    parser.add_argument("workload", choices=list(WORKLOADS))
    parser.add_argument("index", nargs="?", type=int, help="sample: which sample of the set")
    parser.add_argument("-o", "--output", default="input.npy", help="sample: the .npy to write")
    parser.add_argument("--epochs", type=int, help="override the workload's epochs")
    args = parser.parse_args(argv)
    workload = WORKLOADS[args.workload]
    if args.action == "path":
        print(NETWORK_DIR / f"snn_{args.workload}.npz")
        return 0
    if args.action == "sample":
        if args.index is None or not 0 <= args.index < workload.samples:
            parser.error(f"sample needs an index in 0..{workload.samples - 1} (the test split "
                         f"starts at {workload.train})")
        counts, labels = inputs(workload, [args.index])
        np.save(args.output, counts[0].reshape((workload.bins,) + workload.sensor))
        print(f"wrote {args.output}: sample {args.index} (label {labels[0]}), "
              f"{workload.bins} timesteps of {'x'.join(map(str, workload.sensor))} spike "
              f"counts, {int(counts.sum())} events")
        return 0
    if args.epochs:
        WORKLOADS[args.workload] = replace(
            WORKLOADS[args.workload],
            config=replace(WORKLOADS[args.workload].config, epochs=args.epochs))
    if args.action == "train":
        train_workload(args.workload)
    else:
        accuracy(args.workload)
    return 0


if __name__ == "__main__":
    sys.exit(main())
