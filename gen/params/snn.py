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

STATIONARITIES = ("ws", "os")


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

    @property
    def resident(self) -> bool:
        return self.chunk == self.groups


@dataclass
class Mapping:
    """A network placed on one core: the plan of every weighted layer (in network order), the
    macro rows and buffer rows to load before the first timestep (row -> bits, bit c = column
    c; resident membranes as zeros, so loading the image also resets the network), and the
    macro configuration of each layer (`LayerConfig`: its PLANE and COMMIT commands)."""
    plans: list
    macro_image: dict
    buffer_image: dict
    configs: list           # per plan: the LayerConfig of its lanes
    rows_used: int
    buffer_rows_used: int
