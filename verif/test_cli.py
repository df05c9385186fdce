"""The `cimforge` command line: generation, listing and every error path."""

import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

import pytest
from cimforge.blocks import BLOCKS
from cimforge.verif.commands import cimforge


def test_list_shows_blocks_parameters_and_presets():
    result = cimforge("list")
    assert result.returncode == 0
    assert "lfsr_bank" in result.stdout
    assert "width" in result.stdout and "[1..64]" in result.stdout
    assert "presets:" in result.stdout and "raca" in result.stdout


def test_a_reader_that_stops_early_is_not_an_error():
    """`cimforge list | head -1`: the pipe closes under the listing; no error, no noise."""
    listing = subprocess.Popen([sys.executable, "-m", "cimforge.cli", "list"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = listing.stdout.readline()
    listing.stdout.close()
    stderr = listing.stderr.read().decode()
    assert listing.wait(timeout=60) == 0 and first.startswith(b"lfsr_bank"), stderr
    assert stderr == ""


def test_tdata_is_whole_bytes_and_the_metadata_says_so(tmp_path):
    result = cimforge("gen", "snn_core", "--preset", "ice40", "-o", str(tmp_path))
    assert result.returncode == 0, result.stderr
    ports = json.loads((tmp_path / "snn_core.json").read_text())["interface"]["members"]
    formats = json.loads((tmp_path / "snn_core.formats.json").read_text())
    for port in ("s_axis_host", "m_axis_spike"):
        width = formats[port]["width"]
        assert width % 8, "the test needs a word that is not whole bytes"
        assert ports[f"{port}_tdata"]["width"] == formats[port]["tdata_width"] == \
            -(-width // 8) * 8
    assert "tdata_width" not in formats["descriptor"]          # a word, not a port


def test_gen_writes_verilog_and_metadata(tmp_path):
    result = cimforge("gen", "lfsr_bank", "--preset", "tiny", "--param", "lanes=2",
                      "-o", str(tmp_path))
    assert result.returncode == 0, result.stderr
    verilog = (tmp_path / "lfsr_bank.v").read_text()
    assert "module lfsr_bank" in verilog and "m_axis_noise_tdata" in verilog
    meta = json.loads((tmp_path / "lfsr_bank.json").read_text())
    assert meta["interface"]["members"]["m_axis_noise_tdata"]["width"] == 2 * 4
    assert meta["clock"]["port"] == "clk" and meta["reset"]["port"] == "rst"
    assert "input clk;" in verilog and "input rst;" in verilog
    assert meta["generator"]["block"] == "lfsr_bank" and meta["generator"]["preset"] is None
    assert meta["generator"]["params"]["lanes"] == 2
    params = json.loads((tmp_path / "lfsr_bank.params.json").read_text())
    assert params == {"block": "lfsr_bank", "width": 4, "lanes": 2, "length": 16,
                      "reset_seed": 0}


@pytest.mark.parametrize("args,message", [
    (["gen", "nosuchblock"], "unknown block 'nosuchblock'; blocks are lfsr_bank"),
    (["gen", "lfsr_bank", "--param", "wdith=3"], "unknown parameter 'wdith'"),
    (["gen", "lfsr_bank", "--param", "width=99"], "'width' = 99 is out of range; allowed 1..64"),
    (["gen", "lfsr_bank", "--param", "width=eight"], "'width' expects int, got 'eight'"),
    (["gen", "lfsr_bank", "--param", "width"], "'width' is not of the form name=value"),
    (["gen", "lfsr_bank", "--preset", "huge"], "unknown preset 'huge'; presets are"),
    (["gen", "lfsr_bank", "--param", "lanes=20", "--param", "length=8"], "at most 16 lanes"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["gen", "lfsr_bank", "--name", "../escaped"], "--name '../escaped' is not a Verilog "
                                                   "module name"),
    (["gen", "lfsr_bank", "--name", "bad name"], "--name 'bad name' is not a Verilog"),
    (["list", "nosuchblock"], "unknown block 'nosuchblock'"),
])
def test_errors_are_one_clear_message_and_exit_2(args, message, tmp_path):
    result = cimforge(*args, "-o", str(tmp_path)) if args[0] == "gen" else cimforge(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_unwritable_output_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = cimforge("gen", "lfsr_bank", "-o", str(blocker / "sub"))
    assert result.returncode == 2
    assert "cimforge: error:" in result.stderr and "Traceback" not in result.stderr


def test_version():
    result = cimforge("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"cimforge {importlib.metadata.version('cimforge')}"


def test_list_one_block():
    result = cimforge("list", "snn_core")
    assert result.returncode == 0
    assert result.stdout.startswith("snn_core: ") and "lfsr_bank" not in result.stdout
    assert "presets:" in result.stdout


def test_verilog_header_names_its_parameters_and_reproduces(tmp_path):
    """The header says what made the file; its own command regenerates it byte for byte."""
    first = tmp_path / "first"
    result = cimforge("gen", "lfsr_bank", "--preset", "tiny", "--param", "lanes=2",
                      "-o", str(first))
    assert result.returncode == 0, result.stderr
    text = (first / "lfsr_bank.v").read_text()
    assert text.startswith("// Generated by cimforge ")
    assert "block lfsr_bank, preset (none)" in text and "//   lanes = 2" in text
    command = next(line for line in text.splitlines() if line.startswith("// Regenerate: "))
    args = command.removeprefix("// Regenerate: cimforge ").split()
    again = cimforge(*args, "-o", str(tmp_path / "again"))
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "again" / "lfsr_bank.v").read_text() == text


def test_every_preset_header_regenerates_the_same_parameters():
    from cimforge.blocks import BLOCKS
    from cimforge.emit import header
    for block in BLOCKS.values():
        for name, params in block.presets.items():
            text = header(params)
            assert f"block {block.name}, preset {name}." in text
            command = next(line for line in text.splitlines()
                           if line.startswith("// Regenerate: cimforge gen "))
            assignments = command.split()[6::2]
            assert block.configure(None, assignments) == params, (block.name, name)


def test_license_file_matches_the_package_metadata():
    root = Path(__file__).resolve().parents[1]
    assert 'license = { text = "Apache-2.0" }' in (root / "pyproject.toml").read_text()
    text = (root / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text


LINTED = [("lfsr_bank", "tiny"), ("cim_macro", "icebreaker"), ("aer_mesh", "2x1"),
          ("aer_router", "inner"), ("raca", "digits"), ("combined", "ice40"),
          ("snn_core", "ice40"), ("snn_system", "1x1"), ("uart_bridge", "lfsr")]


def test_every_block_is_linted():
    assert {block for block, _ in LINTED} == set(BLOCKS)


@pytest.mark.parametrize("block,preset", LINTED)
def test_verilator_lint_all_warnings_passes_with_the_waivers(block, preset, tmp_path):
    """`verilator --lint-only -Wall` fails on the bare Verilog and passes with the `.vlt`
    that `gen` writes beside it."""
    from cimforge.tools import setup_verilator
    setup_verilator()
    result = cimforge("gen", block, "--preset", preset, "-o", str(tmp_path))
    assert result.returncode == 0, result.stderr
    lint = lambda *files: subprocess.run(["verilator", "--lint-only", "-Wall", *files],
                                         cwd=tmp_path, capture_output=True, text=True)
    assert lint(f"{block}.v").returncode != 0, "no warnings to waive: the test proves nothing"
    clean = lint(f"{block}.vlt", f"{block}.v")
    assert clean.returncode == 0, clean.stderr[-3000:]


def test_fusesoc_lints_the_generated_core(tmp_path):
    """The `.core` file is a real FuseSoC core: `fusesoc run --target=lint` (Verilator, -Wall,
    with the waivers) passes on it."""
    from cimforge.tools import setup_verilator
    setup_verilator()
    result = cimforge("gen", "cim_macro", "--preset", "icebreaker", "-o", str(tmp_path / "ip"))
    assert result.returncode == 0, result.stderr
    fusesoc = Path(sys.executable).with_name("fusesoc")
    run = subprocess.run([str(fusesoc), "--cores-root", str(tmp_path / "ip"), "run",
                          "--build-root", str(tmp_path / "build"), "--target=lint",
                          "cimforge:generated:cim_macro:" + importlib.metadata.version("cimforge")],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]


def test_bench_help_lists_the_entries(tmp_path):
    from cimforge.cli import bench_listing
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"entries": {"cim_ops": [], "snn_core": []},
                                   "durations_s": {"cim_ops": 90}}))
    listing = bench_listing(results)
    assert "cim_ops                  1.5 min" in listing
    assert "snn_core                 not timed yet" in listing
    assert "run from the repository" in bench_listing(tmp_path / "missing.json")
    shown = cimforge("bench", "--help", cwd=Path(__file__).resolve().parents[1])
    assert shown.returncode == 0 and "cim_cycles" in shown.stdout
