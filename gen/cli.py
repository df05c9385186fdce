"""`cimforge` command line: list blocks, generate Verilog, run the demo and the benchmarks.

Each command imports what it needs when it runs (Amaranth, the simulators' harness, the FPGA
flow), so `cimforge --help` and argument errors answer at once."""

import argparse
import importlib.metadata
import re
import sys
from pathlib import Path

from .params import ParamError

# A plain Verilog identifier: what a top module may be called (and a safe file name).
VERILOG_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")


def _cmd_list(args) -> int:
    from .blocks import BLOCKS, get
    for block in [get(args.block)] if args.block else BLOCKS.values():
        print(f"{block.name}: {block.doc}")
        for p in block.params.describe():
            allowed = f" [{p['allowed']}]" if p["allowed"] else ""
            print(f"    {p['name']:<12} {p['type']:<5} default {p['default']!s:<8}{allowed}  "
                  f"{p['doc']}")
        if block.presets:
            print("  presets:")
            for name, preset in block.presets.items():
                values = ", ".join(f"{k}={v}" for k, v in preset.as_dict().items())
                print(f"    {name:<12} {values}")
    return 0


def _cmd_gen(args) -> int:
    from .blocks import get
    from .emit import emit
    if args.name is not None and not VERILOG_NAME.fullmatch(args.name):
        raise ParamError(f"--name {args.name!r} is not a Verilog module name (a letter or _, "
                         f"then letters, digits, _ or $); it also names the files in -o")
    params = get(args.block).configure(args.preset, args.param)
    path = emit(params, Path(args.output), name=args.name)
    print(f"wrote {path} and {path.with_suffix('.json')}")
    return 0


def _cmd_demo(args) -> int:
    from .demo import run
    return run(Path(args.output))


def _cmd_bench(args) -> int:
    from .bench import run
    return run(Path(args.output), only=args.only, quick=args.quick)


def _cmd_fpga(args) -> int:
    from .fpga import boards
    from .fpga.flow import FlowError
    try:
        if args.action == "build":
            report = boards.build(args.board, args.design, Path(args.output), seed=args.seed)
            print(boards.render_report(report), end="")
            print(f"bitstream: {report['bitstream']}")
        else:
            command = boards.program(args.board, args.design, Path(args.output),
                                     dry_run=args.dry_run)
            print(" ".join(command))
    except (boards.BoardError, FlowError) as error:
        print(f"cimforge: error: {error}", file=sys.stderr)
        return 2
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="cimforge", description=__doc__)
    top.add_argument("--version", action="version",
                     version=f"cimforge {importlib.metadata.version('cimforge')}")
    sub = top.add_subparsers(dest="command", required=True)

    listing = sub.add_parser("list", help="show the blocks (or one), their parameters, "
                                          "ranges and presets")
    listing.add_argument("block", nargs="?", help="only this block")

    gen = sub.add_parser("gen", help="emit Verilog and metadata JSON for one block")
    gen.add_argument("block", help="block name (see `cimforge list`)")
    gen.add_argument("--preset", help="start from a named preset")
    gen.add_argument("--param", action="append", default=[], metavar="K=V",
                     help="set a parameter (repeatable); integers take 0x.. too")
    gen.add_argument("-o", "--output", default="build", help="output directory (default build)")
    gen.add_argument("--name", help="top module name (default: the block name)")

    demo = sub.add_parser("demo", help="emit every block and run the LFSR bank on both "
                                       "simulators against the golden model")
    demo.add_argument("-o", "--output", default="build/demo")

    bench = sub.add_parser("bench", help="run the benchmarks, write bench/results.json and "
                                         "bench/RESULTS.md")
    bench.add_argument("-o", "--output", default="bench")
    bench.add_argument("--only", action="append", default=[], help="run only these entries")
    bench.add_argument("--quick", action="store_true", help="fewer repetitions")

    from .fpga.boards import BOARDS, DESIGNS
    fpga = sub.add_parser("fpga", help="build a board bitstream (yosys + nextpnr, YoWASP) or "
                                       "program a board")
    actions = fpga.add_subparsers(dest="action", required=True)
    build = actions.add_parser("build", help="synthesis, place and route, bitstream, report")
    program = actions.add_parser("program", help="program the board (iceprog or "
                                                 "openFPGALoader)")
    for action in (build, program):
        action.add_argument("--board", required=True, choices=list(BOARDS))
        action.add_argument("--design", default="raca", choices=list(DESIGNS),
                            help="the core behind the UART bridge (default raca)")
        action.add_argument("-o", "--output", default="build/fpga")
    build.add_argument("--seed", type=int, default=1, help="nextpnr placement seed")
    program.add_argument("--dry-run", action="store_true", help="print the command only")
    return top


COMMANDS = {"list": _cmd_list, "gen": _cmd_gen, "demo": _cmd_demo, "bench": _cmd_bench,
            "fpga": _cmd_fpga}


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except ParamError as error:
        print(f"cimforge: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"cimforge: error: {error.strerror}: {error.filename}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
