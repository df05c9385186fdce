"""Spiking networks as the FlexSpIM accelerator runs them: the network format, its checks, and
the layer-level integer reference every mapping must equal.

A network is a chain of layers from an input of shape (n,) or (channels, height, width):

* `Linear(weight[out, in], bias[out] or None, neurons)` and
  `Conv2d(weight[c_out, c_in, kh, kw], stride, padding, bias[c_out] or None, neurons)`: weighted
  layers, each followed by its integrate-and-fire `Neurons` (B_W, B_V, per-neuron thresholds,
  reset to zero or by subtraction, wrap or saturate);
* `SumPool2d(kernel)` (stride = kernel) and `Flatten()`: address transforms of events, no
  neurons. Flattening is C order (channel, row, column), as NIR and PyTorch do.

Numbers are the macro's: weights are B_W-bit and membranes B_V-bit two's-complement integers.
One timestep (layer-first, as in FlexSpIM): layer 0 takes the timestep's input events; each
weighted layer adds its bias (if any) to every membrane, then each of its input events' weights,
then fires: V >= threshold spikes and resets (to zero, or V - threshold, wrapping); the spikes
are the next layer's events in the same timestep, in fire order (`fire_order`: output position
by position, channels ascending within one; a linear layer's ascending). Membranes persist
across timesteps. In wrap mode the result depends on nothing but the event counts; in saturate
mode every add saturates, so the order is part of the contract: bias first, then the events
in the order they arrive (input events as given, later layers' in fire order).

On disk (`save`/`load`): one `.npz` holding `spec` (JSON: format version, input shape, the
layers with their scalar fields) and the arrays `layer<i>.<name>`.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .cim import saturate, wrap

FORMAT_VERSION = 1
RESETS = ("zero", "subtract")
OVERFLOWS = ("wrap", "saturate")


class NetworkError(ValueError):
    """A network that is malformed or that the hardware cannot run; the message names the
    layer and what is wrong."""


def _ints(values, what: str) -> np.ndarray:
    array = np.asarray(values)
    if array.dtype.kind not in "iub" and not (array.dtype.kind == "f"
                                              and np.all(array == np.round(array))):
        raise NetworkError(f"{what} must be integers, got {array.dtype}")
    return array.astype(np.int64)


def _pair(value, what: str) -> tuple[int, int]:
    pair = (value, value) if np.isscalar(value) else tuple(value)
    if len(pair) != 2 or any(int(v) != v for v in pair):
        raise NetworkError(f"{what} must be an integer or a pair of integers, got {value!r}")
    return int(pair[0]), int(pair[1])


def fits(values: np.ndarray, bits: int) -> bool:
    """Every value is a `bits`-bit two's-complement integer."""
    return bool(np.all((values >= -(1 << (bits - 1))) & (values < (1 << (bits - 1)))))


@dataclass(frozen=True)
class Neurons:
    """Integrate-and-fire neurons: `threshold` (one per neuron, or one for all), B_W (the
    layer's weight bits), B_V (membrane bits), `reset` ("zero" or "subtract") and `overflow`
    ("wrap" or "saturate")."""
    threshold: object
    b_w: int
    b_v: int
    reset: str = "zero"
    overflow: str = "wrap"


@dataclass(frozen=True)
class Linear:
    weight: np.ndarray
    neurons: Neurons
    bias: np.ndarray | None = None
    kind = "linear"


@dataclass(frozen=True)
class Conv2d:
    weight: np.ndarray
    neurons: Neurons
    stride: object = 1
    padding: object = 0
    bias: np.ndarray | None = None
    kind = "conv2d"


@dataclass(frozen=True)
class SumPool2d:
    kernel: object
    kind = "sumpool2d"


@dataclass(frozen=True)
class Flatten:
    kind = "flatten"


LAYER_TYPES = {cls.kind: cls for cls in (Linear, Conv2d, SumPool2d, Flatten)}


