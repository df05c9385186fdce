"""`cimforge` command line: list blocks, generate Verilog, run the demo and the benchmarks,
compile and export NIR graphs, run networks, build and program boards.

Each command imports what it needs when it runs (Amaranth, the simulators' harness, the FPGA
flow), so `cimforge --help` and argument errors answer at once."""

import argparse
import importlib.metadata
import json
import os
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
    from .cost import CostError, available_gigabytes, check
    from .emit import emit
    from .progress import step
    if args.name is not None and not VERILOG_NAME.fullmatch(args.name):
        raise ParamError(f"--name {args.name!r} is not a Verilog module name (a letter or _, "
                         f"then letters, digits, _ or $); it also names the files in -o")
    params = get(args.block).configure(args.preset, args.param)
    if not args.force:
        try:
            note = check(params, available_gigabytes())
        except CostError as error:
            print(f"cimforge: error: {error}", file=sys.stderr)
            return 2
        if note:
            print(f"cimforge: {note}", file=sys.stderr, flush=True)
    with step(f"generating {params.block}"):
        path = emit(params, Path(args.output), name=args.name, waivers=not args.no_waivers)
    print(f"wrote {path} and {path.with_suffix('.json')}")
    return 0


def _cmd_demo(args) -> int:
    from .demo import run
    return run(Path(args.output))


def _cmd_bench(args) -> int:
    from .bench import run
    return run(Path(args.output), only=args.only, quick=args.quick)


def bench_listing(results: Path = Path("bench/results.json")) -> str:
    """The entries of the last results (in the working folder), with how long each took."""
    try:
        last = json.loads(results.read_text())
    except (OSError, ValueError):
        return "entries: run from the repository to list them (bench/results.json)"
    durations = last.get("durations_s", {})
    lines = ["entries (--only NAME; duration of the last full run on this machine class):"]
    for name in last.get("entries", {}):
        took = durations.get(name)
        lines.append(f"  {name:24} {'not timed yet' if took is None else f'{took / 60:.1f} min'}")
    return "\n".join(lines)


class BenchHelp(argparse.Action):
    """`bench --help`: the usual help, with the entry listing read only when it is asked for
    (not on every command's start-up)."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        parser.epilog = bench_listing()
        parser.print_help()
        parser.exit()


def _compile_options(args):
    from .nirbridge import CompileOptions
    bits = lambda text, name: tuple(_integers(text, name)) if text else None
    given = {"b_w": bits(args.b_w, "--b-w"), "b_v": bits(args.b_v, "--b-v"),
             "reset": args.reset, "firing": args.firing, "overflow": args.overflow,
             "dt": args.dt, "lif": args.lif}
    return CompileOptions(**{k: v for k, v in given.items() if v is not None})


def _integers(text: str, name: str) -> list[int]:
    from .nirbridge import NirError
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise NirError(f"{name} {text!r}: one integer, or one per weighted layer separated by "
                       f"commas") from None


def _load_network(path: str, args):
    """A native network file, or a NIR graph compiled with the command's options."""
    from .golden.network import Network
    from .nirbridge import from_nir
    if Path(path).suffix == ".nir":
        return from_nir(path, _compile_options(args)).network
    return Network.load(path)


def _cmd_compile(args) -> int:
    from .golden.network import NetworkError
    from .nirbridge import NirError, from_nir
    try:
        compiled = from_nir(args.model, _compile_options(args))
        output = Path(args.output or Path(args.model).with_suffix(".npz").name)
        compiled.network.save(output)
    except (NirError, NetworkError) as error:
        print(f"cimforge: error: {error}", file=sys.stderr)
        return 2
    print(f"{args.model}: input {'x'.join(map(str, compiled.network.input_shape))}, "
          f"{len(compiled.report)} weighted layers")
    print(compiled.render())
    print(f"wrote {output}")
    return 0


def _cmd_export(args) -> int:
    from .golden.network import Network, NetworkError
    from .nirbridge import write
    try:
        network = Network.load(args.network)
        output = Path(args.output or Path(args.network).with_suffix(".nir").name)
        write(network, output)
    except NetworkError as error:
        print(f"cimforge: error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {output}")
    return 0


def _cmd_run(args) -> int:
    from .golden.network import NetworkError
    from .mapper import MappingError
    from .nirbridge import NirError
    from .runner import RunError, load_events, parse_mesh, run
    from .verif.harness import SimulatorMissing
    try:
        net = _load_network(args.network, args)
        events = load_events(args.input, net)
        mesh = parse_mesh(args.mesh) if args.mesh else None
        result = run(net, events, sim=args.sim, stationarity=args.stationarity,
                     core=args.preset, mesh=mesh)
    except (NetworkError, NirError, MappingError, RunError, SimulatorMissing) as error:
        print(f"cimforge: error: {error}", file=sys.stderr)
        return 2
    except RuntimeError as error:           # the RTL differs from the golden model
        print(f"cimforge: error: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"prediction": result.prediction, "counts": result.counts.tolist(),
                          "spikes": result.spikes, "cycles": result.cycles,
                          "counters": result.counters}))
        return 0
    layers = ", ".join(f"layer {index} {how}" + (f" in {chunks} chunks" if chunks > 1 else "")
                       for index, how, chunks in result.layers)
    print(f"{args.network}: {len(events)} timesteps, {sum(map(len, events))} input events; "
          f"on {'snn_core' if not args.mesh else args.mesh + ' snn_system of'} "
          f"'{args.preset}': {layers}; simulated by {args.sim}"
          + (" (equal to the golden model)" if args.sim != "golden" else ""))
    print(f"prediction: {result.prediction}")
    print(f"output spike counts: {' '.join(map(str, result.counts))}")
    if result.cycles is not None:
        print(f"cycles: {result.cycles}")
    print("counters: " + ", ".join(f"{name} {value}" for name, value in result.counters.items()))
    return 0


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


