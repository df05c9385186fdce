"""The mapper: a spiking network (`cimforge.golden.network`) onto one core's macro and buffer
(`cimforge.params.snn`): lane layout, row placement, stationarity, chunking, and the row images
to load. A network that does not fit raises `MappingError` naming the layer and the limit."""

from dataclasses import dataclass

import numpy as np

from .golden.cim import LayerConfig, bits_to_int, modes_for
from .golden.network import Conv2d, Linear, Network, SumPool2d, transform
from .params.cim_macro import CimMacroParams
from .params.snn import STATIONARITIES, LayerPlan, Mapping, SnnCoreParams
from .params.wire import FormatError, ceil_div

CHOICES = (*STATIONARITIES, "hs-min")


class MappingError(ValueError):
    """The network does not fit the core; the message names the layer and the limit."""


def lane_width(params: CimMacroParams, b_w: int, b_v: int) -> int:
    """A weight in one row if the lanes allow (N = B_W), widened until the membrane fits the
    macro's walk (max_slices)."""
    width = min(b_w, params.lane_limit)
    while ceil_div(b_v, width) > params.max_slices and width < params.lane_limit:
        width += 1
    return width


def stationarity_of(layer, choice: str) -> str:
    """`hs-min`: the smaller operand, in bits, stays in the macro (weights on a tie)."""
    if choice != "hs-min":
        return choice
    neurons = layer.neurons
    weight_bits = layer.weight.size * neurons.b_w
    membrane_bits = neurons.threshold.size * neurons.b_v
    return "ws" if weight_bits <= membrane_bits else "os"


class _Rows:
    """A bump allocator over `limit` rows that says who ran out."""

    def __init__(self, limit: int, what: str):
        self.next, self.limit, self.what = 0, limit, what

    def take(self, count: int) -> int:
        base = self.next
        self.next += count
        return base

    def check(self, layer: int, detail: str):
        if self.next > self.limit:
            raise MappingError(f"layer {layer}: needs {self.next} {self.what} rows ({detail}), "
                               f"the core has {self.limit}")


def map_network(network: Network, params: CimMacroParams, stationarity: str = "hs-min",
                buffer_rows: int = 4096) -> Mapping:
    """Places every weighted layer of `network` on one core: `stationarity` is `ws`, `os` or
    `hs-min` (per layer, the smaller operand stays). Membranes of `ws` layers stay resident
    while the macro has room, earlier layers first; the rest are chunked through a slot."""
    if stationarity not in CHOICES:
        raise MappingError(f"stationarity {stationarity!r}: must be one of {', '.join(CHOICES)}")
    shapes = [_layer_shape(network, index, params, stationarity) for index in network.weighted]
    chunks = _chunks(shapes, params.rows)
    macro, buffer = _Rows(params.rows, "macro"), _Rows(buffer_rows, "buffer")
    plans, configs, macro_image, buffer_image = [], [], {}, {}
    for shape, chunk in zip(shapes, chunks):
        layer, config, n = shape.layer, shape.config, shape.layer.neurons
        s_w, s_v, groups = shape.s_w, shape.s_v, shape.groups

        def put(image, base, size, values, bits):
            """Operand k of `values` at rows base + k * size of `image`."""
            for k, operand in enumerate(values):
                for s, row in enumerate(config.pack(operand, bits)):
                    image[base + k * size + s] = bits_to_int(row)

        plan = dict(layer=shape.index, kind=layer.kind, stationarity=shape.station,
                    lane_width=shape.width, lanes=shape.lanes, groups=groups,
                    channel_groups=shape.channel_groups, s_w=s_w, s_v=s_v, chunk=chunk,
                    buffer_weights=-1, buffer_membranes=-1, buffer_thresholds=-1, bias_rows=-1)
        if shape.station == "ws":
            plan["weight_rows"] = macro.take(len(shape.weights) * s_w)
            put(macro_image, plan["weight_rows"], s_w, shape.weights, n.b_w)
        else:
            plan["weight_rows"] = macro.take(s_w)
            plan["buffer_weights"] = buffer.take(len(shape.weights) * s_w)
            put(buffer_image, plan["buffer_weights"], s_w, shape.weights, n.b_w)
        if shape.biases:
            plan["bias_rows"] = macro.take(len(shape.biases) * s_w)
            put(macro_image, plan["bias_rows"], s_w, shape.biases, n.b_w)
        plan["threshold_rows"] = macro.take(chunk * s_v)
        plan["membrane_rows"] = macro.take(chunk * s_v)
        if chunk == groups:
            put(macro_image, plan["threshold_rows"], s_v, shape.thresholds, n.b_v)
            # Membranes start at zero: loading the image clears whatever the rows held.
            macro_image.update({plan["membrane_rows"] + r: 0 for r in range(groups * s_v)})
        else:
            plan["buffer_thresholds"] = buffer.take(groups * s_v)
            plan["buffer_membranes"] = buffer.take(groups * s_v)
            put(buffer_image, plan["buffer_thresholds"], s_v, shape.thresholds, n.b_v)
            buffer_image.update({plan["buffer_membranes"] + r: 0 for r in range(groups * s_v)})
        plan["buffer_planes"] = buffer.take(params.planes)
        for i, (op, a, b, data) in enumerate(config.commands(params)[:params.planes]):
            buffer_image[plan["buffer_planes"] + i] = data
        buffer.check(shape.index, "operands streamed from the buffer")
        plans.append(LayerPlan(**plan))
        configs.append(config)
    return Mapping(plans, macro_image, buffer_image, configs, macro.next, buffer.next)


