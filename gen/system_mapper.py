"""The system mapper: a network onto `snn_system`'s cores (`map_system`).

The network becomes a pipeline of stages (`cimforge.params.snn_system`). A stage is a run of
consecutive weighted layers on one core, or one weighted layer split over several cores by
output channels (neurons): each part is a layer of its own with a range of the channels, it
receives every input event, and its link moves its spikes into the whole layer's numbering.
Each part is mapped onto its core by `map_network` (lanes, rows, stationarity, chunking).

The default plan (`default_plan`): with fewer cores than weighted layers, consecutive layers
share cores, balanced by weight count; with more, every layer gets a core and the spare cores
split the layers with the most weights per core. A layer is not split when the next one
saturates: that layer would take its events from several cores in an order the mesh decides,
and in saturate mode the order changes the result.
"""

from dataclasses import replace

from .golden.network import Network, Neurons
from .mapper import MappingError, _spike_transform, descriptors, map_network
from .params.snn_system import Part, SnnSystemParams, SystemMapping


def default_plan(network: Network, cores: int) -> list[tuple[int, int]]:
    """(weighted layers, cores) per stage; a stage of several cores has one layer."""
    weighted = network.weighted
    sizes = [network.layers[i].weight.size for i in weighted]
    if cores <= len(weighted):
        # Consecutive layers share a core: cut where the running weight count passes k/cores.
        total, running, cuts = sum(sizes), 0, []
        for k, size in enumerate(sizes[:-1]):
            running += size
            if running * cores >= total * (len(cuts) + 1) and len(cuts) < cores - 1:
                cuts.append(k + 1)
        while len(cuts) < cores - 1 and len(cuts) < len(sizes) - 1:
            cuts.append(max(c for c in range(1, len(sizes)) if c not in cuts))
            cuts.sort()
        bounds = [0, *sorted(cuts), len(sizes)]
        return [(b - a, 1) for a, b in zip(bounds, bounds[1:])]
    parts = [1] * len(weighted)
    for _ in range(cores - len(weighted)):
        splittable = [k for k, i in enumerate(weighted)
                      if parts[k] < network.shapes[i][0] and _may_split(network, k)]
        if not splittable:
            break
        best = max(splittable, key=lambda k: sizes[k] / parts[k])
        parts[best] += 1
    return [(1, n) for n in parts]


def _may_split(network: Network, k: int) -> bool:
    weighted = network.weighted
    return k + 1 == len(weighted) or \
        network.layers[weighted[k + 1]].neurons.overflow != "saturate"


def _slice(layer, channels: range):
    """The layer with only output channels (neurons) `channels`."""
    n = layer.neurons
    sl = slice(channels.start, channels.stop)
    neurons = Neurons(n.threshold[sl], n.b_w, n.b_v, n.reset, n.overflow)
    bias = None if layer.bias is None else layer.bias[sl]
    return replace(layer, weight=layer.weight[sl], neurons=neurons, bias=bias)


def map_system(network: Network, system: SnnSystemParams, stationarity: str = "hs-min",
               plan: list | None = None) -> SystemMapping:
    """Places `network` on `system`'s cores by `plan` ((weighted layers, cores) per stage;
    `default_plan` when None). Raises `MappingError` naming the layer and the limit."""
    core = system.core_params
    weighted = network.weighted
    plan = default_plan(network, system.cores) if plan is None else list(plan)
    if sum(count for count, _ in plan) != len(weighted) or \
            any(count < 1 or n < 1 or (n > 1 and count > 1) for count, n in plan):
        raise MappingError(f"plan {plan}: needs (layers, cores) stages covering the "
                           f"{len(weighted)} weighted layers, several cores only for one layer")
    if sum(n for _, n in plan) > system.cores:
        raise MappingError(f"plan {plan}: needs {sum(n for _, n in plan)} cores, the system has "
                           f"{system.cores}")
    parts, stages, next_core, first = [], [], 0, 0
    for stage, (count, n) in enumerate(plan):
        indices = weighted[first:first + count]
        start = 0 if first == 0 else weighted[first - 1] + 1
        shape_in = network.shape_in(start)
        channels = network.shapes[indices[-1]][0]
        if n > channels:
            raise MappingError(f"layer {indices[0]}: split over {n} cores but has {channels} "
                               f"output channels")
        if n > 1 and not _may_split(network, first):
            raise MappingError(f"layer {indices[0]}: cannot be split, the next weighted layer "
                               f"saturates (its event order would depend on the mesh)")
        cores = []
        for k in range(n):
            share = range(channels * k // n, channels * (k + 1) // n)
            layers = list(network.layers[start:indices[-1] + 1])
            if n > 1:
                layers[-1] = _slice(layers[-1], share)
            sub = Network(shape_in, layers)
            if len(sub.weighted) > core.max_layers:
                raise MappingError(f"layers {indices[0]}..{indices[-1]}: {len(sub.weighted)} "
                                   f"weighted layers on one core, it holds {core.max_layers}")
            send = _spike_transform(network, indices[-1])
            try:
                mapping = map_network(sub, core.macro, stationarity, core.buffer_rows)
                descriptors(sub, mapping, core, send)        # every field fits the core
            except MappingError as error:
                raise MappingError(_renumber(str(error), start)) from None
            parts.append(Part(next_core, stage, sub, list(indices), share, mapping, send=send))
            cores.append(next_core)
            next_core += 1
        stages.append(cores)
        first += count
    for stage, cores in enumerate(stages):
        for part in (parts[c] for c in cores):
            part.dests = tuple(stages[stage + 1]) if stage + 1 < len(stages) else ()
            part.feeders = len(stages[stage - 1]) if stage else 0
            part.offset = _word_offset(network, part, core)
            if len(part.dests) > system.max_fanout:
                raise MappingError(f"layer {part.layers[-1]}: sends to {len(part.dests)} cores, "
                                   f"a core's link holds {system.max_fanout}")
    return SystemMapping(parts, stages)


def _renumber(message: str, start: int) -> str:
    """A part's error names its layer as the whole network numbers it."""
    if message.startswith("layer "):
        head, _, rest = message[6:].partition(":")
        if head.isdigit():
            return f"layer {int(head) + start}:{rest}"
    return message


def _word_offset(network: Network, part: Part, core) -> int:
    """The part's first output channel as its sent words count it: in `c` of a (c, y, x)
    event, or as a flat address of the pooled map."""
    pool_y, pool_x, flat = part.send
    shape = network.shapes[part.layers[-1]]
    if not flat:
        return part.channels.start
    positions = (shape[1] // pool_y) * (shape[2] // pool_x) if len(shape) == 3 else 1
    return part.channels.start * positions