def _cmd_sim_board(args) -> int:
    from .fpga.boards import BoardError
    from .verif.sim_board import SimBoard, SimBoardError
    try:
        board = SimBoard(args.design, args.board)
        print(f"building the simulated {board.board} / {args.design} (once per design)...",
              file=sys.stderr)
        device = board.start()
    except (BoardError, SimBoardError) as error:
        print(f"cimforge: error: {error}", file=sys.stderr)
        return 2
    print(f"serial port {device}: {board.board} / {args.design} in Verilator, UART at "
          f"{board.params.divisor} clock cycles per bit (any baud rate works); Ctrl-C stops",
          flush=True)
    try:
        board.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        board.stop()
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
    gen.add_argument("--force", action="store_true",
                     help="generate even what the cost estimate says will not fit in memory")
    gen.add_argument("--no-waivers", action="store_true",
                     help="skip <name>.vlt, the Verilator lint waivers (saves a lint run)")

    demo = sub.add_parser("demo", help="emit every block and run the LFSR bank on both "
                                       "simulators against the golden model")
    demo.add_argument("-o", "--output", default="build/demo")

    bench = sub.add_parser("bench", help="run the benchmarks, write bench/results.json and "
                                         "bench/RESULTS.md", add_help=False,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    bench.add_argument("-h", "--help", action=BenchHelp, help="show this help (and the "
                                                                "entries) and exit")
    bench.add_argument("-o", "--output", default="bench")
    bench.add_argument("--only", action="append", default=[], help="run only these entries")
    bench.add_argument("--quick", action="store_true", help="fewer repetitions")

    quantise = argparse.ArgumentParser(add_help=False)
    group = quantise.add_argument_group("reading a NIR graph (docs/nir.md)")
    group.add_argument("--b-w", metavar="N[,N..]", help="weight bits, one or one per weighted "
                                                        "layer (default 8)")
    group.add_argument("--b-v", metavar="N[,N..]", help="membrane bits (default 16)")
    group.add_argument("--reset", choices=["zero", "subtract"],
                       help="IF reset: to zero (NIR, Norse; default) or subtract the threshold "
                            "(Sinabs IAF, snnTorch)")
    group.add_argument("--firing", choices=[">=", ">"],
                       help="fire on v >= threshold (default) or v > threshold")
    group.add_argument("--overflow", choices=["wrap", "saturate"],
                       help="membrane overflow (default saturate)")
    group.add_argument("--dt", type=float, help="NIR time per timestep (default 1)")
    group.add_argument("--lif", choices=["error", "if"],
                       help="LIF nodes: refuse (default) or drop the leak (an IF)")

    compiles = sub.add_parser("compile", parents=[quantise],
                              help="compile a NIR graph (.nir) to a cimforge network (.npz) "
                                   "and report the quantisation per layer")
    compiles.add_argument("model", help="NIR file, e.g. exported by snnTorch, Norse, Sinabs")
    compiles.add_argument("-o", "--output", help="network file (default MODEL.npz here)")

    export = sub.add_parser("export", help="write a cimforge network (.npz) as a NIR graph")
    export.add_argument("network", help="network file (.npz)")
    export.add_argument("-o", "--output", help="NIR file (default NETWORK.nir here)")

    runs = sub.add_parser("run", parents=[quantise],
                          help="run a spiking network (.npz or .nir) on the accelerator core: "
                               "golden model or RTL; prediction, spikes, counters")
    runs.add_argument("network", help="network file (.npz, docs/network-format.md) or a NIR "
                                      "graph (.nir, compiled as `cimforge compile` does)")
    runs.add_argument("--input", required=True, metavar="EVENTS",
                      help="input events: text, one line of flat addresses per timestep, or "
                           ".npy spike counts of shape (timesteps, *input shape)")
    runs.add_argument("--sim", default="golden",
                      choices=["golden", "icarus", "verilator", "fast"],
                      help="golden model (default), the Verilog in a simulator (cocotb), or "
                           "fast: the Verilog Verilated with a C++ driver (long runs)")
    runs.add_argument("--stationarity", default="hs-min", choices=["ws", "os", "hs-min"],
                      help="which operand stays in the macro, per layer (default hs-min)")
    runs.add_argument("--preset", default="small", help="snn_core preset (default small)")
    runs.add_argument("--mesh", metavar="RxC",
                      help="run on rows x cols cores of that preset on the AER mesh "
                           "(snn_system), e.g. 2x2")
    runs.add_argument("--json", action="store_true", help="print the result as JSON")

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

    sim_board = sub.add_parser("sim-board", help="run a board design in Verilator behind a "
                                                 "pseudo-terminal (a serial port)")
    sim_board.add_argument("--design", default="raca", choices=list(DESIGNS),
                           help="the core behind the UART bridge (default raca)")
    sim_board.add_argument("--board", choices=list(BOARDS),
                           help="whose version of the design (default: the first that has it)")
    return top


COMMANDS = {"list": _cmd_list, "gen": _cmd_gen, "demo": _cmd_demo, "bench": _cmd_bench,
            "compile": _cmd_compile, "export": _cmd_export, "run": _cmd_run, "fpga": _cmd_fpga,
            "sim-board": _cmd_sim_board}


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except ParamError as error:
        print(f"cimforge: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`cimforge list | head`): stop quietly, as Unix tools do, and
        # keep Python from reporting the flush of the closed stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as error:
        print(f"cimforge: error: {error.strerror}: {error.filename}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
