"""The system mapper: a network onto `snn_system`'s cores (`map_system`).

The network becomes a pipeline of stages (`cimforge.params.snn_system`). A stage is a run of
consecutive weighted layers on one core, or one weighted layer split over several cores by
output channels (neurons): each part is a layer of its own with a range of the channels, it
receives every input event, and its link moves its spikes into the whole layer's numbering.
Each part is mapped onto its core by `map_network` (lanes, rows, stationarity, chunking).

The default plan (`default_plan`) is the one with the fewest estimated cycles per timestep
(`estimate`): the stages run one after the other (timesteps are in lockstep), so pipelining
layers over cores only adds capacity, while splitting a layer divides its work; every cut
into stages that fits is tried, the spare cores going to the splits that gain most. A layer
is not split when the next one saturates: that layer would take its events from several
cores in an order the mesh decides, and in saturate mode the order changes the result.
"""

from dataclasses import replace
from math import prod

from .golden.network import Conv2d, Network, Neurons, reference
from .mapper import MappingError, _spike_transform, descriptors, map_network
from .params.snn_system import Part, SnnSystemParams, SystemMapping

FENCE_CYCLES = 17      # a FIRE and its fence, per membrane group (bench/RESULTS.md)
ACTIVITY = 0.25        # the share of a layer's inputs the estimate assumes spike per timestep
MAX_ENUMERATED = 12    # up to this many weighted layers, every cut into stages is tried


def layer_events(network: Network, events: list) -> list[float]:
    """Events each weighted layer takes per timestep, on average, for input `events` (the
    layer-level reference's spikes): what `default_plan` can estimate with instead of
    ACTIVITY."""
    spikes = reference(network, events).spikes
    counts = [sum(map(len, events))] + [sum(len(step[k]) for step in spikes)
                                        for k in range(len(network.weighted) - 1)]
    return [count / max(1, len(events)) for count in counts]


def estimate(part: Part, events: list[float] | None = None) -> float:
    """Cycles of one timestep on the part's core, roughly: ACCs (S_V slices each, an os
    operand's LOAD too) for `events` per weighted layer of the part (default: ACTIVITY of its
    inputs), a fenced FIRE per membrane group, chunk LOADs and STOREs; what `default_plan`
    compares plans by."""
    total = 0.0
    for k, (index, plan) in enumerate(zip(part.network.weighted, part.mapping.plans)):
        layer = part.network.layers[index]
        taps = 1.0
        if isinstance(layer, Conv2d):
            taps = prod(layer.weight.shape[2:]) / prod(layer.stride)
        acc = plan.s_v + (plan.s_w if plan.stationarity == "os" else 0)
        taken = ACTIVITY * prod(part.network.shape_in(index)) if events is None else events[k]
        total += taken * taps * plan.channel_groups * acc + plan.groups * FENCE_CYCLES
        if not plan.resident:
            total += 3 * plan.groups * plan.s_v
    return total


