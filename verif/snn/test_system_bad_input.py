"""Bad input to the accelerator system (Amaranth simulator, a 1 x 3 mesh so that a core index
can name an absent core): words for an absent core are dropped and counted, nothing hangs,
and the mesh's counters agree with the links' on a real run."""

import random

from cimforge.golden.aer import counter_index, ctl
from cimforge.golden.network import reference
from cimforge.golden.snn_system import SystemModel
from cimforge.params.snn import HostOp
from cimforge.params.snn_system import LinkCounter, SnnSystemParams, SystemOut, Target
from cimforge.system_host import load_program, read_program, word
from cimforge.system_mapper import map_system
from cimforge.verif import seeds
from cimforge.verif.snn.drive_system import simulate
from cimforge.verif.snn.stimulus import random_events, random_network

SYSTEM = SnnSystemParams(rows=1, cols=3, core="ice40")


def test_absent_cores_are_dropped_and_counted_and_the_mesh_agrees():
    rng = seeds.np_rng("system bad input")
    net = random_network(rng, "fc")
    while len(net.weighted) < 2:
        net = random_network(rng, "fc")
    # Two cores share the first layer and send to the third.
    smap = map_system(net, SYSTEM, "ws", [(1, 2), (len(net.weighted) - 1, 1)])
    events = random_events(rng, net, 2)
    core_word = SYSTEM.core_params.host_format.pack(op=HostOp.STEP)
    bad = [word(SYSTEM, Target.CORE, 3, core_word),      # core 3 of 3 does not exist
           word(SYSTEM, Target.LINK, 3, 0)]
    reads = read_program(SYSTEM, smap)
    reads += [word(SYSTEM, Target.MESH, 0, ctl(SYSTEM.mesh, counter_index(SYSTEM.mesh, c,
                                                                          "injected")))
              for c in range(SYSTEM.cores)]
    reads += [word(SYSTEM, Target.SYSTEM, 0, 0)]
    run = simulate(SYSTEM, smap, bad + load_program(SYSTEM, smap) + bad, events, reads,
                   rng=random.Random(seeds.session_seed()), gap=0.2, stall=0.2)
    want = SystemModel(SYSTEM, smap).run(events)
    assert run.spikes == want.spikes == [sorted(s[-1]) for s in reference(net, events).spikes]
    stats = [o.data for o in run.outs if o.kind == SystemOut.STAT]
    injected, dropped = stats[:SYSTEM.cores], stats[-1]
    assert dropped == 4
    links = {c: [o.data for o in run.outs if o.core == c and o.kind == SystemOut.LINK]
             for c in range(SYSTEM.cores)}
    for part in smap.parts:
        assert injected[part.core] == links[part.core][LinkCounter.SENT]
        assert links[part.core][LinkCounter.LATE] == 0
    assert injected[2] == 0 and injected[0] > 0