@dataclass
class Network:
    """A checked network: `input_shape` and `layers`; `shapes[i]` is the shape after layer i
    (`shapes[-1]` the output). Raises `NetworkError` naming the first layer that is wrong.
    `source`: where it came from (JSON-able; e.g. the NIR graph and the choices that
    compiled it), kept in the file and not read by anything that runs it."""
    input_shape: tuple
    layers: list
    source: dict = field(default_factory=dict)
    shapes: list = field(init=False)

    def __post_init__(self):
        self.input_shape = tuple(int(n) for n in self.input_shape)
        if len(self.input_shape) not in (1, 3) or min(self.input_shape, default=0) < 1:
            raise NetworkError(f"input shape must be (n,) or (channels, height, width) of "
                               f"positive sizes, got {self.input_shape}")
        if not self.layers:
            raise NetworkError("a network needs at least one layer")
        shape, self.shapes, checked = self.input_shape, [], []
        for i, layer in enumerate(self.layers):
            try:
                layer, shape = _check_layer(layer, shape)
            except NetworkError as error:
                raise NetworkError(f"layer {i} ({getattr(layer, 'kind', type(layer).__name__)}):"
                                   f" {error}") from None
            checked.append(layer)
            self.shapes.append(shape)
        self.layers = checked
        if not isinstance(self.layers[-1], (Linear, Conv2d)):
            raise NetworkError(f"the last layer must be weighted (linear or conv2d), got "
                               f"{self.layers[-1].kind}")

    def shape_in(self, index: int) -> tuple:
        return self.input_shape if index == 0 else self.shapes[index - 1]

    def difference(self, other: "Network") -> str | None:
        """The first way `other` computes differently (a shape, a layer's kind, array or
        neuron setting), or None when the two are the same network (`source` aside)."""
        if self.input_shape != other.input_shape or len(self.layers) != len(other.layers):
            return f"input {self.input_shape} with {len(self.layers)} layers against " \
                   f"{other.input_shape} with {len(other.layers)}"
        for i, (a, b) in enumerate(zip(self.layers, other.layers)):
            if type(a) is not type(b):
                return f"layer {i}: {a.kind} against {b.kind}"
            for name in ("weight", "bias", "stride", "padding", "kernel"):
                u, v = getattr(a, name, None), getattr(b, name, None)
                if (u is None) != (v is None) or (u is not None and not np.array_equal(u, v)):
                    return f"layer {i}: {name} differs"
            if hasattr(a, "neurons"):
                if not np.array_equal(a.neurons.threshold, b.neurons.threshold):
                    return f"layer {i}: threshold differs"
                settings = lambda n: (n.b_w, n.b_v, n.reset, n.overflow)
                if settings(a.neurons) != settings(b.neurons):
                    return f"layer {i}: {settings(a.neurons)} against {settings(b.neurons)}"
        return None

    @property
    def weighted(self) -> list[int]:
        """Indices of the weighted layers (the ones with neurons)."""
        return [i for i, layer in enumerate(self.layers) if isinstance(layer, (Linear, Conv2d))]

    # -- on disk ------------------------------------------------------------------------------
    def save(self, path) -> None:
        arrays, layers = {}, []
        for i, layer in enumerate(self.layers):
            entry = {"kind": layer.kind}
            if isinstance(layer, (Linear, Conv2d)):
                n = layer.neurons
                entry.update(b_w=n.b_w, b_v=n.b_v, reset=n.reset, overflow=n.overflow,
                             bias=layer.bias is not None)
                arrays[f"layer{i}.weight"] = layer.weight
                arrays[f"layer{i}.threshold"] = n.threshold
                if layer.bias is not None:
                    arrays[f"layer{i}.bias"] = layer.bias
            if isinstance(layer, Conv2d):
                entry.update(stride=list(layer.stride), padding=list(layer.padding))
            if isinstance(layer, SumPool2d):
                entry.update(kernel=list(layer.kernel))
            layers.append(entry)
        spec = {"format": "cimforge-snn", "version": FORMAT_VERSION,
                "input_shape": list(self.input_shape), "layers": layers}
        if self.source:
            spec["source"] = self.source
        # Integers in the smallest dtype that holds them, compressed: files stay small.
        arrays = {name: a.astype(_smallest_int(a)) for name, a in arrays.items()}
        np.savez_compressed(path, spec=np.array(json.dumps(spec)), **arrays)

    @classmethod
    def load(cls, path) -> "Network":
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as data:
                spec = json.loads(str(data["spec"]))
                arrays = {name: data[name] for name in data.files if name != "spec"}
        except FileNotFoundError:
            raise
        except (OSError, ValueError, KeyError, EOFError) as error:   # EOFError: an empty file
            raise NetworkError(f"{path}: not a cimforge network file ({error})") from None
        if spec.get("format") != "cimforge-snn" or spec.get("version") != FORMAT_VERSION:
            raise NetworkError(f"{path}: format {spec.get('format')!r} version "
                               f"{spec.get('version')!r}, expected cimforge-snn {FORMAT_VERSION}")
        layers = []
        try:
            for i, entry in enumerate(spec["layers"]):
                kind = entry["kind"]
                if kind not in LAYER_TYPES:
                    raise NetworkError(f"layer {i}: unknown kind {kind!r}; kinds are "
                                       f"{', '.join(LAYER_TYPES)}")
                if kind in ("linear", "conv2d"):
                    neurons = Neurons(arrays[f"layer{i}.threshold"], entry["b_w"], entry["b_v"],
                                      entry["reset"], entry["overflow"])
                    bias = arrays[f"layer{i}.bias"] if entry["bias"] else None
                    if kind == "linear":
                        layers.append(Linear(arrays[f"layer{i}.weight"], neurons, bias))
                    else:
                        layers.append(Conv2d(arrays[f"layer{i}.weight"], neurons,
                                             entry["stride"], entry["padding"], bias))
                elif kind == "sumpool2d":
                    layers.append(SumPool2d(entry["kernel"]))
                else:
                    layers.append(Flatten())
        except KeyError as missing:
            raise NetworkError(f"{path}: layer {len(layers)} lacks {missing}") from None
        return cls(tuple(spec["input_shape"]), layers, spec.get("source", {}))


