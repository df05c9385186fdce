"""The FlexSpIM accelerator's core at command level: a mapped network (`cimforge.params.snn`)
run timestep by timestep, every event turned into macro commands and executed on the bit-exact
macro model (`CimMacroModel`). This is the controller's contract: the RTL core must issue the
same commands (`CoreModel.commands`) and so produce the same spikes, membranes and counters;
and for every mapping the spikes and membranes must equal the layer-level reference
(`cimforge.golden.network.reference`).

Per timestep, layer by layer (layer-first): configure the macro for the layer (its PLANE and
COMMIT commands); then chunk by chunk of membrane groups (one chunk when they are resident):
LOAD the chunk's membranes and thresholds from the buffer (chunked only), ACC the bias, ACC
every event's weights (an `os` layer LOADs each weight operand into its slot first), FIRE every
group of the chunk, each FIRE followed by a COUNTER read of the spike count (the macro answers
it only once every spike before it is out: the controller's sign that this FIRE's spikes are
complete), and STORE the membranes back (chunked only). Fired lanes become neuron addresses,
the next layer's events.

A layer's events wait in a queue of `queue_depth` (the core's): the timestep's input events, and
the spikes of the layer before it on the core. Those beyond it are dropped, as the hardware
drops them, and counted (`DROPPED`, and `dropped_<i>` for weighted layer i); a run that drops
none equals the layer-level reference.
"""

from collections import Counter as Tally
from dataclasses import dataclass

import numpy as np

from ..params.cim_macro import CimMacroParams, Counter, Op
from ..params.snn import CoreCounter, LayerPlan, Mapping
from .cim import CimMacroModel, encode, int_to_bits
from .network import Linear, Network, transform


@dataclass
class CoreResult:
    """`spikes[t][i]`: neuron addresses weighted layer i fired at timestep t, in fire order;
    `membranes[i]`: its final membranes (flat, the layer's output order); `counters`: the core's
    own counts, keyed by `CoreCounter` (the deterministic ones: events in and out, buffer rows
    read and written, layers run) and per layer (`events_in_<i>`, `events_out_<i>`), beside the
    macro's (`macro`, indexed by `Counter`)."""
    spikes: list
    membranes: list
    counters: Tally
    macro: list


