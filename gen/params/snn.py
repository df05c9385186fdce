"""How a weighted layer sits in a core's macro and buffer: the per-layer plan the mapper writes
and the controller (the golden system model today, the RTL next) executes.

Neurons are lanes: a layer's output neurons are cut into groups of `lanes` (one membrane per
lane of `lane_width` columns), a group's membranes taking `s_v` consecutive rows. Output channels are
lanes, and every output position (a linear layer has one) has `channel_groups` groups:
neuron (c, position) is lane c % lanes of group position * channel_groups + c // lanes
(linear: neuron k is lane k % lanes of group k // lanes). FIRE goes group by group, lowest
lane first, so spikes leave in (group, lane) order.

Operands (`s_w` rows each, one value per lane): fully connected, weight operand
cg * inputs + i holds W[neurons of group cg, i]; convolution, operand
((cg * c_in + c) * kh + ky) * kw + kx holds W[channels of group cg, c, ky, kx]. Bias operand
cg; threshold operand g (`s_v` rows).

Stationarity: `ws` keeps the weight operands in the macro; the membranes and thresholds stay
too when `chunk` = groups ("resident"), else they live in the buffer and pass through a slot of
`chunk` groups (LOAD, replay the timestep's events, FIRE, STORE back). `os` keeps membranes and
thresholds in the macro and LOADs each weight operand from the buffer into a slot just before
its ACC.
"""

from dataclasses import dataclass
from enum import IntEnum
from functools import cached_property

from . import Params, param
from .cim_macro import CimMacroParams
from .wire import Field, Format, bits

STATIONARITIES = ("ws", "os")


class HostOp(IntEnum):
    """Commands on a core's host port (`SnnCoreParams.host_format`)."""
    LAYER = 0       # a = layer index, data = its descriptor
    BUFFER = 1      # a = buffer row, data = the row
    MACRO = 2       # data = a macro command, passed through (loading the image, reading
                    # counters); its read-data comes out on the core's rdata port
    EVENT = 3       # a = an input event for the next timestep (`event_format`)
    STEP = 4        # run one timestep over the queued input events
    LAYERS = 5      # a = the number of layers to run
    COUNTER = 6     # a = a `CoreCounter`: its value leaves on rdata
    READ = 7        # a = buffer row: it leaves on rdata (chunked membranes)


class CoreCounter(IntEnum):
    """The core's own counters (the macro keeps its own: `cim_macro.Counter`), for the energy
    model and for finding what held a timestep up. Read with `HostOp.COUNTER`; the host's
    MACRO CLEAR clears them too."""
    EVENTS_IN = 0       # events the layers ran (each layer's queued events, summed)
    EVENTS_OUT = 1      # spikes the layers sent (to the next layer or the spike port)
    BUFFER_READS = 2    # buffer rows the controller read (PLANE data, chunk LOADs, os weights)
    BUFFER_WRITES = 3   # buffer rows the controller wrote (chunk STOREs)
    LAYERS = 4          # layers run (each one reconfigures the macro)
    DROPPED = 5         # events dropped: their queue was full
    REFUSED = 6         # layers skipped: a zero count or size in the descriptor
    STALLS = 7          # cycles a command waited for the macro (environment dependent)
    SPIKE_WAITS = 8     # cycles a spike waited for the spike port (environment dependent)
    BAD_COMMANDS = 9    # host commands ignored: a layer, buffer row or layer count out of range
    TAP_WAITS = 10      # cycles the walker had no ACC target (event decoding, taps outside
                        # the chunk): timing, not modelled by the golden model
    FENCE_WAITS = 11    # cycles waiting for a FIRE's spikes to drain (its fence): timing


# The core's counters of cycles: the RTL's timing, which the golden model does not have (it
# keeps every other counter, and the tests require the RTL's to equal them).
TIMING_COUNTERS = (CoreCounter.STALLS, CoreCounter.SPIKE_WAITS, CoreCounter.TAP_WAITS,
                   CoreCounter.FENCE_WAITS)


@dataclass(frozen=True)
class LayerPlan:
    layer: int              # index in the network's layer list
    kind: str               # "linear" or "conv2d"
    stationarity: str       # "ws" or "os"
    lane_width: int         # columns per lane (N)
    lanes: int              # lanes (neurons) per group
    groups: int             # membrane groups
    channel_groups: int     # groups per output position
    s_w: int                # rows per weight (and bias) operand
    s_v: int                # rows per membrane (and threshold) group
    chunk: int              # membrane groups in the macro at once
    # Macro rows (bases of each region) and buffer rows.
    weight_rows: int        # ws: every weight operand; os: the slot of one operand
    bias_rows: int          # -1: no bias
    threshold_rows: int     # resident thresholds, or the slot of `chunk` groups
    membrane_rows: int      # resident membranes, or the slot of `chunk` groups
    buffer_weights: int     # os: weight operands in the buffer (-1: none)
    buffer_membranes: int   # chunked ws: membranes in the buffer (-1: none)
    buffer_thresholds: int  # chunked ws: thresholds in the buffer (-1: none)
    buffer_planes: int      # the configuration planes (PLANE data), `planes` rows

    @property
    def resident(self) -> bool:
        return self.chunk == self.groups