@dataclass
class _LayerShape:
    """What a weighted layer needs, before rows are placed."""
    index: int
    layer: object
    station: str
    width: int
    lanes: int
    channel_groups: int
    groups: int
    s_w: int
    s_v: int
    config: LayerConfig
    weights: list            # weight operands: a value per lane each
    biases: list             # bias operands (empty: no bias)
    thresholds: list         # threshold operands, one per membrane group

    @property
    def fixed_rows(self) -> int:
        """Rows that do not depend on chunking: weights (or the os slot) and biases."""
        weights = len(self.weights) * self.s_w if self.station == "ws" else self.s_w
        return weights + len(self.biases) * self.s_w

    @property
    def group_rows(self) -> int:
        """Rows per membrane group in the macro: its membranes and thresholds."""
        return 2 * self.s_v

    @property
    def unit(self) -> int:
        """Chunks are multiples of this: a convolution's are whole output positions, so the
        controller filters its taps by position only."""
        return self.channel_groups if isinstance(self.layer, Conv2d) else 1

    @property
    def least_groups(self) -> int:
        return self.groups if self.station == "os" else self.unit


def _layer_shape(network: Network, index: int, params: CimMacroParams,
                 stationarity: str) -> _LayerShape:
    layer = network.layers[index]
    shape_in, shape_out = network.shape_in(index), network.shapes[index]
    n = layer.neurons
    width = lane_width(params, n.b_w, n.b_v)
    s_w, s_v = ceil_div(n.b_w, width), ceil_div(n.b_v, width)
    if s_v > params.max_slices:
        raise MappingError(f"layer {index}: a {n.b_v}-bit membrane needs {s_v} slices in "
                           f"lanes of {width} columns; the macro walks at most "
                           f"{params.max_slices} (max_lane = {params.lane_limit})")
    channels = shape_out[0]
    lanes = min(params.cols // width, channels)
    # Groups: every output position (one for a linear layer) has `channel_groups`.
    channel_groups = ceil_div(channels, lanes)
    positions = int(np.prod(shape_out[1:]))
    if isinstance(layer, Linear):
        operands = [(cg, i) for cg in range(channel_groups) for i in range(shape_in[0])]
    else:
        c_in, kh, kw = layer.weight.shape[1:]
        operands = [(cg, c, ky, kx) for cg in range(channel_groups) for c in range(c_in)
                    for ky in range(kh) for kx in range(kw)]
    config = LayerConfig(modes_for([width] * lanes, params.cols), n.b_w, n.b_v,
                         saturate=n.overflow == "saturate", subtract=n.reset == "subtract")

    thresholds = n.threshold.reshape(channels, -1)          # (channel, position)
    # Lanes past the last channel never fire: zero weights, the largest threshold.
    never = (1 << (n.b_v - 1)) - 1
    return _LayerShape(
        index, layer, stationarity_of(layer, stationarity), width, lanes, channel_groups,
        channel_groups * positions, s_w, s_v, config,
        [_operand(layer, op, lanes) for op in operands],
        [] if layer.bias is None else [_lanes(layer.bias, cg, lanes)
                                       for cg in range(channel_groups)],
        [_lanes(thresholds[:, g // channel_groups], g % channel_groups, lanes, never)
         for g in range(channel_groups * positions)])


def _chunks(shapes: list, rows: int) -> list[int]:
    """Membrane groups in the macro per layer: every layer's least first (one group for ws,
    all for os), then what is left makes ws layers resident, earlier layers first."""
    used = 0
    for shape in shapes:
        need = shape.fixed_rows + shape.group_rows * shape.least_groups
        if used + need > rows:
            raise MappingError(
                f"layer {shape.index}: {shape.station} needs at least {need} macro rows "
                f"({len(shape.weights)} weight operands of {shape.s_w} rows, "
                f"{shape.least_groups} of {shape.groups} membrane groups of {shape.s_v} rows "
                f"with their thresholds), {rows - used} are free")
        used += need
    chunks, spare = [], rows - used
    for shape in shapes:
        extra = min(shape.groups - shape.least_groups, spare // shape.group_rows)
        extra -= extra % shape.unit
        spare -= extra * shape.group_rows
        chunks.append(shape.least_groups + extra)
    return chunks


def _lanes(values, cg: int, lanes: int, pad: int = 0) -> np.ndarray:
    """Channel group `cg`'s values, one per lane (`pad` past the last channel)."""
    out = np.full(lanes, pad, dtype=np.int64)
    part = values[cg * lanes:(cg + 1) * lanes]
    out[:len(part)] = part
    return out


def _operand(layer, operand, lanes: int) -> np.ndarray:
    """One weight operand: a value per lane (zero past the last channel)."""
    if isinstance(layer, Linear):
        cg, i = operand
        return _lanes(layer.weight[:, i], cg, lanes)
    cg, c, ky, kx = operand
    return _lanes(layer.weight[:, c, ky, kx], cg, lanes)


def _spike_transform(network: Network, index: int) -> tuple[int, int, bool]:
    """(pool_y, pool_x, flat) of the events weighted layer `index` sends: the sum pooling up
    to the next weighted layer, and whether that layer takes flat addresses (it is linear, or
    there is none: the spike port's addresses are flat)."""
    pool_y = pool_x = 1
    for later in network.layers[index + 1:]:
        if isinstance(later, SumPool2d):
            pool_y, pool_x = pool_y * later.kernel[0], pool_x * later.kernel[1]
        elif isinstance(later, (Linear, Conv2d)):
            return pool_y, pool_x, isinstance(later, Linear)
    return pool_y, pool_x, True


def descriptors(network: Network, mapping: Mapping, core: SnnCoreParams,
                send: tuple | None = None) -> list[int]:
    """Every plan of `mapping` as the core's layer descriptor (`core.descriptor_format`);
    `send` (pool_y, pool_x, flat) says how the last layer's spikes leave when a later core
    takes them (default: flat, to the host). Raises `MappingError` naming the layer and the
    field that does not fit the core."""
    fmt, words = core.descriptor_format, []
    for plan in mapping.plans:
        layer = network.layers[plan.layer]
        shape_in, shape_out = network.shape_in(plan.layer), network.shapes[plan.layer]
        if isinstance(layer, Conv2d):
            (kh, kw), (sy, sx), (py, px) = layer.weight.shape[2:], layer.stride, layer.padding
            out_h, out_w = shape_out[1:]
        else:
            kh = kw = sy = sx = out_h = out_w = 1
            py = px = 0
        pool_y, pool_x, flat = _spike_transform(network, plan.layer)
        if send is not None and plan is mapping.plans[-1]:
            pool_y, pool_x, flat = send
        s_w, s_v = plan.s_w, plan.s_v
        position_rows = plan.channel_groups * s_v
        channel_weights = kh * kw * s_w
        group_weights = shape_in[0] * channel_weights
        fields = dict(
            conv=plan.kind == "conv2d", os=plan.stationarity == "os", resident=plan.resident,
            has_bias=plan.bias_rows >= 0, saturate=layer.neurons.overflow == "saturate",
            subtract=layer.neurons.reset == "subtract", lane_width=plan.lane_width,
            lanes=plan.lanes, channels=shape_out[0], channel_groups=plan.channel_groups,
            groups=plan.groups, chunk=plan.chunk, s_w=s_w, s_v=s_v,
            weight_rows=plan.weight_rows, bias_rows=max(plan.bias_rows, 0),
            threshold_rows=plan.threshold_rows, membrane_rows=plan.membrane_rows,
            buffer_weights=max(plan.buffer_weights, 0),
            buffer_membranes=max(plan.buffer_membranes, 0),
            buffer_thresholds=max(plan.buffer_thresholds, 0), buffer_planes=plan.buffer_planes,
            inputs=shape_in[0], out_h=out_h, out_w=out_w, kh=kh, kw=kw, stride_y=sy,
            stride_x=sx, pad_y=py, pad_x=px,
            total_rows=plan.groups * s_v, chunk_rows=plan.chunk * s_v,
            position_rows=position_rows, line_rows=out_w * position_rows,
            channel_weights=channel_weights, group_weights=group_weights,
            chunk_weights=plan.chunk * group_weights if plan.kind == "linear" else 0,
            line_weights=kw * s_w, stride_x_weights=sx * s_w, stride_y_weights=sy * kw * s_w,
            pool_y=pool_y, pool_x=pool_x, pooled_w=out_w // pool_x, flat=flat,
            out_positions=(out_h // pool_y) * (out_w // pool_x),
            group_positions=plan.lanes * (out_h // pool_y) * (out_w // pool_x) if flat else 0)
        try:
            words.append(fmt.pack(**{k: int(v) for k, v in fields.items()}))
        except FormatError as error:
            raise MappingError(f"layer {plan.layer}: does not fit this core's descriptor: "
                               f"{error}") from None
    return words


def event_words(network: Network, core: SnnCoreParams, addresses) -> list[int]:
    """Flat input addresses as the first weighted layer takes them (`core.event_format`):
    unchanged for a linear layer (after any flatten), (channel, row, column) for a
    convolution (after any pooling of the input)."""
    fmt, first = core.event_format, network.weighted[0]
    words = []
    for address in addresses:
        address = int(address)
        for index, layer in enumerate(network.layers[:first]):
            address = transform(layer, network.shape_in(index), address)
        if isinstance(network.layers[first], Linear):
            words.append(fmt.pack(c=address))
        else:
            c, y, x = np.unravel_index(address, network.shape_in(first))
            words.append(fmt.pack(c=int(c), y=int(y), x=int(x)))
    return words