class CoreModel:
    """`queue_depth`: the core's (`SnnCoreParams.queue_depth`); None for queues without end
    (the mapping's contract alone)."""

    def __init__(self, params: CimMacroParams, network: Network, mapping: Mapping,
                 queue_depth: int | None = None):
        self.p, self.network, self.mapping = params, network, mapping
        self.queue_depth = queue_depth
        self.macro = CimMacroModel(params)
        self.buffer = dict(mapping.buffer_image)
        self.commands: list[int] = []
        self._pending: list[int] = []
        self.counters = Tally()
        for row, bits in sorted(mapping.macro_image.items()):
            self._issue(Op.LOAD, row, 0, bits)
        self._issue(Op.CLEAR)
        self._sync()
        self.commands.clear()                   # what the timesteps issue starts here

    def _issue(self, op, a=0, b=0, data=0):
        word = encode(self.p, op, a, b, data)
        self.commands.append(word)
        self._pending.append(word)

    def _sync(self):
        """Execute the commands issued so far (in runs: the macro model batches ACCs); before
        anything reads the macro's outputs or array."""
        self.macro.run(self._pending)
        self._pending.clear()

    # -- one layer -------------------------------------------------------------------------
    def _targets(self, plan: LayerPlan, layer, shape_in, address: int):
        """(weight operand, membrane group) of every ACC an event at `address` makes."""
        cg_count = plan.channel_groups
        if isinstance(layer, Linear):
            return [(cg * shape_in[0] + address, cg) for cg in range(cg_count)]
        c, y, x = np.unravel_index(address, shape_in)
        c_in, kh, kw = layer.weight.shape[1:]
        (sy, sx), (py, px) = layer.stride, layer.padding
        _, oh, ow = self.network.shapes[plan.layer]
        targets = []
        for ky in range(kh):
            for kx in range(kw):
                oy, ry = divmod(int(y) + py - ky, sy)
                ox, rx = divmod(int(x) + px - kx, sx)
                if ry or rx or not (0 <= oy < oh and 0 <= ox < ow):
                    continue
                for cg in range(cg_count):
                    operand = ((cg * c_in + int(c)) * kh + ky) * kw + kx
                    targets.append((operand, (oy * ow + ox) * cg_count + cg))
        return targets

    def _layer(self, plan: LayerPlan, config, addresses: list[int]) -> list[int]:
        layer = self.network.layers[plan.layer]
        shape_in = self.network.shape_in(plan.layer)
        for cmd in config.commands(self.p):
            self._issue(*cmd)
        # The PLANE rows come from the buffer.
        self.counters[CoreCounter.BUFFER_READS] += self.p.planes
        self.counters[CoreCounter.LAYERS] += 1
        self.counters[CoreCounter.EVENTS_IN] += len(addresses)
        self.counters[f"events_in_{plan.layer}"] += len(addresses)
        targets = [self._targets(plan, layer, shape_in, a) for a in addresses]
        channels = self.network.shapes[plan.layer][0]
        positions = max(1, int(np.prod(self.network.shapes[plan.layer][1:])))
        fired = []
        for start in range(0, plan.groups, plan.chunk):
            chunk = range(start, min(start + plan.chunk, plan.groups))
            slot = {g: k for k, g in enumerate(chunk)}
            v_row = lambda g: plan.membrane_rows + slot[g] * plan.s_v
            th_row = lambda g: plan.threshold_rows + slot[g] * plan.s_v
            if not plan.resident:
                for g in chunk:
                    for s in range(plan.s_v):
                        self._issue(Op.LOAD, v_row(g) + s, 0,
                                    self.buffer.get(plan.buffer_membranes + g * plan.s_v + s, 0))
                        self._issue(Op.LOAD, th_row(g) + s, 0,
                                    self.buffer[plan.buffer_thresholds + g * plan.s_v + s])
                self.counters[CoreCounter.BUFFER_READS] += 2 * plan.s_v * len(chunk)
            if plan.bias_rows >= 0:
                for g in chunk:
                    self._issue(Op.ACC, plan.bias_rows + (g % plan.channel_groups) * plan.s_w,
                                v_row(g))
            for event in targets:
                for operand, g in event:
                    if g not in slot:
                        continue
                    if plan.stationarity == "os":
                        for s in range(plan.s_w):
                            self._issue(Op.LOAD, plan.weight_rows + s, 0,
                                        self.buffer[plan.buffer_weights + operand * plan.s_w + s])
                        self.counters[CoreCounter.BUFFER_READS] += plan.s_w
                        self._issue(Op.ACC, plan.weight_rows, v_row(g))
                    else:
                        self._issue(Op.ACC, plan.weight_rows + operand * plan.s_w, v_row(g))
            for g in chunk:
                self._sync()
                before = len(self.macro.spikes)
                self._issue(Op.FIRE, v_row(g), th_row(g))
                # A fence: the macro answers a COUNTER only once every spike before it is
                # out, so its read-data word ends this FIRE's spikes for the controller.
                self._issue(Op.COUNTER, Counter.SPIKES)
                self._sync()
                self.macro.rdata.pop()
                for column in self.macro.spikes[before:]:
                    channel = (g % plan.channel_groups) * plan.lanes + column // plan.lane_width
                    if channel < channels:
                        fired.append(channel * positions + g // plan.channel_groups)
            if not plan.resident:
                for g in chunk:
                    for s in range(plan.s_v):
                        self._issue(Op.STORE, v_row(g) + s)
                        self._sync()
                        self.buffer[plan.buffer_membranes + g * plan.s_v + s] = \
                            self.macro.rdata.pop()
                self.counters[CoreCounter.BUFFER_WRITES] += plan.s_v * len(chunk)
        self.counters[CoreCounter.EVENTS_OUT] += len(fired)
        self.counters[f"events_out_{plan.layer}"] += len(fired)
        return fired

    # -- timesteps ---------------------------------------------------------------------------
    def _queued(self, layer: int, addresses: list[int]) -> list[int]:
        """What weighted layer `layer`'s queue takes of `addresses` (in arrival order)."""
        if self.queue_depth is None or len(addresses) <= self.queue_depth:
            return addresses
        dropped = len(addresses) - self.queue_depth
        self.counters[CoreCounter.DROPPED] += dropped
        self.counters[f"dropped_{layer}"] += dropped
        return addresses[:self.queue_depth]

    def timestep(self, events: list[int]) -> list[list[int]]:
        addresses = [int(a) for a in events]
        plans = {plan.layer: (plan, config)
                 for plan, config in zip(self.mapping.plans, self.mapping.configs)}
        fired_by_layer = []
        for index, layer in enumerate(self.network.layers):
            if index not in plans:
                shape_in = self.network.shape_in(index)
                addresses = [transform(layer, shape_in, a) for a in addresses]
                continue
            addresses = self._layer(*plans[index], self._queued(index, addresses))
            fired_by_layer.append(addresses)
        self._sync()
        return fired_by_layer

    def membranes(self) -> list[np.ndarray]:
        self._sync()
        out = []
        for plan, config in zip(self.mapping.plans, self.mapping.configs):
            n = self.network.layers[plan.layer].neurons
            shape = self.network.shapes[plan.layer]
            positions = max(1, int(np.prod(shape[1:])))
            values = np.zeros((shape[0], positions), dtype=np.int64)
            for g in range(plan.groups):
                if plan.resident:
                    rows = self.macro.array[plan.membrane_rows + g * plan.s_v:][:plan.s_v]
                else:
                    rows = np.array([int_to_bits(self.buffer.get(
                        plan.buffer_membranes + g * plan.s_v + s, 0), self.p.cols)
                        for s in range(plan.s_v)])
                lanes = config.unpack(rows, n.b_v)
                cg, position = g % plan.channel_groups, g // plan.channel_groups
                for lane, value in enumerate(lanes):
                    channel = cg * plan.lanes + lane
                    if channel < shape[0]:
                        values[channel, position] = value
            out.append(values.reshape(-1))
        return out

    def run(self, events: list) -> CoreResult:
        spikes = [self.timestep(step) for step in events]
        return CoreResult(spikes, self.membranes(), self.counters,
                          [int(c) for c in self.macro.counters])
