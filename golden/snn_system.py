"""Several accelerator cores on the mesh (`snn_system`), at event level: every core's part of
the network runs on its own `CoreModel`, stage after stage within a timestep, and its last
layer's spikes go to the next stage's cores (or the host) moved into the whole layer's
numbering. Bit-exact with the RTL in what it sends the host each timestep (as a multiset: the
cores of a split last layer interleave), every core's final membranes and deterministic
counters, and each link's counts; equal to the layer-level reference
(`cimforge.golden.network.reference`) for every mapping.

Within a stage the cores run in parallel in the RTL, so a core fed by several cores takes
their spikes interleaved; the model feeds them stage-part by stage-part. That is the same
result in wrap mode, where the order of a layer's events does not matter; the mapper never
lets several cores feed a saturating layer. Nor does it, for a run that drops events (more than
a core's queue holds: `CoreModel`), when several cores feed the core that drops them: which
ones it drops then depends on timing, and the model drops the last stage-part's.
"""

from collections import Counter as Tally
from dataclasses import dataclass

import numpy as np

from ..params.aer_mesh import PORTS
from ..params.snn_system import LinkCounter, SnnSystemParams, SystemMapping
from .aer import xy_path
from .snn import CoreModel


@dataclass
class SystemResult:
    """`spikes[t]`: the output layer's spikes at timestep t (flat, sorted); `membranes[i]`:
    weighted layer i's final membranes (flat, whole layer); `cores[c]`: core c's `CoreResult`
    counters and macro counters as `CoreModel` keeps them; `links[c]`: its `LinkCounter`s;
    `mesh[(router, port)]`: flits that left router `router` through `port` (a name of
    `aer_mesh.PORTS`; local: ejected), the mesh's `forwarded_<port>` counters."""
    spikes: list
    membranes: list
    cores: dict
    links: dict
    mesh: dict


class SystemModel:
    def __init__(self, system: SnnSystemParams, mapping: SystemMapping):
        self.system, self.mapping = system, mapping
        core = system.core_params
        self.models = {part.core: CoreModel(core.macro, part.network, part.mapping,
                                            core.queue_depth)
                       for part in mapping.parts}
        self.links = {part.core: Tally() for part in mapping.parts}
        self.mesh = Tally()

    def timestep(self, events: list[int]) -> list[int]:
        """Runs one timestep on input `events` (flat input addresses); returns what the host
        receives, sorted."""
        inbox = {part.core: [] for part in self.mapping.parts}
        to_host = []
        for cores in self.mapping.stages:
            for core in cores:
                part = self.mapping.part(core)
                taken = [int(a) for a in events] if part.stage == 0 else inbox[core]
                if part.stage:
                    self.links[core][LinkCounter.RECEIVED] += len(taken)
                    self.links[core][LinkCounter.MARKERS] += part.feeders
                fired = self.models[core].timestep(taken)[-1]
                sent = [a + part.flat_offset for a in fired]
                if part.dests:
                    self.links[core][LinkCounter.SENT] += (len(sent) + 1) * len(part.dests)
                    for dest in part.dests:
                        inbox[dest] += sent
                        for router, port in xy_path(self.system.mesh, core, dest):
                            self.mesh[router, PORTS[port]] += len(sent) + 1   # and the marker
                else:
                    to_host += sent
        return sorted(to_host)

    def membranes(self) -> list[np.ndarray]:
        """Every weighted layer's membranes, whole (split parts put together)."""
        by_layer = {}
        for part in self.mapping.parts:
            for layer, values in zip(part.layers, self.models[part.core].membranes()):
                by_layer.setdefault(layer, []).append((part.channels.start, values))
        return [np.concatenate([v for _, v in sorted(parts, key=lambda x: x[0])])
                for _, parts in sorted(by_layer.items())]

    def run(self, events: list) -> SystemResult:
        spikes = [self.timestep(step) for step in events]
        return SystemResult(spikes, self.membranes(),
                            {c: m.counters for c, m in self.models.items()}, self.links,
                            self.mesh)