def _smallest_int(array: np.ndarray):
    lo, hi = int(array.min(initial=0)), int(array.max(initial=0))
    return next(t for t in (np.int8, np.int16, np.int32, np.int64)
                if np.iinfo(t).min <= lo and hi <= np.iinfo(t).max)


def _check_neurons(neurons, out_shape, weight: np.ndarray) -> Neurons:
    """The layer's neurons, checked against its output shape and its weights."""
    if not isinstance(neurons, Neurons):
        raise NetworkError(f"neurons must be Neurons, got {type(neurons).__name__}")
    for name, lo, hi in (("b_w", 1, 32), ("b_v", 2, 64)):
        value = getattr(neurons, name)
        if not isinstance(value, (int, np.integer)) or not lo <= value <= hi:
            raise NetworkError(f"{name} = {value!r}: must be an integer in {lo}..{hi}")
    if neurons.b_w > neurons.b_v:
        raise NetworkError(f"b_w = {neurons.b_w} exceeds b_v = {neurons.b_v}")
    if neurons.reset not in RESETS:
        raise NetworkError(f"reset = {neurons.reset!r}: must be one of {', '.join(RESETS)}")
    if neurons.overflow not in OVERFLOWS:
        raise NetworkError(f"overflow = {neurons.overflow!r}: must be one of "
                           f"{', '.join(OVERFLOWS)}")
    threshold = _ints(neurons.threshold, "threshold")
    if threshold.ndim == 0:
        threshold = np.full(out_shape, int(threshold), dtype=np.int64)
    if threshold.shape != tuple(out_shape):
        raise NetworkError(f"threshold shape {threshold.shape} does not match the layer's "
                           f"output {tuple(out_shape)}")
    if not fits(threshold, neurons.b_v):
        raise NetworkError(f"thresholds {threshold.min()}..{threshold.max()} do not fit "
                           f"b_v = {neurons.b_v} bits")
    if not fits(weight, neurons.b_w):
        raise NetworkError(f"weights {weight.min()}..{weight.max()} do not fit "
                           f"b_w = {neurons.b_w} bits")
    return Neurons(threshold, int(neurons.b_w), int(neurons.b_v), neurons.reset,
                   neurons.overflow)


