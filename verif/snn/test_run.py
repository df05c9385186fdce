"""`cimforge run`: a saved network and an events file through the golden model and the core's
Verilog (both simulators), against the layer-level reference; and every bad input as one
clear message with exit status 2."""

import json

import numpy as np
import pytest
from cimforge.golden.network import Conv2d, Linear, Network, Neurons, reference
from cimforge.runner import RunError, run
from cimforge.verif import seeds
from cimforge.verif.commands import cimforge
from cimforge.verif.snn.stimulus import random_events, random_network


def expected_counts(net, events):
    counts = np.zeros(net.shapes[-1][0], dtype=int)
    for step in reference(net, events).spikes:
        np.add.at(counts, step[-1], 1)
    return counts


@pytest.fixture
def saved(tmp_path):
    """A random convolutional network on disk and a text file of its input events."""
    rng = seeds.np_rng("cli-run")
    net = random_network(rng, "conv")
    events = random_events(rng, net, steps=3)
    net.save(tmp_path / "net.npz")
    (tmp_path / "events.txt").write_text(
        "# one timestep per line\n" + "\n".join(" ".join(map(str, step)) for step in events))
    return tmp_path, net, events


def test_cli_runs_the_golden_model(saved):
    folder, net, events = saved
    result = cimforge("run", "net.npz", "--input", "events.txt", "--json", cwd=folder)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    counts = expected_counts(net, events)
    assert out["counts"] == counts.tolist()
    assert out["prediction"] == int(np.argmax(counts))
    assert out["spikes"] == [step[-1] for step in reference(net, events).spikes]
    assert out["counters"]["core.events_in"] > 0 and out["cycles"] is None


@pytest.mark.parametrize("stationarity", ["ws", "os"])
def test_run_on_the_rtl_equals_the_reference(sim, stationarity):
    """The same run on the core's Verilog: output spikes and every deterministic counter are
    checked against the golden model inside `run`; here, against the reference too."""
    rng = seeds.np_rng("run-rtl", stationarity)
    net = random_network(rng, "conv")
    events = random_events(rng, net, steps=2)
    result = run(net, events, sim=sim, stationarity=stationarity)
    assert result.spikes == [step[-1] for step in reference(net, events).spikes]
    assert result.counts.tolist() == expected_counts(net, events).tolist()
    assert result.cycles > 0 and result.counters["core.dropped"] == 0


def test_cli_runs_a_mesh_on_the_golden_model(saved):
    folder, net, events = saved
    result = cimforge("run", "net.npz", "--input", "events.txt", "--mesh", "2x2", "--json",
                      cwd=folder)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["counts"] == expected_counts(net, events).tolist()
    assert out["spikes"] == [sorted(step[-1]) for step in reference(net, events).spikes]
    assert out["counters"]["core0.core.layers"] > 0 and "core0.link.sent" in out["counters"]


@pytest.mark.parametrize("mesh", [(1, 1), (2, 2)])
def test_run_on_a_mesh_equals_the_reference(sim, mesh):
    """`run --mesh` on the system's Verilog (cores of the ice40 preset): spikes and every
    deterministic counter of every core and link are checked against the golden system model
    inside `run`; here, against the reference too."""
    rng = seeds.np_rng("run-mesh", *mesh)
    net = random_network(rng, "fc")
    events = random_events(rng, net, steps=2)
    result = run(net, events, sim=sim, core="ice40", mesh=mesh)
    assert result.spikes == [sorted(step[-1]) for step in reference(net, events).spikes]
    assert result.cycles > 0 and result.counters["core0.core.dropped"] == 0


