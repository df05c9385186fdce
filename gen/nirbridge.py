"""NIR in and out: a NIR graph (the Neuromorphic Intermediate Representation, `nir` package)
compiled to the accelerator's network format (`cimforge.golden.network`), and every network
written back as NIR.

NIR leaves discretisation to the backend; cimforge's reading (docs/nir.md says why):

* One timestep is `dt` of NIR time (`CompileOptions.dt`, default 1). Forward Euler: an IF
  neuron integrates v += dt * r * I each timestep, I = W x + b with x the timestep's input
  spike counts; the whole chain runs layer after layer within one timestep, as the hardware.
* The neuron fires when v >= v_threshold (`firing=">="`, the hardware's rule and Sinabs'),
  or v > v_threshold (`firing=">"`, NIR's equation): the two differ only where v lands exactly
  on the threshold, which integer-valued graphs do.
* Reset: to zero (`reset="zero"`: NIR's v = v_reset with v_reset = 0; Norse) or by subtraction
  (`reset="subtract"`: Sinabs IAF, snnTorch's default). A non-zero v_reset is refused.
* r > 0 per neuron folds into the neuron's threshold (fire when sum W x >= v_threshold /
  (dt r)), so per-neuron r and thresholds cost nothing; a bias is a constant input every
  timestep (the hardware adds it at each timestep start).
* AvgPool2d is sum pooling with 1/(kh kw) folded into the next weighted layer's weights.
* LIF only with `lif="if"`: the leak term -v dt/tau is dropped (an IF with r' = r dt/tau and
  the constant input v_leak dt/tau); `cimforge.golden.nir_reference` simulates the exact LIF,
  so the cost of that approximation is measured, not guessed.

Quantisation, per weighted layer: a layer whose weights and bias are already integers that fit
B_W bits keeps them (scale 1: the graphs cimforge writes re-import identically); otherwise
scale s = (2^(B_W-1) - 1) / max|W, b| and W_q = round(s W), b_q = round(s b), thresholds
s v_threshold / (dt r) rounded to the integer that fires on the same integer membranes
(ceil for >=, floor + 1 for >). `CompiledNetwork.report` states every layer's scale and error.

Nodes cimforge writes carry their hardware settings in the IF node's metadata
(`cimforge_b_w`, `cimforge_b_v`, `cimforge_reset`, `cimforge_overflow`, `cimforge_firing`);
on import they take precedence over the options, so a round trip is exact.
"""

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .golden.network import Conv2d, Flatten, Linear, Network, NetworkError, Neurons, SumPool2d
from .golden.nir_graph import (
    FIRINGS,
    METADATA,
    OVERFLOWS,
    RESETS,
    SUPPORTED,
    CompileOptions,
    NirError,
    chain,
    input_shape,
    setting,
)


@dataclass
class LayerReport:
    """One weighted layer's compilation: its NIR nodes, the scale applied, and the error the
    rounding made (relative to the largest float weight / per threshold)."""
    nodes: tuple
    kind: str
    shape: tuple
    b_w: int
    b_v: int
    reset: str
    firing: str
    overflow: str
    scale: float
    weight_error: float          # max |W - W_q / s| / max |W|
    threshold_error: float       # max |theta - theta_q / s| / |theta|
    notes: list = field(default_factory=list)


@dataclass
class CompiledNetwork:
    network: Network
    report: list                 # LayerReport per weighted layer
    options: CompileOptions

    def render(self) -> str:
        lines = ["layer  nodes                  shape        B_W B_V  reset     fire overflow "
                 " scale      weight err  threshold err"]
        for i, r in enumerate(self.report):
            lines.append(f"{i:<6} {'+'.join(r.nodes):<22} {'x'.join(map(str, r.shape)):<12} "
                         f"{r.b_w:>3} {r.b_v:>3}  {r.reset:<9} {r.firing:<4} {r.overflow:<9} "
                         f"{r.scale:<10.4g} {r.weight_error:<11.2%} {r.threshold_error:.2%}")
            lines += [f"       note: {note}" for note in r.notes]
        lines.append(f"one timestep = dt {self.options.dt:g} of NIR time")
        return "\n".join(lines)


# -- reading a graph -----------------------------------------------------------------------

def read(path) -> object:
    """The NIR graph in file `path`, or `NirError` saying why it cannot be read."""
    import nir
    path = Path(path)
    if not path.is_file():
        raise NirError(f"{path}: no such file")
    try:
        return nir.read(path, type_check=False)      # our checks name the node
    except Exception as error:          # h5py, KeyError, nir's asserts: all "unreadable"
        raise NirError(f"{path}: not a readable NIR file ({type(error).__name__}: "
                       f"{error})") from None


