"""Bad input to an accelerator core (Amaranth's simulator): events beyond a queue's depth
(input events, and a layer's spikes beyond the next layer's queue), a malformed descriptor,
host commands out of range. Each is dropped and counted, the rest runs as if it had not come
(as the golden model drops them), and every timestep still ends."""

import numpy as np
from cimforge.golden.network import Linear, Network, Neurons, reference
from cimforge.golden.snn import CoreModel
from cimforge.mapper import descriptors, map_network
from cimforge.params.snn import CoreCounter, HostOp, SnnCoreParams
from cimforge.snn_host import load_program, step_program
from cimforge.verif import seeds
from cimforge.verif.snn.drive import simulate

# A small queue, so that overflowing it is cheap.
CORE = SnnCoreParams(rows=256, cols=32, max_slices=8, max_lane=8, buffer_rows=512,
                     queue_depth=8, max_layers=2)


def network(rng) -> Network:
    return Network((12,), [
        Linear(rng.integers(0, 4, (6, 12)), Neurons(rng.integers(1, 5, 6), b_w=3, b_v=8)),
        Linear(rng.integers(0, 4, (4, 6)), Neurons(2, b_w=3, b_v=8),
               bias=rng.integers(0, 3, 4))])


def run(words, timesteps, answers=0):
    """Sends `words` (whose read-data is `answers` words), then reads every core counter;
    returns (spikes per timestep, counters). A hang fails the test."""
    reads = [CORE.host_format.pack(op=HostOp.COUNTER, a=c) for c in CoreCounter]
    result = simulate(CORE, words + reads, timesteps=timesteps,
                      answers=answers + len(reads), max_cycles=50_000)
    return result.spikes, dict(zip(CoreCounter, result.rdata[answers:]))


def test_events_beyond_the_queue_are_dropped_and_counted():
    rng = seeds.np_rng("core-overflow")
    net = network(rng)
    mapping = map_network(net, CORE.macro, "ws", CORE.buffer_rows)
    events = [list(rng.choice(12, CORE.queue_depth + 5)), list(rng.choice(12, 3))]
    spikes, counters = run(load_program(CORE, net, mapping) + step_program(CORE, net, events),
                           len(events))
    kept = [events[0][:CORE.queue_depth], events[1]]
    assert spikes == [step[-1] for step in reference(net, kept).spikes]
    assert counters[CoreCounter.DROPPED] == 5


def test_spikes_beyond_the_next_queue_are_dropped_as_the_model_drops_them():
    rng = seeds.np_rng("core-overflow-between-layers")
    # Layer 0: 12 neurons, positive weights and thresholds of 1: all fire at every timestep,
    # more than a queue (8) holds. Layer 1: two neurons of random weights (which events are
    # kept matters), and two that count (weights 1, thresholds 9..12: they fire in timestep
    # 0 on all 12 events and not on the 8 kept, so the drops always change the output).
    net = Network((12,), [
        Linear(rng.integers(1, 3, (12, 12)), Neurons(1, b_w=3, b_v=8)),
        Linear(np.vstack([rng.integers(-2, 4, (2, 12)), np.ones((2, 12), int)]),
               Neurons(np.concatenate([rng.integers(1, 6, 2), rng.integers(9, 13, 2)]),
                       b_w=3, b_v=8))])
    for stationarity in ("ws", "os"):
        mapping = map_network(net, CORE.macro, stationarity, CORE.buffer_rows)
        events = [list(rng.choice(12, 6)) for _ in range(4)]
        spikes, counters = run(load_program(CORE, net, mapping) + step_program(CORE, net, events),
                               len(events))
        model = CoreModel(CORE.macro, net, mapping, CORE.queue_depth).run(events)
        assert model.counters["dropped_1"] > 0, "the test must overflow layer 1's queue"
        assert spikes == [step[-1] for step in model.spikes], stationarity
        assert counters[CoreCounter.DROPPED] == model.counters[CoreCounter.DROPPED]
        assert counters[CoreCounter.EVENTS_IN] == model.counters[CoreCounter.EVENTS_IN]
        # Without the drops the network computes something else: the test can tell.
        assert spikes != [step[-1] for step in reference(net, events).spikes]


def test_a_malformed_descriptor_is_refused_and_the_timestep_ends():
    rng = seeds.np_rng("core-malformed")
    net = network(rng)
    mapping = map_network(net, CORE.macro, "ws", CORE.buffer_rows)
    fmt = CORE.descriptor_format
    good = descriptors(net, mapping, CORE)
    fields = fmt.unpack(good[0])
    fields["s_v"] = 0                            # a walk of no rows: would never end
    program = load_program(CORE, net, mapping)
    program.append(CORE.host_format.pack(op=HostOp.LAYER, a=0, data=fmt.pack(**fields)))
    events = [list(rng.choice(12, 6)) for _ in range(3)]
    spikes, counters = run(program + step_program(CORE, net, events), len(events))
    assert counters[CoreCounter.REFUSED] == len(events)
    assert counters[CoreCounter.LAYERS] == len(events)        # layer 1 still runs
    # Layer 1 gets no events: only its bias moves its membranes.
    silent = [[] for _ in events]
    alone = Network((6,), [net.layers[1]])
    assert spikes == [step[-1] for step in reference(alone, silent).spikes]


def test_commands_out_of_range_are_ignored_and_counted():
    rng = seeds.np_rng("core-bad-commands")
    net = network(rng)
    mapping = map_network(net, CORE.macro, "ws", CORE.buffer_rows)
    fmt = CORE.host_format
    bad = [fmt.pack(op=HostOp.LAYER, a=CORE.max_layers, data=0),
           fmt.pack(op=HostOp.BUFFER, a=CORE.buffer_rows, data=1),
           fmt.pack(op=HostOp.LAYERS, a=0),
           fmt.pack(op=HostOp.LAYERS, a=CORE.max_layers + 1),
           fmt.pack(op=HostOp.COUNTER, a=len(CoreCounter))]
    events = [list(rng.choice(12, 5)) for _ in range(2)]
    words = load_program(CORE, net, mapping) + bad + step_program(CORE, net, events)
    # The COUNTER read out of range is answered all the same (zero).
    dut_spikes, counters = run(words, len(events), answers=1)
    assert dut_spikes == [step[-1] for step in reference(net, events).spikes]
    assert counters[CoreCounter.BAD_COMMANDS] == len(bad)
    assert counters[CoreCounter.DROPPED] == counters[CoreCounter.REFUSED] == 0
