"""End to end from a framework: a small convolutional network built in Sinabs (SynSense's
PyTorch SNN library, installed by the `frameworks` extra), exported with `sinabs.to_nir`,
compiled by `cimforge.nirbridge.from_nir`, run by `cimforge run` and on the core's Verilog:
spike for spike what Sinabs itself computes. (Sinabs 2.0 leaves `Conv2d.input_shape` None,
which `nir.write` cannot store, so the graph object is compiled, not a file.)

Sinabs' IAF with `SingleSpike` fires on v >= threshold and subtracts the threshold, so the
graph is compiled with `--reset subtract`; its weights are integers, so nothing is rounded and
the comparison is exact. (snnTorch 1.0's `export_to_nir` fails on nir 1.0.8's type check with
a batch dimension, so Sinabs it is: docs/nir.md.)
"""

import json

import numpy as np
import pytest
from cimforge.golden.network import Network
from cimforge.runner import run
from cimforge.verif import seeds
from cimforge.verif.commands import cimforge

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")     # nirtorch's

torch = pytest.importorskip("torch", reason="the frameworks extra (make test installs it)")
sinabs = pytest.importorskip("sinabs", reason="the frameworks extra (make test installs it)")


def build_model(rng):
    import sinabs.layers as sl
    from sinabs.activation import SingleSpike
    torch.manual_seed(int(rng.integers(1 << 31)))
    conv = torch.nn.Conv2d(2, 4, 3, stride=2, padding=1, bias=False)
    linear = torch.nn.Linear(4 * 2 * 2, 5, bias=True)
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(rng.integers(-2, 5, conv.weight.shape)))
        linear.weight.copy_(torch.from_numpy(rng.integers(-2, 5, linear.weight.shape)))
        linear.bias.copy_(torch.from_numpy(rng.integers(-1, 2, linear.bias.shape)))
    return torch.nn.Sequential(
        conv, sl.IAFSqueeze(batch_size=1, spike_threshold=torch.tensor(4.0),
                            spike_fn=SingleSpike),
        sl.SumPool2d(2), torch.nn.Flatten(), linear,
        sl.IAFSqueeze(batch_size=1, spike_threshold=torch.tensor(6.0), spike_fn=SingleSpike))


def sinabs_spikes(model, counts: np.ndarray) -> list[list[list[int]]]:
    """Per timestep, the hidden and the output layer's spiking neurons (flat, ascending)."""
    for layer in model:
        if hasattr(layer, "reset_states"):
            layer.reset_states()
    with torch.no_grad():
        hidden = model[:2](torch.from_numpy(counts).float())
        for layer in model:
            if hasattr(layer, "reset_states"):
                layer.reset_states()
        output = model(torch.from_numpy(counts).float())
    return [[np.flatnonzero(h.numpy().reshape(-1)).tolist(),
             np.flatnonzero(o.numpy().reshape(-1)).tolist()] for h, o in zip(hidden, output)]


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    from cimforge.nirbridge import CompileOptions, from_nir
    rng = seeds.np_rng("sinabs")
    folder = tmp_path_factory.mktemp("sinabs")
    model = build_model(rng)
    counts = (rng.random((8, 2, 8, 8)) < 0.3).astype(np.int64)   # (timesteps, C, H, W)
    expected = sinabs_spikes(model, counts)
    assert sum(len(step[1]) for step in expected) > 0, "Sinabs' output layer never fires"
    graph = sinabs.to_nir(model, torch.zeros(1, 2, 8, 8))
    compiled = from_nir(graph, CompileOptions(reset="subtract", b_w=4, b_v=12))
    assert [r.scale for r in compiled.report] == [1.0, 1.0]         # integers: nothing rounded
    compiled.network.save(folder / "model.npz")
    np.save(folder / "input.npy", counts)
    return folder, expected


def test_compiled_sinabs_graph_runs_spike_for_spike_in_the_golden_model(exported):
    folder, expected = exported
    net = Network.load(folder / "model.npz")
    assert [layer.kind for layer in net.layers] == ["conv2d", "sumpool2d", "flatten", "linear"]
    ran = cimforge("run", "model.npz", "--input", "input.npy", "--json", cwd=folder)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["spikes"] == [step[1] for step in expected]


def test_compiled_sinabs_graph_runs_spike_for_spike_on_the_core_verilog(exported, sim):
    folder, expected = exported
    from cimforge.golden.network import reference
    from cimforge.runner import load_events
    net = Network.load(folder / "model.npz")
    events = load_events(folder / "input.npy", net)
    assert [sorted(step[0]) for step in reference(net, events).spikes] == \
        [step[0] for step in expected]                           # the hidden layer too
    result = run(net, events, sim=sim)
    assert result.spikes == [step[1] for step in expected]