def _type(node) -> str:
    return type(node).__name__


def _pair(value, node: str, what: str) -> tuple[int, int]:
    array = np.atleast_1d(np.asarray(value)).reshape(-1)
    if array.size == 1:
        array = np.repeat(array, 2)
    if array.size != 2 or np.any(array != np.round(array)):
        raise NirError(f"node {node!r}: {what} {value!r} is not an integer or a pair")
    return int(array[0]), int(array[1])


def _per_neuron(value, shape: tuple, node: str, what: str) -> np.ndarray:
    array = np.asarray(value, dtype=float)
    try:
        return np.broadcast_to(array, shape).astype(float)
    except ValueError:
        raise NirError(f"node {node!r}: {what} of shape {array.shape} does not match the "
                       f"layer's output {shape}") from None


@dataclass
class _Weighted:
    """A weighted layer in float, before quantisation (weights in units of its input)."""
    names: list
    kind: str
    weight: np.ndarray
    bias: np.ndarray | None
    stride: tuple = (1, 1)
    padding: tuple = (0, 0)
    out_shape: tuple = ()
    threshold: np.ndarray | None = None      # per neuron, in weight units
    reset: str = "zero"
    firing: str = ">="
    b_w: int | None = None
    b_v: int | None = None
    overflow: str | None = None
    notes: list = field(default_factory=list)


