"""Running a spiking network on the accelerator: `cimforge run NETWORK --input EVENTS`.

The network (`cimforge.golden.network`, an `.npz`) is mapped onto one core (`snn_core`
preset) or, with `--mesh RxC`, onto rows x cols such cores on the AER mesh (`snn_system`,
the mapper's default plan), and its input events run timestep by timestep through the golden
model, or the Verilog in Icarus or Verilator (driven through its host port by the same host
programs, `cimforge.snn_host` / `cimforge.system_host`, that would drive a board). On a mesh
each timestep's output spikes are sorted (the cores of a split output layer interleave). RTL runs are checked against the golden model
as they go (output spikes and every deterministic counter): a difference is an error, not a
result. So is a run whose events do not fit a core's queue (`queue_depth` events per layer and
timestep): the hardware drops and counts them, and its results are no longer the network's.

Input events: a text file with one line per timestep, each the flat input addresses that
spike in it (C order, as `Flatten`), separated by spaces or commas (`#` starts a comment, and
a line that is only a comment is not a timestep; an empty line is a timestep without events); or an `.npy` array of shape (timesteps, *input
shape) of spike counts.
"""

import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import system_host
from .golden.network import Network
from .golden.snn import CoreModel
from .golden.snn_system import SystemModel
from .mapper import map_network
from .params.cim_macro import TIMING_COUNTERS as MACRO_TIMING
from .params.cim_macro import Counter
from .params.snn import PRESETS, TIMING_COUNTERS, CoreCounter, SnnCoreParams
from .params.snn_system import LinkCounter, SnnSystemParams, SystemOut
from .snn_host import load_program, parse_readout, read_program, step_program
from .system_mapper import layer_events, map_system

SIMULATORS = ("golden", "icarus", "verilator", "fast")
TESTBENCH = "cimforge.verif.snn.tb_run"
SYSTEM_TESTBENCH = "cimforge.verif.snn.tb_system_run"


class RunError(ValueError):
    """Bad input to a run (events file, options); the message says what and where."""


@dataclass
class RunResult:
    """`spikes[t]`: the output layer's spikes at timestep t (flat neuron addresses, fire
    order); `counts`: spikes per output neuron over the run; `prediction`: the neuron with
    the most (the lowest on a tie); `cycles`: clock cycles of the timesteps, each from its
    first host word (input events included) to its end marker (RTL only); counters by name
    (the macro's, then the core's)."""
    spikes: list
    counts: np.ndarray
    prediction: int
    layers: list = field(default_factory=list)      # (layer index, stationarity, chunks)
    cycles: int | None = None
    counters: dict = field(default_factory=dict)


def load_events(path, network: Network) -> list[list[int]]:
    """Input events per timestep from `path` (see the module's docstring), checked against
    the network's input size."""
    path = Path(path)
    size = int(np.prod(network.input_shape))
    if path.suffix == ".npy":
        try:
            counts = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as error:
            raise RunError(f"{path}: not a .npy array ({error})") from None
        if counts.ndim < 1 or counts.shape[1:] != tuple(network.input_shape) \
                or counts.dtype.kind not in "iub" or (counts < 0).any():
            raise RunError(f"{path}: expected non-negative integer spike counts of shape "
                           f"(timesteps, {', '.join(map(str, network.input_shape))}), got "
                           f"{counts.dtype} {counts.shape}")
        return [list(np.repeat(np.arange(size), step.reshape(-1))) for step in counts]
    try:
        lines = path.read_text().splitlines()
    except UnicodeDecodeError:
        raise RunError(f"{path}: not a text file of input addresses") from None
    events = []
    for number, line in enumerate(lines, 1):
        if line.lstrip().startswith("#"):
            continue
        words = line.split("#")[0].replace(",", " ").split()
        try:
            step = [int(word) for word in words]
        except ValueError:
            raise RunError(f"{path}:{number}: addresses must be integers, got "
                           f"{line.strip()!r}") from None
        bad = [a for a in step if not 0 <= a < size]
        if bad:
            raise RunError(f"{path}:{number}: address {bad[0]} is outside the network's "
                           f"{size} inputs")
        events.append(step)
    if not events:
        raise RunError(f"{path}: no timesteps (one line per timestep)")
    return events


def parse_mesh(text: str) -> tuple[int, int]:
    """`RxC` (rows x columns of cores), e.g. `2x2`."""
    rows, sep, cols = text.lower().partition("x")
    if not (sep and rows.isdigit() and cols.isdigit()) or not (
            1 <= int(rows) <= 16 and 1 <= int(cols) <= 16):
        raise RunError(f"mesh {text!r}: must be RxC with 1..16 rows and columns, e.g. 2x2")
    return int(rows), int(cols)