def default_plan(network: Network, system: SnnSystemParams, stationarity: str = "hs-min",
                 events: list[float] | None = None) -> list[tuple[int, int]]:
    """The plan with the fewest estimated cycles per timestep (`estimate`, with `events` per
    weighted layer when given, e.g. `layer_events` of the inputs to run; the stages run one
    after the other, a stage as slow as its slowest part): every cut of the weighted layers
    into stages that fit (the layers in order when there are more than MAX_ENUMERATED), the
    spare cores then given one by one to the one-layer stage they speed up most. Raises the
    `MappingError` of the whole network on one core when no cut fits."""
    weighted, cores = network.weighted, system.cores
    cache = {}

    def stage_cost(first, count, n):
        key = (first, count, n)
        if key not in cache:
            try:
                parts = _stage_parts(network, system, stationarity, first, count, n)
                taken = None if events is None else events[first:first + count]
                cache[key] = max(estimate(p, taken) for p in parts)
            except MappingError:
                cache[key] = None
        return cache[key]

    if len(weighted) > MAX_ENUMERATED:
        cuts = [[1] * len(weighted)]
    else:
        cuts = [_counts(bits, len(weighted)) for bits in range(1 << (len(weighted) - 1))]
    best = None
    for counts in cuts:
        if len(counts) > cores:
            continue
        firsts = [sum(counts[:k]) for k in range(len(counts))]
        plan = [[count, 1] for count in counts]
        costs = [stage_cost(f, c, 1) for f, c in zip(firsts, counts)]
        if None in costs:
            continue
        for _ in range(cores - len(plan)):
            gains = []
            for k, (count, n) in enumerate(plan):
                fans_out = k == 0 or n < system.max_fanout     # the previous stage's
                if count == 1 and n < network.shapes[weighted[firsts[k]]][0] and \
                        _may_split(network, firsts[k]) and fans_out:
                    cost = stage_cost(firsts[k], 1, n + 1)
                    if cost is not None and cost < costs[k]:
                        gains.append((costs[k] - cost, k, cost))
            if not gains:
                break
            _, k, cost = max(gains)
            plan[k][1] += 1
            costs[k] = cost
        if best is None or sum(costs) < best[0]:
            best = (sum(costs), [tuple(stage) for stage in plan])
    if best is None:
        _stage_parts(network, system, stationarity, 0, len(weighted), 1)     # raises
        raise MappingError(f"no plan fits {cores} cores")
    return best[1]


def _counts(bits: int, layers: int) -> list[int]:
    """The cut of `layers` layers into stages that `bits` names (bit k: a cut after k + 1)."""
    counts, run = [], 1
    for k in range(layers - 1):
        if bits >> k & 1:
            counts.append(run)
            run = 1
        else:
            run += 1
    return counts + [run]


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
               plan: list | None = None, events: list[float] | None = None) -> SystemMapping:
    """Places `network` on `system`'s cores by `plan` ((weighted layers, cores) per stage;
    `default_plan` with `events` when None). Raises `MappingError` naming the layer and the
    limit."""
    weighted = network.weighted
    plan = default_plan(network, system, stationarity, events) if plan is None else list(plan)
    if sum(count for count, _ in plan) != len(weighted) or \
            any(count < 1 or n < 1 or (n > 1 and count > 1) for count, n in plan):
        raise MappingError(f"plan {plan}: needs (layers, cores) stages covering the "
                           f"{len(weighted)} weighted layers, several cores only for one layer")
    if sum(n for _, n in plan) > system.cores:
        raise MappingError(f"plan {plan}: needs {sum(n for _, n in plan)} cores, the system has "
                           f"{system.cores}")
    parts, stages, first = [], [], 0
    for stage, (count, n) in enumerate(plan):
        for part in _stage_parts(network, system, stationarity, first, count, n):
            part.core, part.stage = len(parts), stage
            parts.append(part)
        stages.append(list(range(len(parts) - n, len(parts))))
        first += count
    for stage, cores in enumerate(stages):
        for part in (parts[c] for c in cores):
            part.dests = tuple(stages[stage + 1]) if stage + 1 < len(stages) else ()
            part.feeders = len(stages[stage - 1]) if stage else 0
            part.offset = _word_offset(network, part)
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


def _stage_parts(network: Network, system: SnnSystemParams, stationarity: str, first: int,
                 count: int, n: int) -> list[Part]:
    """The parts of the stage of `count` weighted layers from the `first`, over `n` cores,
    each mapped (core and stage numbers still 0)."""
    core, weighted = system.core_params, network.weighted
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
    parts = []
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
        parts.append(Part(0, 0, sub, list(indices), share, mapping, send=send))
    return parts


def _word_offset(network: Network, part: Part) -> int:
    """The part's first output channel as its sent words count it: in `c` of a (c, y, x)
    event, or as a flat address of the pooled map."""
    pool_y, pool_x, flat = part.send
    shape = network.shapes[part.layers[-1]]
    if not flat:
        return part.channels.start
    positions = (shape[1] // pool_y) * (shape[2] // pool_x) if len(shape) == 3 else 1
    return part.channels.start * positions

