"""FPGA rows of the benchmark: a block's presets placed and routed inside the bench shell."""

from pathlib import Path

from amaranth.back import verilog

from ..blocks import get
from .bench_shell import BenchShell
from .flow import DoesNotFit, FlowError, build

FPGA_TARGETS = ("ice40-up5k", "ecp5-25f")


def fpga_rows(block: str, presets: list[str], work: Path,
              targets: tuple[str, ...] = FPGA_TARGETS, *, variant: str = "",
              make_core=None, seeds: tuple[int, ...] = (1,)) -> list[dict]:
    """Resources and post-route Fmax of `block`'s presets inside the bench shell (`make_core`,
    if given, makes the core from the parameters instead of the block's own builder; rows
    then carry `variant`). With several placer `seeds`, one row per seed, each with `seed`."""
    rows = []
    for preset in presets:
        params = get(block).configure(preset)
        out = work / f"{block}-{preset}{'-' + variant if variant else ''}"
        out.mkdir(parents=True, exist_ok=True)
        shell = out / "bench_top.v"
        shell.write_text(verilog.convert(BenchShell((make_core or get(block).build)(params)),
                                         name="bench_top", emit_src=False))
        for target, seed in ((t, s) for t in targets for s in seeds):
            # What names the row, whatever the build's outcome.
            row = {"block": block, "preset": preset, "params": params.as_dict(),
                   **({"variant": variant} if variant else {}),
                   **({"seed": seed} if len(seeds) > 1 else {})}
            try:
                report = build(shell, "bench_top", target, out / f"{target}-seed{seed}",
                               seed=seed)
            except DoesNotFit as too_big:
                rows.append({**row, "target": target, "fits": False,
                             "over": {k: v for k, v in too_big.usage.items() if v[0] > v[1]}})
                print(f"  {block}/{preset} {target}: {too_big}")
                continue
            except FlowError as failed:
                # A tool crash (e.g. YoWASP's ABC exiting silently) loses this row, not the run.
                rows.append({**row, "target": target, "fits": False,
                             "error": str(failed)[:300]})
                print(f"  {block}/{preset} {target}: {failed}")
                continue
            rows.append({**row, "fits": True,
                         **{k: v for k, v in report.as_dict().items() if k != "utilisation"}})
            print(f"  {block}/{preset} {target}: {report.lut4} LUT4, {report.ff} FF, "
                  f"{report.bram} BRAM, {report.fmax_mhz} MHz")
    return rows