def _check_bias(bias, count: int, b_w: int):
    if bias is None:
        return None
    bias = _ints(bias, "bias")
    if bias.shape != (count,):
        raise NetworkError(f"bias shape {bias.shape}, expected ({count},)")
    if not fits(bias, b_w):
        raise NetworkError(f"biases {bias.min()}..{bias.max()} do not fit b_w = {b_w} bits "
                           f"(a bias is added as a weight row)")
    return bias


def _check_layer(layer, shape):
    if isinstance(layer, Linear):
        weight = _ints(layer.weight, "weight")
        if len(shape) != 1:
            raise NetworkError(f"input shape {shape}: a linear layer takes a vector (add a "
                               f"flatten layer)")
        if weight.ndim != 2 or weight.shape[1] != shape[0]:
            raise NetworkError(f"weight shape {weight.shape}, expected (outputs, {shape[0]})")
        out = (weight.shape[0],)
        neurons = _check_neurons(layer.neurons, out, weight)
        return Linear(weight, neurons, _check_bias(layer.bias, out[0], neurons.b_w)), out
    if isinstance(layer, Conv2d):
        weight = _ints(layer.weight, "weight")
        if len(shape) != 3:
            raise NetworkError(f"input shape {shape}: a conv2d layer takes (channels, height, "
                               f"width)")
        if weight.ndim != 4 or weight.shape[1] != shape[0]:
            raise NetworkError(f"weight shape {weight.shape}, expected (out channels, "
                               f"{shape[0]}, kernel height, kernel width)")
        stride, padding = _pair(layer.stride, "stride"), _pair(layer.padding, "padding")
        if min(stride) < 1 or min(padding) < 0:
            raise NetworkError(f"stride {stride} must be >= 1 and padding {padding} >= 0")
        kh, kw = weight.shape[2:]
        oh = (shape[1] + 2 * padding[0] - kh) // stride[0] + 1
        ow = (shape[2] + 2 * padding[1] - kw) // stride[1] + 1
        if oh < 1 or ow < 1:
            raise NetworkError(f"a {kh}x{kw} kernel does not fit the {shape[1]}x{shape[2]} "
                               f"map with padding {padding}")
        out = (weight.shape[0], oh, ow)
        neurons = _check_neurons(layer.neurons, out, weight)
        return Conv2d(weight, neurons, stride, padding,
                      _check_bias(layer.bias, out[0], neurons.b_w)), out
    if isinstance(layer, SumPool2d):
        kernel = _pair(layer.kernel, "kernel")
        if len(shape) != 3:
            raise NetworkError(f"input shape {shape}: sum pooling takes (channels, height, "
                               f"width)")
        if min(kernel) < 1 or shape[1] % kernel[0] or shape[2] % kernel[1]:
            raise NetworkError(f"kernel {kernel} must divide the {shape[1]}x{shape[2]} map "
                               f"(stride = kernel, no padding)")
        return SumPool2d(kernel), (shape[0], shape[1] // kernel[0], shape[2] // kernel[1])
    if isinstance(layer, Flatten):
        return layer, (int(np.prod(shape)),)
    raise NetworkError(f"unknown layer type {type(layer).__name__}")


# -- the layer-level reference ------------------------------------------------------------------

def transform(layer, shape_in: tuple, address: int) -> int:
    """Where an event at flat `address` of a pooling or flatten layer's input lands."""
    if isinstance(layer, Flatten):
        return address
    c, y, x = np.unravel_index(address, shape_in)
    ky, kx = layer.kernel
    return int(np.ravel_multi_index((c, y // ky, x // kx),
                                    (shape_in[0], shape_in[1] // ky, shape_in[2] // kx)))


def contribution(layer, shape_in: tuple, address: int) -> np.ndarray:
    """What one event at flat input `address` adds to every membrane of a weighted layer
    (flat, the layer's output order)."""
    if isinstance(layer, Linear):
        return layer.weight[:, address]
    c, y, x = np.unravel_index(address, shape_in)
    c_out, _, kh, kw = layer.weight.shape
    (sy, sx), (py, px) = layer.stride, layer.padding
    _, oh, ow = _conv_out(layer, shape_in)
    add = np.zeros((c_out, oh, ow), dtype=np.int64)
    for ky in range(kh):
        for kx in range(kw):
            oy, rem_y = divmod(y + py - ky, sy)
            ox, rem_x = divmod(x + px - kx, sx)
            if rem_y == 0 and rem_x == 0 and 0 <= oy < oh and 0 <= ox < ow:
                add[:, oy, ox] += layer.weight[:, c, ky, kx]
    return add.reshape(-1)


def _conv_out(layer, shape_in):
    kh, kw = layer.weight.shape[2:]
    (sy, sx), (py, px) = layer.stride, layer.padding
    return (layer.weight.shape[0], (shape_in[1] + 2 * py - kh) // sy + 1,
            (shape_in[2] + 2 * px - kw) // sx + 1)


def fire_order(shape: tuple, addresses) -> list[int]:
    """The order a layer's spikes leave in: output position by position (row-major), channels
    ascending within one (a linear layer: ascending)."""
    positions = int(np.prod(shape[1:])) if len(shape) > 1 else 1
    return sorted((int(a) for a in addresses), key=lambda a: (a % positions, a // positions))


@dataclass
class Result:
    """`spikes[t][i]`: the flat indices that weighted layer `i` (in `Network.weighted` order)
    fired at timestep t, in `fire_order`; `membranes[i]`: its final membranes (flat)."""
    spikes: list
    membranes: list

    def counts(self) -> np.ndarray:
        """Spike counts of the output layer over all timesteps."""
        size = len(self.membranes[-1])
        return sum((np.bincount(t[-1], minlength=size) for t in self.spikes),
                   np.zeros(size, dtype=np.int64))


def reference(network: Network, events: list) -> Result:
    """The layer-level integer reference: `events[t]` are timestep t's input events (flat
    input addresses, repeats allowed, in arrival order)."""
    weighted = network.weighted
    membranes = {i: np.zeros(int(np.prod(network.shapes[i])), dtype=np.int64) for i in weighted}
    spikes = []
    for step in events:
        addresses = [int(a) for a in step]
        fired_by_layer = []
        for i, layer in enumerate(network.layers):
            shape_in = network.shape_in(i)
            if not isinstance(layer, (Linear, Conv2d)):
                addresses = [transform(layer, shape_in, a) for a in addresses]
                continue
            n = layer.neurons
            v = membranes[i]
            clip = (lambda x: saturate(x, n.b_v)) if n.overflow == "saturate" else (
                lambda x: wrap(x, n.b_v))
            if layer.bias is not None:
                per_neuron = np.repeat(layer.bias, v.size // len(layer.bias))
                v = clip(v + per_neuron)
            if n.overflow == "wrap":
                counts = np.bincount(addresses, minlength=int(np.prod(shape_in)))
                if isinstance(layer, Linear):
                    v = wrap(v + layer.weight @ counts, n.b_v)
                else:
                    for a in np.flatnonzero(counts):
                        v = wrap(v + counts[a] * contribution(layer, shape_in, a), n.b_v)
            else:
                for a in addresses:
                    v = saturate(v + contribution(layer, shape_in, a), n.b_v)
            threshold = n.threshold.reshape(-1)
            fired = v >= threshold
            v = np.where(fired, wrap(v - threshold, n.b_v) if n.reset == "subtract" else 0, v)
            membranes[i] = v
            addresses = fire_order(network.shapes[i], np.flatnonzero(fired))
            fired_by_layer.append(addresses)
        spikes.append(fired_by_layer)
    return Result(spikes, [membranes[i] for i in weighted])