def _conv_geometry(name, node, shape):
    if len(shape) != 3:
        raise NirError(f"node {name!r}: Conv2d on a {shape} input; it needs (channels, height, "
                       f"width)")
    weight = np.asarray(node.weight, dtype=float)
    if weight.ndim != 4 or weight.shape[1] != shape[0]:
        raise NirError(f"node {name!r}: weight shape {weight.shape} does not take {shape[0]} "
                       f"input channels")
    if int(node.groups) != 1:
        raise NirError(f"node {name!r}: groups = {node.groups}; the hardware does groups = 1 "
                       f"only")
    dilation = _pair(node.dilation, name, "dilation")
    if dilation != (1, 1):
        raise NirError(f"node {name!r}: dilation {dilation}; the hardware does dilation 1 "
                       f"only")
    kernel = weight.shape[2:]
    stride = _pair(node.stride, name, "stride")
    padding = node.padding
    if isinstance(padding, (str, bytes)):
        padding = padding.decode() if isinstance(padding, bytes) else padding
        if padding == "valid":
            padding = (0, 0)
        elif padding == "same" and stride == (1, 1) and all(k % 2 for k in kernel):
            padding = tuple((k - 1) // 2 for k in kernel)
        else:
            raise NirError(f"node {name!r}: padding {padding!r} with stride {stride} and "
                           f"kernel {kernel}; give the padding as numbers")
    padding = _pair(padding, name, "padding")
    if min(stride) < 1 or min(padding) < 0:
        raise NirError(f"node {name!r}: stride {stride} and padding {padding} must be >= 1 "
                       f"and >= 0")
    given = getattr(node, "input_shape", None)
    given = None if given is None else tuple(int(n) for n in np.atleast_1d(given))
    if given is not None and given != shape[1:]:
        raise NirError(f"node {name!r}: input_shape {given} but the map arriving is "
                       f"{shape[1]}x{shape[2]}")
    out = (weight.shape[0],
           (shape[1] + 2 * padding[0] - kernel[0]) // stride[0] + 1,
           (shape[2] + 2 * padding[1] - kernel[1]) // stride[1] + 1)
    if min(out[1:]) < 1:
        raise NirError(f"node {name!r}: a {kernel[0]}x{kernel[1]} kernel does not fit the "
                       f"{shape[1]}x{shape[2]} map")
    return weight, stride, padding, out


def _pool(name, node, shape):
    if len(shape) != 3:
        raise NirError(f"node {name!r}: pooling on a {shape} input; it needs (channels, "
                       f"height, width)")
    kernel = _pair(node.kernel_size, name, "kernel_size")
    stride = _pair(node.stride, name, "stride")
    if stride != kernel or _pair(node.padding, name, "padding") != (0, 0):
        raise NirError(f"node {name!r}: stride {stride}, padding {tuple(node.padding)}; the "
                       f"hardware pools with stride = kernel {kernel} and no padding")
    if shape[1] % kernel[0] or shape[2] % kernel[1]:
        raise NirError(f"node {name!r}: kernel {kernel} does not divide the {shape[1]}x"
                       f"{shape[2]} map")
    return kernel, (shape[0], shape[1] // kernel[0], shape[2] // kernel[1])


def _float_layers(graph, options: CompileOptions):
    """The chain as float layers: (input shape, [ _Weighted | SumPool2d | Flatten ])."""
    import nir
    nodes = chain(graph)
    shape = input_shape(*nodes[0])
    layers, pending, input_scale = [], None, 1.0
    known = (nir.Output, nir.Affine, nir.Linear, nir.Conv2d, nir.IF, nir.LIF, nir.SumPool2d,
             nir.AvgPool2d, nir.Flatten)
    for name, node in nodes[1:]:
        kind = _type(node)
        if not isinstance(node, known):
            raise NirError(f"node {name!r}: {kind} is not supported; cimforge compiles "
                           f"{', '.join(SUPPORTED)}")
        if pending is not None and not isinstance(node, (nir.IF, nir.LIF)):
            raise NirError(f"node {pending.names[0]!r}: {pending.kind} followed by {kind} "
                           f"{name!r}; every weighted layer must feed IF neurons (the "
                           f"hardware's layers fire)")
        if isinstance(node, nir.Output):
            break
        if isinstance(node, (nir.Affine, nir.Linear)):
            weight = np.asarray(node.weight, dtype=float)
            if len(shape) != 1:
                raise NirError(f"node {name!r}: {kind} on a {shape} input; add a Flatten")
            if weight.ndim != 2 or weight.shape[1] != shape[0]:
                raise NirError(f"node {name!r}: weight shape {weight.shape} does not take "
                               f"{shape[0]} inputs")
            bias = np.asarray(node.bias, dtype=float).reshape(-1) if kind == "Affine" else None
            if bias is not None and bias.shape != (weight.shape[0],):
                raise NirError(f"node {name!r}: bias shape {bias.shape}, expected "
                               f"({weight.shape[0]},)")
            pending = _Weighted([name], "linear", weight * input_scale, bias,
                                out_shape=(weight.shape[0],))
        elif isinstance(node, nir.Conv2d):
            weight, stride, padding, out = _conv_geometry(name, node, shape)
            bias = np.asarray(node.bias, dtype=float).reshape(-1)
            if bias.size == 1 and out[0] != 1:
                bias = np.repeat(bias, out[0])
            if bias.shape != (out[0],):
                raise NirError(f"node {name!r}: bias shape {bias.shape}, expected ({out[0]},)")
            pending = _Weighted([name], "conv2d", weight * input_scale, bias, stride, padding,
                                out)
        elif isinstance(node, (nir.IF, nir.LIF)):
            if pending is None:
                raise NirError(f"node {name!r}: {kind} without a weighted layer (Affine, Linear "
                               f"or Conv2d) before it")
            _neurons(name, node, pending, options)
            layers.append(pending)
            shape, pending, input_scale = pending.out_shape, None, 1.0
        elif isinstance(node, (nir.SumPool2d, nir.AvgPool2d)):
            kernel, shape = _pool(name, node, shape)
            layers.append(SumPool2d(kernel))
            if isinstance(node, nir.AvgPool2d):
                input_scale /= kernel[0] * kernel[1]
        else:                                       # Flatten
            shape = (int(np.prod(shape)),)
            layers.append(Flatten())
    if not layers or not isinstance(layers[-1], _Weighted):
        raise NirError("the graph must end in a weighted layer and its IF neurons (their "
                       "spike counts are the output)")
    return input_shape(*nodes[0]), layers


def _neurons(name, node, layer: _Weighted, options: CompileOptions):
    """Folds the neuron node into `layer`: per-neuron threshold in weight units, the bias
    (plus a LIF's constant input), reset and firing rule."""
    import nir
    shape = layer.out_shape
    r = _per_neuron(node.r, shape, name, "r")
    threshold = _per_neuron(node.v_threshold, shape, name, "v_threshold")
    v_reset = _per_neuron(node.v_reset if node.v_reset is not None else 0.0, shape, name,
                          "v_reset")
    if np.any(v_reset != 0):
        raise NirError(f"node {name!r}: v_reset {np.unique(v_reset)[:4]}; the hardware resets "
                       f"to zero (or subtracts the threshold) only")
    if np.any(r <= 0) or not np.all(np.isfinite(r)):
        raise NirError(f"node {name!r}: r must be positive and finite (it scales the input)")
    gain = r * options.dt
    constant = np.zeros(shape)
    if isinstance(node, nir.LIF):
        if options.lif != "if":
            raise NirError(f"node {name!r}: LIF has a leak the hardware's IF neurons do not; "
                           f"compile with lif='if' (--lif if) to drop the -v dt/tau term "
                           f"(docs/nir.md measures what that costs)")
        tau = _per_neuron(node.tau, shape, name, "tau")
        if np.any(tau <= 0):
            raise NirError(f"node {name!r}: tau must be positive")
        gain = gain / tau
        constant = _per_neuron(node.v_leak, shape, name, "v_leak") / r     # weight units
        layer.notes.append("LIF leak -v dt/tau dropped (lif='if')")
    layer.names.append(name)
    layer.threshold = threshold / gain
    bias = (np.zeros(shape[0]) if layer.bias is None else layer.bias)
    per_neuron_bias = (np.broadcast_to(bias.reshape((-1,) + (1,) * (len(shape) - 1)), shape)
                       + constant)
    channel_bias = per_neuron_bias.reshape(shape[0], -1)
    if np.any(channel_bias != channel_bias[:, :1]):
        raise NirError(f"node {name!r}: its v_leak / r varies across a channel's positions; the "
                       f"hardware's bias is one per channel")
    keep = int(setting(node, "bias", 0)) == 1           # cimforge wrote a bias: keep it
    layer.bias = channel_bias[:, 0].copy() if keep or np.any(channel_bias) else None
    layer.reset = setting(node, "reset", options.reset)
    layer.firing = setting(node, "firing", options.firing)
    layer.overflow = setting(node, "overflow", options.overflow)
    for key in ("b_w", "b_v"):
        value = setting(node, key, None)
        setattr(layer, key, None if value is None else int(value))
    if any(setting(node, key, None) is not None for key in ("b_w", "reset", "overflow")):
        layer.notes.append("bits, reset, overflow and firing from the node's metadata")
    if layer.reset not in RESETS or layer.firing not in FIRINGS or \
            layer.overflow not in OVERFLOWS:
        raise NirError(f"node {name!r}: metadata reset {layer.reset!r}, firing "
                       f"{layer.firing!r}, overflow {layer.overflow!r} not understood")


def quantised_threshold(theta: np.ndarray, firing: str) -> np.ndarray:
    """The integer thresholds (hardware: fires at V >= T) that fire on the same integer
    membranes as `theta` under `firing` (a relative 1e-9 absorbs float rounding)."""
    slack = 1e-9 * np.maximum(1.0, np.abs(theta))
    if firing == ">=":
        return np.ceil(theta - slack).astype(np.int64)
    return (np.floor(theta + slack) + 1).astype(np.int64)


def _quantise(layer: _Weighted, index: int, count: int, options: CompileOptions):
    b_w = layer.b_w or options.bits("b_w", index, count)
    b_v = layer.b_v or options.bits("b_v", index, count)
    values = layer.weight if layer.bias is None else np.concatenate(
        [layer.weight.reshape(-1), layer.bias])
    qmax = (1 << (b_w - 1)) - 1
    lo = -(1 << (b_w - 1))
    integral = np.all(values == np.round(values)) and values.min(initial=0) >= lo and \
        values.max(initial=0) <= qmax
    largest = float(np.max(np.abs(values), initial=0.0))
    if integral:
        scale = 1.0
    elif largest == 0 or qmax == 0:
        raise NirError(f"node {layer.names[0]!r}: cannot scale weights of magnitude {largest} "
                       f"to {b_w} bits")
    else:
        scale = qmax / largest
    weight = np.round(layer.weight * scale).astype(np.int64)
    bias = None if layer.bias is None else np.round(layer.bias * scale).astype(np.int64)
    threshold = quantised_threshold(layer.threshold * scale, layer.firing)
    if not (threshold.min() >= -(1 << (b_v - 1)) and threshold.max() < (1 << (b_v - 1))):
        raise NirError(f"node {layer.names[-1]!r}: thresholds scaled to {threshold.min()}.."
                       f"{threshold.max()} do not fit B_V = {b_v} bits; raise b_v or lower b_w")
    weight_error = float(np.max(np.abs(layer.weight - weight / scale), initial=0.0)
                         / largest) if largest else 0.0
    nonzero = layer.threshold != 0
    threshold_error = float(np.max(np.abs(layer.threshold - threshold / scale)[nonzero]
                                   / np.abs(layer.threshold[nonzero]), initial=0.0))
    neurons = Neurons(threshold, b_w, b_v, layer.reset, layer.overflow)
    if layer.kind == "linear":
        hardware = Linear(weight, neurons, bias)
    else:
        hardware = Conv2d(weight, neurons, layer.stride, layer.padding, bias)
    report = LayerReport(tuple(layer.names), layer.kind, layer.out_shape, b_w, b_v,
                         layer.reset, layer.firing, layer.overflow, scale, weight_error,
                         threshold_error,
                         list(layer.notes))
    return hardware, report


def from_nir(graph, options: CompileOptions | None = None) -> CompiledNetwork:
    """Compiles a NIR graph (a `nir.NIRGraph`, or a path to a `.nir` file)."""
    options = options or CompileOptions()
    path = graph if isinstance(graph, (str, Path)) else None
    if path is not None:
        graph = read(path)
    input_shape, float_layers = _float_layers(graph, options)
    count = sum(isinstance(layer, _Weighted) for layer in float_layers)
    for name in ("b_w", "b_v"):
        options.bits(name, 0, count)                # one value, or one per weighted layer
    layers, report = [], []
    for layer in float_layers:
        if isinstance(layer, _Weighted):
            hardware, entry = _quantise(layer, len(report), count, options)
            layers.append(hardware)
            report.append(entry)
        else:
            layers.append(layer)
    source = {"nir": str(path) if path else "a nir.NIRGraph",
              "options": {k: (list(v) if isinstance(v, tuple) else v)
                          for k, v in asdict(options).items()},
              "layers": [{"nodes": list(r.nodes), "reset": r.reset, "firing": r.firing,
                          "overflow": r.overflow, "scale": r.scale,
                          "weight_error": r.weight_error, "threshold_error": r.threshold_error,
                          "notes": r.notes} for r in report]}
    try:
        network = Network(input_shape, layers, source)
    except NetworkError as error:
        raise NirError(f"the compiled network: {error}") from None
    return CompiledNetwork(network, report, options)


# -- writing a graph -----------------------------------------------------------------------

def to_nir(network: Network):
    """`network` as a NIR graph: each weighted layer an Affine or Linear (Conv2d) node and an
    IF node (r = 1, v_threshold = the integer threshold, v_reset = 0) whose metadata holds
    the hardware settings; pooling SumPool2d, flattening Flatten."""
    import nir
    nodes = {"input": nir.Input(input_type={"input": np.array(network.input_shape)})}
    for i, layer in enumerate(network.layers):
        shape_in, shape_out = network.shape_in(i), network.shapes[i]
        if isinstance(layer, Linear):
            nodes[f"layer{i}"] = (nir.Linear(weight=layer.weight.astype(np.int64))
                                  if layer.bias is None else
                                  nir.Affine(weight=layer.weight.astype(np.int64),
                                             bias=layer.bias.astype(np.int64)))
        elif isinstance(layer, Conv2d):
            bias = np.zeros(shape_out[0], np.int64) if layer.bias is None else layer.bias
            nodes[f"layer{i}"] = nir.Conv2d(
                input_shape=tuple(shape_in[1:]), weight=layer.weight.astype(np.int64),
                stride=tuple(layer.stride), padding=tuple(layer.padding), dilation=(1, 1),
                groups=1, bias=bias.astype(np.int64))
        elif isinstance(layer, SumPool2d):
            nodes[f"layer{i}"] = nir.SumPool2d(kernel_size=np.array(layer.kernel),
                                               stride=np.array(layer.kernel),
                                               padding=np.array((0, 0)))
        else:
            nodes[f"layer{i}"] = nir.Flatten(input_type={"input": np.array(shape_in)},
                                             start_dim=0)
        if isinstance(layer, (Linear, Conv2d)):
            n = layer.neurons
            nodes[f"layer{i}_if"] = nir.IF(
                r=np.ones(shape_out), v_threshold=n.threshold.astype(float).reshape(shape_out),
                v_reset=np.zeros(shape_out),
                metadata={METADATA + "b_w": n.b_w, METADATA + "bias": int(layer.bias is not None), METADATA + "b_v": n.b_v,
                          METADATA + "reset": n.reset, METADATA + "overflow": n.overflow,
                          METADATA + "firing": ">="})
    nodes["output"] = nir.Output(output_type={"output": np.array(network.shapes[-1])})
    names = list(nodes)
    return nir.NIRGraph(nodes=nodes, edges=list(zip(names, names[1:])), type_check=False)


def write(network: Network, path) -> None:
    import nir
    nir.write(str(path), to_nir(network))