def test_npy_spike_counts_are_events(tmp_path):
    net = Network((4,), [Linear(np.ones((2, 4), int), Neurons(2, b_w=2, b_v=6))])
    net.save(tmp_path / "net.npz")
    np.save(tmp_path / "in.npy", np.array([[0, 2, 0, 1], [0, 0, 0, 0]]))
    result = cimforge("run", "net.npz", "--input", "in.npy", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    # Three events (input 1 twice, input 3): both neurons reach 3 >= 2 in timestep 0.
    assert json.loads(result.stdout)["spikes"] == [[0, 1], []]


@pytest.mark.parametrize("events,message", [
    ("1 2 x\n", "events.txt:1: addresses must be integers, got '1 2 x'"),
    ("1\n99\n", "events.txt:2: address 99 is outside the network's"),
    ("", "events.txt: no timesteps"),
])
def test_bad_events_are_one_clear_message(saved, events, message):
    folder = saved[0]
    (folder / "events.txt").write_text(events)
    result = cimforge("run", "net.npz", "--input", "events.txt", cwd=folder)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("args,message", [
    (["run", "missing.npz", "--input", "events.txt"], "No such file or directory: missing.npz"),
    (["run", "events.txt", "--input", "events.txt"], "events.txt: not a cimforge network file"),
    (["run", "empty.npz", "--input", "events.txt"], "empty.npz: not a cimforge network file"),
    (["run", "net.npz", "--input", "events.txt", "--preset", "huge"],
     "core preset 'huge': presets are small"),
    (["run", "net.npz", "--input", "events.txt", "--sim", "modelsim"], "invalid choice"),
    (["run", "net.npz"], "the following arguments are required: --input"),
    (["run", "net.npz", "--input", "events.txt", "--mesh", "2by2"],
     "mesh '2by2': must be RxC with 1..16 rows and columns"),
    (["run", "net.npz", "--input", "events.txt", "--mesh", "1x17"], "mesh '1x17'"),
    (["run", "net.npz", "--input", "net.npz"], "net.npz: not a text file"),
])
def test_bad_arguments_are_one_clear_message(saved, args, message):
    (saved[0] / "empty.npz").write_bytes(b"")
    result = cimforge(*args, cwd=saved[0])
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_network_too_big_names_the_layer(tmp_path):
    net = Network((600,), [Linear(np.ones((32, 600), int), Neurons(3, b_w=8, b_v=16))])
    net.save(tmp_path / "big.npz")
    (tmp_path / "events.txt").write_text("1 2 3\n")
    result = cimforge("run", "big.npz", "--input", "events.txt", "--stationarity", "ws",
                      cwd=tmp_path)
    assert result.returncode == 2
    assert "layer 0: ws needs at least" in result.stderr and "Traceback" not in result.stderr


def flooding():
    """A network whose first layer fires more spikes than the `small` core's queue (512)
    holds for the next layer: 16 x 8 x 8 neurons, each input event reaches 144 of them."""
    return Network((1, 8, 8), [
        Conv2d(np.ones((16, 1, 3, 3), int), Neurons(1, b_w=2, b_v=4), padding=1),
        Conv2d(np.ones((2, 16, 1, 1), int), Neurons(2, b_w=2, b_v=8))])


@pytest.mark.parametrize("where,options", [
    ("layer 1: ", {}),
    ("layer 1 on core 0: ", {"mesh": (1, 2)}),
    ("the core's layers: ", {"sim": "fast", "check": False}),      # the RTL's own counter
])
def test_a_run_that_drops_events_is_an_error(where, options):
    events = [list(range(0, 64, 5)), [3]]
    with pytest.raises(RunError, match="more events than a core's queue holds .queue_depth "
                                       f"512 per layer and timestep.: {where}496 events dropped"):
        run(flooding(), events, **options)


def test_the_cli_refuses_a_run_that_drops_events(tmp_path):
    flooding().save(tmp_path / "net.npz")
    (tmp_path / "events.txt").write_text(" ".join(map(str, range(0, 64, 5))) + "\n")
    result = cimforge("run", "net.npz", "--input", "events.txt", cwd=tmp_path)
    assert result.returncode == 2
    assert "layer 1: " in result.stderr and "events dropped" in result.stderr
    assert "Traceback" not in result.stderr