@dataclass
class Mapping:
    """A network placed on one core: the plan of every weighted layer (in network order), the
    macro rows and buffer rows to load before the first timestep (row -> bits, bit c = column
    c; membranes as zeros, in the macro or the buffer, so loading the images also resets the
    network), and the macro configuration of each layer (`LayerConfig`: its PLANE and COMMIT
    commands)."""
    plans: list
    macro_image: dict
    buffer_image: dict
    configs: list           # per plan: the LayerConfig of its lanes
    rows_used: int
    buffer_rows_used: int


@dataclass(frozen=True)
class SnnCoreParams(Params):
    """One accelerator core: its macro's shape, its buffer, and the largest layer it can hold
    (which sets the widths of the layer descriptor)."""

    block = "snn_core"

    rows: int = param(128, "macro rows", lo=8, hi=16384)
    cols: int = param(32, "macro columns", lo=2, hi=1024)
    max_slices: int = param(8, "the most rows an operand may span", lo=1, hi=64)
    max_lane: int = param(8, "the widest lane in columns (0: the whole row)", lo=0, hi=1024)
    buffer_rows: int = param(1024, "operand buffer rows (cols bits each)", lo=1, hi=1 << 20)
    max_inputs: int = param(1024, "largest input of a layer (neurons, or channels x positions)",
                            lo=1, hi=1 << 20)
    max_channels: int = param(256, "most output channels (or neurons) of a layer",
                              lo=1, hi=1 << 16)
    max_map: int = param(64, "largest feature-map side", lo=1, hi=1024)
    max_kernel: int = param(7, "largest kernel side, stride and pooling factor", lo=1, hi=16)

    @property
    def macro(self) -> CimMacroParams:
        return CimMacroParams(rows=self.rows, cols=self.cols, max_slices=self.max_slices,
                              max_lane=self.max_lane)

    @cached_property
    def event_format(self) -> Format:
        """An event as a layer receives it (the host's EVENT address, the event queues): a
        linear layer's input neuron in `c` (so a flat address is the word itself), a
        convolution's input (channel, row, column): the coordinates a DVS sensor sends, and
        what a convolution needs without dividing."""
        side = bits(self.max_map)
        return Format("snn_event", [
            Field("c", bits(self.max_inputs), "linear: input neuron; conv: input channel"),
            Field("y", side, "conv: input row"),
            Field("x", side, "conv: input column"),
        ])

    @cached_property
    def descriptor_format(self) -> Format:
        """One weighted layer as the controller holds it (`LayerPlan` plus the layer's
        geometry). Row fields are macro rows, `buffer_*` buffer rows. A linear layer is held as
        a 1 x 1 convolution of `inputs` channels on a 1 x 1 map. The `*_rows`/`*_weights`
        steps are products of the other fields, computed by the mapper so that the controller
        needs no multiplier per layer: membrane steps count rows from the first membrane,
        weight steps rows from the first weight operand (macro rows for ws, buffer rows for
        os)."""
        macro = self.macro
        row, brow = bits(self.rows), bits(self.buffer_rows)
        step = bits(max(self.rows, self.buffer_rows) + 1)
        groups = self.max_channels * self.max_map * self.max_map
        side, kernel = bits(self.max_map + 1), bits(self.max_kernel + 1)
        return Format("snn_layer_descriptor", [
            Field("conv", 1, "1: a convolution; 0: linear"),
            Field("os", 1, "1: output-stationary (weights streamed); 0: weight-stationary"),
            Field("resident", 1, "membranes and thresholds stay in the macro (chunk = groups)"),
            Field("has_bias", 1, "a bias operand per channel group"),
            Field("saturate", 1, "COMMIT flag"),
            Field("subtract", 1, "COMMIT flag: reset by subtraction"),
            Field("lane_width", bits(macro.lane_limit + 1), "columns per lane"),
            Field("lanes", bits(self.cols + 1), "lanes per membrane group"),
            Field("channels", bits(self.max_channels + 1), "output channels (neurons)"),
            Field("channel_groups", bits(self.max_channels + 1), "groups per output position"),
            Field("groups", bits(groups + 1), "membrane groups"),
            Field("chunk", bits(groups + 1), "membrane groups in the macro at once (conv: a "
                  "multiple of channel_groups, whole output positions)"),
            Field("s_w", bits(self.max_slices + 1), "rows per weight operand"),
            Field("s_v", bits(self.max_slices + 1), "rows per membrane: the walk length"),
            Field("weight_rows", row, "weight operands (ws) or the operand slot (os)"),
            Field("bias_rows", row, "bias operands"),
            Field("threshold_rows", row, "thresholds (or their slot)"),
            Field("membrane_rows", row, "membranes (or their slot)"),
            Field("buffer_weights", brow, "os: weight operands in the buffer"),
            Field("buffer_membranes", brow, "chunked: membranes in the buffer"),
            Field("buffer_thresholds", brow, "chunked: thresholds in the buffer"),
            Field("buffer_planes", brow, "the layer's configuration planes (PLANE data)"),
            Field("inputs", bits(self.max_inputs + 1), "linear: inputs; conv: input channels"),
            Field("out_h", side, "output map height (linear: 1)"),
            Field("out_w", side, "output map width (linear: 1)"),
            Field("kh", kernel, "kernel height (linear: 1)"),
            Field("kw", kernel, "kernel width (linear: 1)"),
            Field("stride_y", kernel, "vertical stride (linear: 1)"),
            Field("stride_x", kernel, "horizontal stride (linear: 1)"),
            Field("pad_y", kernel, "top/bottom padding"),
            Field("pad_x", kernel, "left/right padding"),
            Field("total_rows", step, "groups * s_v: every membrane row of the layer"),
            Field("chunk_rows", step, "chunk * s_v"),
            Field("position_rows", step, "channel_groups * s_v: one output position"),
            Field("line_rows", step, "out_w * position_rows: one output row"),
            Field("channel_weights", step, "kh * kw * s_w: one input channel's operands"),
            Field("group_weights", step, "inputs * channel_weights: one channel group's"),
            Field("chunk_weights", step, "linear: chunk * group_weights"),
            Field("line_weights", step, "kw * s_w: one kernel row"),
            Field("stride_x_weights", step, "stride_x * s_w"),
            Field("stride_y_weights", step, "stride_y * line_weights"),
            Field("pool_y", kernel, "sum pooling of this layer's spikes, vertical (1: none)"),
            Field("pool_x", kernel, "sum pooling of this layer's spikes, horizontal (1: none)"),
            Field("pooled_w", side, "out_w / pool_x"),
            Field("flat", 1, "spikes leave as flat addresses (channel * out_positions + "
                  "position): the next layer is linear, or this is the last"),
            Field("out_positions", bits(self.max_inputs + 1), "flat: pooled positions"),
            Field("group_positions", bits(self.max_inputs + 1), "flat: lanes * out_positions"),
        ])

    max_layers: int = param(4, "most weighted layers", lo=1, hi=64)
    queue_depth: int = param(256, "events one layer can receive in a timestep", lo=2,
                             hi=1 << 16)

    @cached_property
    def host_format(self) -> Format:
        """`s_axis_host_tdata`: one host command (`HostOp`)."""
        data = max(self.descriptor_format.size, self.cols, self.macro.cmd_width)
        a = max(bits(self.max_layers), bits(self.buffer_rows), self.event_format.size)
        return Format("snn_host_command", [
            Field("op", 3, "operation", values=HostOp),
            Field("a", a, "layer index, buffer row or input event (`event_format`)"),
            Field("data", data, "descriptor, buffer row or macro command"),
        ])

    @cached_property
    def spike_format(self) -> Format:
        """`m_axis_spike_tdata`: an output neuron, or the end of a timestep."""
        return Format("snn_spike", [
            Field("address", self.event_format.size, "the spike as an event (`event_format`): "
                  "a flat output neuron in `c` when the layer's descriptor says `flat` (always "
                  "so for a network's last layer), else (c, y, x) for a next core's convolution"),
            Field("end", 1, "1: the timestep is over (address unused)"),
        ])

    def formats(self) -> dict[str, Format]:
        return {"s_axis_host": self.host_format, "m_axis_spike": self.spike_format,
                "descriptor": self.descriptor_format, "event": self.event_format}



PRESETS = {
    # A core for tests and first use: a 512 x 32 macro, lanes up to 8 columns.
    "small": SnnCoreParams(rows=512, cols=32, max_slices=16, max_lane=8, buffer_rows=2048,
                           queue_depth=512),
    # The macro of the cim_macro `ice40` preset (128 x 32), small layers: an attempt at the
    # iCE40 UP5K (`make bench` says whether it fits).
    "ice40": SnnCoreParams(rows=128, cols=32, max_slices=8, max_lane=8, buffer_rows=512,
                           max_inputs=256, max_channels=32, max_map=16, max_kernel=3,
                           max_layers=4, queue_depth=128),
    # The paper's macro size: 512 x 256, lanes up to 16 columns. Queues of 4096 events: every
    # spike of a 16 x 16 x 16 layer (the N-MNIST CNN's first two) can reach the next layer.
    "flexspim": SnnCoreParams(rows=512, cols=256, max_slices=16, max_lane=16,
                              buffer_rows=2048, queue_depth=4096),
}