def run(network: Network, events: list, sim: str = "golden", stationarity: str = "hs-min",
        core: SnnCoreParams | str = "small", mesh: tuple[int, int] | None = None,
        check: bool = True) -> RunResult:
    """Maps `network` onto `core` (a preset name or parameters), or onto a `mesh` (rows,
    cols) of such cores (`snn_system`; `core` a preset name), and runs `events`. `check=False`
    (one core, RTL only) skips the command-level golden model, which is slower than the fast
    path: the caller compares the spikes with the layer-level reference instead."""
    if sim not in SIMULATORS:
        raise RunError(f"simulator {sim!r}: must be one of {', '.join(SIMULATORS)}")
    if isinstance(core, str):
        if core not in PRESETS:
            raise RunError(f"core preset {core!r}: presets are {', '.join(PRESETS)}")
        if mesh is not None:
            return _run_system(network, events, sim, stationarity,
                               SnnSystemParams(rows=mesh[0], cols=mesh[1], core=core))
        core = PRESETS[core]
    elif mesh is not None:
        raise RunError("a mesh takes its cores by preset name")
    mapping = map_network(network, core.macro, stationarity, core.buffer_rows)
    load_program(core, network, mapping)               # checks the descriptors fit the core
    for step in events:
        if len(step) > core.queue_depth:
            raise RunError(f"a timestep of {len(step)} input events: the core queues at most "
                           f"{core.queue_depth} per timestep")
    cycles = None
    if check or sim == "golden":
        golden = CoreModel(core.macro, network, mapping, core.queue_depth).run(events)
        _no_drops(core, {f"layer {plan.layer}": golden.counters[f"dropped_{plan.layer}"]
                         for plan in mapping.plans})
        spikes = [step[-1] for step in golden.spikes]
        counters = _named(golden.macro, golden.counters, timing=False)
    if sim != "golden":
        rtl = _run_fast if sim == "fast" else _run_rtl
        spikes_rtl, cycles, measured = rtl(sim, core, network, mapping, events)
        if check:
            counters = _checked(spikes_rtl, spikes, measured, counters)
        else:
            spikes, counters = spikes_rtl, measured
            _no_drops(core, {"the core's layers": counters["core.dropped"]})
    counts = _counts(network, spikes)
    layers = [(plan.layer, plan.stationarity, -(-plan.groups // plan.chunk))
              for plan in mapping.plans]
    return RunResult(spikes, counts, int(np.argmax(counts)), layers, cycles, counters)


def _no_drops(core: SnnCoreParams, dropped: dict):
    """Refuses a run that dropped events (`dropped`: how many, by layer)."""
    lost = {where: n for where, n in dropped.items() if n}
    if lost:
        raise RunError(
            "more events than a core's queue holds (queue_depth "
            f"{core.queue_depth} per layer and timestep): "
            + ", ".join(f"{where}: {n} events dropped over the run" for where, n in lost.items())
            + "; the hardware drops them, so the results would not be the network's. Send "
            "fewer input events per timestep, or use cores with a deeper queue")


def _checked(spikes_rtl, spikes, measured: dict, counters: dict) -> dict:
    """The RTL's counters, once its spikes and deterministic counters equal the model's."""
    if spikes_rtl != spikes:
        raise RuntimeError("the RTL's output spikes differ from the golden model's: "
                           f"{spikes_rtl} against {spikes}")
    for name, value in counters.items():
        if measured[name] != value:
            raise RuntimeError(f"the RTL's counter {name} is {measured[name]}, the golden "
                               f"model's {value}")
    return measured


def _counts(network, spikes) -> np.ndarray:
    """Spikes per output neuron over the run."""
    counts = np.zeros(int(np.prod(network.shapes[-1])), dtype=np.int64)
    for step in spikes:
        np.add.at(counts, np.asarray(step, dtype=np.int64), 1)
    return counts


def _run_rtl(sim, core, network, mapping, events):
    """The core's Verilog in `sim`, through the `tb_run` testbench: the host program goes in a
    file (it can exceed what an environment variable holds)."""
    from .verif import harness
    reads = read_program(core, mapping)
    with tempfile.TemporaryDirectory() as work:
        program = Path(work) / "program.json"
        program.write_text(json.dumps({
            "load": load_program(core, network, mapping),
            "steps": [step_program(core, network, [step]) for step in events],
            "reads": reads}))
        run_dir = harness.run(sim, core, TESTBENCH, name="cimforge-run", quiet=True,
                              args={"program": str(program)})
    result = harness.measurements(run_dir)["run"]
    readout = parse_readout(mapping, result["rdata"])
    return result["spikes"], result["cycles"], _named(readout.macro, readout.core)


def _field_mask(fmt, name: str) -> int:
    return ((1 << fmt[name].width) - 1) << fmt.offset(name)


def _run_fast(sim, core, network, mapping, events):
    """The core's Verilog on the fast path (`cimforge.verif.fast_sim`): the same host
    programs, the end marker told by its bit."""
    from .verif import fast_sim
    fmt = core.spike_format
    end = _field_mask(fmt, "end")
    with tempfile.TemporaryDirectory() as work:
        out = fast_sim.run(core, load_program(core, network, mapping),
                           [step_program(core, network, [step]) for step in events],
                           read_program(core, mapping), 0, end, end, 1, Path(work))
    spikes = [[fields["address"] for fields in map(fmt.unpack, step[0]) if not fields["end"]]
              for step in out.outputs]
    readout = parse_readout(mapping, out.readout)
    return spikes, sum(out.cycles), _named(readout.macro, readout.core)


def _named(macro, core, timing: bool = True) -> dict:
    """The macro's and the core's counters by name (`macro.<name>`, `core.<name>`); without
    `timing`, only the deterministic ones (what the golden model has)."""
    return {**{f"macro.{c.name.lower()}": int(macro[c]) for c in Counter
               if timing or c not in MACRO_TIMING},
            **{f"core.{c.name.lower()}": int(core[c]) for c in CoreCounter
               if timing or c not in TIMING_COUNTERS}}


def _run_system(network, events, sim, stationarity, system: SnnSystemParams) -> RunResult:
    """`run` on `snn_system`: the default plan for these events (`layer_events`)."""
    # The plan is chosen for these inputs: each layer's events from the reference.
    smap = map_system(network, system, stationarity, events=layer_events(network, events))
    load = system_host.load_program(system, smap)       # checks the descriptors fit
    for step in events:
        if len(step) > system.core_params.queue_depth:
            raise RunError(f"a timestep of {len(step)} input events: a core queues at most "
                           f"{system.core_params.queue_depth} per timestep")
    model = SystemModel(system, smap)
    golden = model.run(events)
    _no_drops(system.core_params, {
        f"layer {layer} on core {part.core}": model.models[part.core].counters[f"dropped_{plan.layer}"]
        for part in smap.parts for layer, plan in zip(part.layers, part.mapping.plans)})
    counters = _system_counters(smap, {c: (m.macro.counters, m.counters)
                                       for c, m in model.models.items()}, model.links,
                                timing=False)
    cycles = None
    spikes = golden.spikes
    if sim != "golden":
        rtl = _run_system_fast if sim == "fast" else _run_system_rtl
        spikes_rtl, cycles, measured = rtl(sim, system, smap, network, events, load)
        counters = _checked(spikes_rtl, spikes, measured, counters)
    counts = _counts(network, spikes)
    layers = [(f"{index} on core {part.core}" + (
        f" (channels {part.channels.start}..{part.channels.stop - 1})"
        if index == part.layers[-1] and len(part.channels) < network.shapes[index][0]
        else ""),
        plan.stationarity, -(-plan.groups // plan.chunk))
        for part in smap.parts for index, plan in zip(part.layers, part.mapping.plans)]
    return RunResult(spikes, counts, int(np.argmax(counts)), layers, cycles, counters)


def _run_system_rtl(sim, system, smap, network, events, load):
    from .verif import harness
    reads = system_host.read_program(system, smap)
    with tempfile.TemporaryDirectory() as work:
        program = Path(work) / "program.json"
        program.write_text(json.dumps({
            "load": load, "ends": system_host.ends_per_step(smap),
            "steps": [system_host.step_program(system, smap, step) for step in events],
            "reads": reads}))
        run_dir = harness.run(sim, system, SYSTEM_TESTBENCH, name="cimforge-run", quiet=True,
                              args={"program": str(program)})
    result = harness.measurements(run_dir)["run"]
    return result["spikes"], result["cycles"], _system_readout(system, smap, result["outs"])


def _run_system_fast(sim, system, smap, network, events, load):
    from .verif import fast_sim
    out_format, spike_format = system.out_format, system.core_params.spike_format
    end = 1 << (out_format.offset("data") + spike_format.offset("end"))
    mask = _field_mask(out_format, "kind") | end
    value = (int(SystemOut.SPIKE) << out_format.offset("kind")) | end
    with tempfile.TemporaryDirectory() as work:
        out = fast_sim.run(system, load,
                           [system_host.step_program(system, smap, step) for step in events],
                           system_host.read_program(system, smap), 0, mask, value,
                           system_host.ends_per_step(smap), Path(work))
    spikes = []
    for step in out.outputs:
        words = [system_host.parse_out(system, w) for w in step[0]]
        found = [system_host.spike_of(system, o) for o in words if o.kind == SystemOut.SPIKE]
        spikes.append(sorted(address for end, address in found if not end))
    return spikes, sum(out.cycles), _system_readout(system, smap, out.readout)


def _system_readout(system, smap, words) -> dict:
    outs = [system_host.parse_out(system, w) for w in words]
    readouts = system_host.parse_readouts(smap, outs)
    return _system_counters(smap, {c: (r.macro, r.core) for c, (r, _) in readouts.items()},
                            {c: dict(zip(LinkCounter, links))
                             for c, (_, links) in readouts.items()})


def _system_counters(smap, cores: dict, links: dict, timing: bool = True) -> dict:
    """Every used core's counters (`core<i>.macro.<name>`, `core<i>.core.<name>`) and its
    link's (`core<i>.link.<name>`)."""
    out = {}
    for part in smap.parts:
        macro, core = cores[part.core]
        out.update({f"core{part.core}.{name}": value
                    for name, value in _named(macro, core, timing).items()})
        out.update({f"core{part.core}.link.{c.name.lower()}": int(links[part.core][c])
                    for c in LinkCounter})
    return out
