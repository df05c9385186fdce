"""The open FPGA flow (YoWASP yosys + nextpnr): synthesis, place and route, and a report.

Targets: iCE40 UP5K (SG48) and ECP5 LFE5U-25F (CABGA381). The report holds cell counts by
type from yosys (after synthesis), utilisation and post-route Fmax from nextpnr.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ..progress import step

TARGETS = {
    "ice40-up5k": dict(synth="synth_ice40", pnr="nextpnr-ice40",
                       args=["--up5k", "--package", "sg48", "--pcf-allow-unconstrained"],
                       freq_mhz=48, luts=("SB_LUT4",), ffs=("SB_DFF",), brams=("SB_RAM40_4K",),
                       logic=("ICESTORM_LC", 5280, {"SB_LUT4": 1})),
    "ecp5-25f": dict(synth="synth_ecp5", pnr="nextpnr-ecp5",
                     args=["--25k", "--package", "CABGA381"],
                     freq_mhz=100, luts=("LUT4",), ffs=("TRELLIS_FF",), brams=("DP16KD",),
                     logic=("TRELLIS_COMB", 24288, {"LUT4": 1, "CCU2C": 2})),
    # The ULX3S's bigger part: for what does not fit the 25F.
    "ecp5-85f": dict(synth="synth_ecp5", pnr="nextpnr-ecp5",
                     args=["--85k", "--package", "CABGA381"],
                     freq_mhz=100, luts=("LUT4",), ffs=("TRELLIS_FF",), brams=("DP16KD",),
                     logic=("TRELLIS_COMB", 83640, {"LUT4": 1, "CCU2C": 2})),
}


# YoWASP's yosys maps ECP5 LUTs with ABC9 only (`synth_ecp5` accepts `-noabc9` and ignores
# it), and that ABC9 dies without a word on some big netlists (the 256-column macro, the
# combined board design), after which yosys stops on an assertion. The fallback runs
# `synth_ecp5` up to its LUT mapping, maps with the classic ABC, and runs the rest.
CLASSIC_ABC_ECP5 = {
    "before": "-run :map_luts",
    "after": "techmap -map +/lattice/latches_map.v; abc -lut 4:7; clean; "
             "synth_ecp5 -run map_cells:",
}
CLASSIC_ABC_NAME = "synth_ecp5 (classic ABC)"


class FlowError(RuntimeError):
    pass


class DoesNotFit(FlowError):
    """Placement ran out of cells of some type; `usage` maps cell type to (used, available)."""

    def __init__(self, message, usage):
        super().__init__(message)
        self.usage = usage


def tool(name: str) -> str:
    """The YoWASP tool `name` (yosys, nextpnr-ice40, ...), or the one named by its env var."""
    env = {"yosys": "YOSYS", "nextpnr-ice40": "NEXTPNR_ICE40", "nextpnr-ecp5": "NEXTPNR_ECP5"}
    if os.environ.get(env.get(name, "")):
        return os.environ[env[name]]
    for candidate in (Path(sys.executable).parent / f"yowasp-{name}",
                      shutil.which(f"yowasp-{name}")):
        if candidate and Path(candidate).exists():
            return str(candidate)
    raise FlowError(f"yowasp-{name} is not installed (pip install yowasp-{name})")


# nextpnr on a congested design can stay in its router for hours without converging (the
# 256-column macro at some seeds); after this long a build is reported as not routed instead
# of holding up `make bench`.
PNR_TIMEOUT_S = 3600


def _run(cmd: list[str], cwd: Path, log: str, timeout_s: float | None = None) -> None:
    with open(cwd / log, "w") as out:
        try:
            result = subprocess.run(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                    timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise FlowError(f"{Path(cmd[0]).name} did not finish in {timeout_s / 60:g} min "
                            f"(see {cwd / log})") from None
    if result.returncode:
        text = (cwd / log).read_text()
        # The placers' ways of saying the design is too big for the part.
        if any(sign in text for sign in ("no BELs remaining", "Failed to expand region",
                                         "Unable to find legal placement")):
            usage = {m.group(1): (int(m.group(2)), int(m.group(3))) for m in re.finditer(
                r"Info:\s+(\w+):\s+(\d+)/\s*(\d+)\s+(\d+)%", text)}
            over = {k: v for k, v in usage.items() if v[0] > v[1]}
            raise DoesNotFit(f"does not fit: {over}", usage)
        tail = text.splitlines()[-15:]
        raise FlowError(f"{Path(cmd[0]).name} failed (see {cwd / log}):\n" + "\n".join(tail))


@dataclass
class Report:
    target: str
    top: str
    cells: dict[str, int]
    lut4: int
    ff: int
    bram: int
    fmax_mhz: float
    constraint_mhz: float
    utilisation: dict[str, dict[str, int]]
    synth: str = ""                 # the yosys synthesis command used

    def as_dict(self):
        return dict(self.__dict__, met=self.fmax_mhz >= self.constraint_mhz)


def build(verilog: Path, top: str, target: str, out_dir: Path, *, freq_mhz: float | None = None,
          seed: int = 1, pnr_timeout_s: float = PNR_TIMEOUT_S) -> Report:
    """Synthesise and place-and-route `verilog` (top module `top`) for `target`; the timing
    constraint defaults to the target's (ECP5 100 MHz, the product target; iCE40 48 MHz).

    A build is skipped when `out_dir` holds a finished build of the same Verilog with the same
    top, target, constraint and seed (`build.json`): the 256-column macros take the better
    part of an hour each, and `make bench` should not redo them for an unchanged netlist.
    Place and route that runs longer than `pnr_timeout_s` is stopped: FlowError, not cached."""
    if target not in TARGETS:
        raise FlowError(f"unknown target '{target}'; targets are {', '.join(TARGETS)}")
    spec = TARGETS[target]
    freq_mhz = freq_mhz or spec["freq_mhz"]
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = out_dir / "build.json"
    key = {"top": top, "target": target, "freq_mhz": freq_mhz, "seed": seed,
           "design_sha256": hashlib.sha256(Path(verilog).read_bytes()).hexdigest()}
    if stamp.exists():
        done = json.loads(stamp.read_text())
        if done.get("key") == key:
            if "does_not_fit" in done:
                usage = {k: tuple(v) for k, v in done["does_not_fit"].items()}
                raise DoesNotFit(f"does not fit: {done['message']}", usage)
            return read_report(out_dir, target, top, freq_mhz, done["synth"])
        stamp.unlink()
    shutil.copy(verilog, out_dir / "design.v")
    synth = spec["synth"]
    try:
        with step(f"{target} {top}: yosys"):
            _run([tool("yosys"), "-q", "-p", f"read_verilog design.v; {synth} -top {top} "
                  f"-json netlist.json; tee -q -o stat.json stat -json"], out_dir, "yosys.log")
    except FlowError:
        if target.startswith("ice40"):
            raise
        # See CLASSIC_ABC_ECP5; the report says which flow was used.
        synth = CLASSIC_ABC_NAME
        with step(f"{target} {top}: yosys (classic ABC)"):
            _run([tool("yosys"), "-q", "-p", f"read_verilog design.v; synth_ecp5 -top {top} "
                  f"{CLASSIC_ABC_ECP5['before']}; {CLASSIC_ABC_ECP5['after']} -json "
                  f"netlist.json; tee -q -o stat.json stat -json"], out_dir, "yosys.log")
    try:
        _fits(out_dir, spec)
        with step(f"{target} {top}: nextpnr (seed {seed})"):
            _run([tool(spec["pnr"]), *spec["args"], "--json", "netlist.json", "--report",
                  "pnr.json", "--freq", str(freq_mhz), "--seed", str(seed),
                  "--timing-allow-fail"], out_dir, "nextpnr.log", pnr_timeout_s)
    except DoesNotFit as too_big:
        over = {k: v for k, v in too_big.usage.items() if v[0] > v[1]}
        stamp.write_text(json.dumps({"key": key, "synth": synth, "message": str(over),
                                     "does_not_fit": too_big.usage}, indent=1) + "\n")
        raise
    report = read_report(out_dir, target, top, freq_mhz, synth)
    stamp.write_text(json.dumps({"key": key, "synth": synth}, indent=1) + "\n")
    return report


def _fits(out_dir: Path, spec: dict) -> None:
    """Raises DoesNotFit when the netlist has more logic than the part, before placement:
    nextpnr-ecp5 places a design at 170 % of the part for an hour before it gives up."""
    kind, available, weights = spec["logic"]
    cells = json.loads((out_dir / "stat.json").read_text())["design"]["num_cells_by_type"]
    used = sum(weight * cells.get(cell, 0) for cell, weight in weights.items())
    if used > available:
        raise DoesNotFit(f"does not fit: {kind} {used}/{available}", {kind: (used, available)})


def read_report(out_dir: Path, target: str, top: str, freq_mhz: float, synth: str) -> Report:
    """The report of a finished build in `out_dir` (yosys' stat.json, nextpnr's pnr.json)."""
    spec = TARGETS[target]
    cells = json.loads((out_dir / "stat.json").read_text())["design"]["num_cells_by_type"]
    cells = {k: v for k, v in cells.items() if not k.startswith("$")}
    count = lambda prefixes: sum(v for k, v in cells.items() if k.startswith(prefixes))
    pnr = json.loads((out_dir / "pnr.json").read_text())
    clocks = pnr.get("fmax", {})
    if not clocks:
        raise FlowError(f"nextpnr reported no clock for {top} (see {out_dir / 'nextpnr.log'})")
    achieved = min(c["achieved"] for c in clocks.values())
    return Report(target=target, top=top, cells=cells, lut4=count(spec["luts"]),
                  ff=count(spec["ffs"]), bram=count(spec["brams"]), fmax_mhz=round(achieved, 1),
                  constraint_mhz=freq_mhz, utilisation=pnr.get("utilization", {}),
                  synth=synth)
