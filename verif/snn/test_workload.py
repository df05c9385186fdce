"""The shipped spiking workload (`cimforge.snn_workload`, `digits`): the integer network is
exactly the compiled float graph it ships with, it classifies event data, and test samples
run spike for spike on the core's Verilog in both simulators."""

import nir
import numpy as np
from cimforge.golden.network import reference
from cimforge.golden.nir_reference import simulate
from cimforge.nirbridge import from_nir, write
from cimforge.runner import run
from cimforge.snn_train import predict
from cimforge.snn_workload import (
    NETWORK_DIR,
    WORKLOADS,
    compile_options,
    events_of,
    inputs,
    integer_counts,
    shipped,
)
from cimforge.verif import seeds


def test_the_shipped_network_is_its_nir_graph_compiled():
    workload = WORKLOADS["digits"]
    network = shipped("digits")
    again = from_nir(NETWORK_DIR / "snn_digits.nir", compile_options(workload)).network
    assert network.input_shape == (2, 12, 12)
    assert again.difference(network) is None, again.difference(network)
    trained = network.source["trained"]
    assert trained["config"]["hidden"] == list(workload.config.hidden)
    assert trained["bins"] == workload.bins and network.layers[1].neurons.b_w == 4


def test_the_shipped_network_round_trips_through_nir(tmp_path):
    """Its integer form written as NIR (`cimforge export`) reads back identical."""
    network = shipped("digits")
    write(network, tmp_path / "digits.nir")
    back = from_nir(tmp_path / "digits.nir").network
    assert back.difference(network) is None, back.difference(network)


def test_it_classifies_and_the_integers_track_the_float_graph():
    """On 60 test samples: the integer network well above chance, and predicting what the
    float graph (simulated from its NIR parameters) predicts on most of them."""
    workload = WORKLOADS["digits"]
    x, y = inputs(workload, range(workload.train, workload.train + 60))
    integers = predict(integer_counts(shipped("digits"), x))
    graph = nir.read(str(NETWORK_DIR / "snn_digits.nir"))
    floats = predict(np.array([simulate(graph, events_of(s), compile_options(workload)).counts
                               for s in x]))
    assert np.mean(integers == y) >= 0.75, np.mean(integers == y)
    assert np.mean(integers == floats) >= 0.85, np.mean(integers == floats)


def test_a_workload_sample_runs_on_the_core_verilog(sim):
    """A test sample (drawn by the seed) through the `small` core's Verilog: every timestep's
    output spikes equal the reference (and every counter the golden model, inside `run`).
    The fast path runs the whole test split in the bench; `make demo` runs six."""
    workload = WORKLOADS["digits"]
    index = workload.train + int(seeds.np_rng("workload-rtl").integers(
        workload.samples - workload.train))
    x, y = inputs(workload, [index])
    network = shipped("digits")
    events = events_of(x[0])
    result = run(network, events, sim=sim)
    expected = reference(network, events)
    assert result.spikes == [step[-1] for step in expected.spikes]
    assert result.prediction == int(predict(expected.counts()[None])[0])
    print(f"sample {index}: label {y[0]}, prediction {result.prediction}, {result.cycles} "
          f"cycles")
