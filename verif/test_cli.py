"""The `cimforge` command line: generation, listing and every error path."""

import importlib.metadata
import json
import subprocess
import sys

import pytest


def cimforge(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "cimforge.cli", *args], capture_output=True,
                          text=True, cwd=cwd)


def test_list_shows_blocks_parameters_and_presets():
    result = cimforge("list")
    assert result.returncode == 0
    assert "lfsr_bank" in result.stdout
    assert "width" in result.stdout and "[1..64]" in result.stdout
    assert "presets:" in result.stdout and "raca" in result.stdout


def test_gen_writes_verilog_and_metadata(tmp_path):
    result = cimforge("gen", "lfsr_bank", "--preset", "tiny", "--param", "lanes=2",
                      "-o", str(tmp_path))
    assert result.returncode == 0, result.stderr
    verilog = (tmp_path / "lfsr_bank.v").read_text()
    assert "module lfsr_bank" in verilog and "m_axis_noise_tdata" in verilog
    meta = json.loads((tmp_path / "lfsr_bank.json").read_text())
    assert meta["interface"]["members"]["m_axis_noise_tdata"]["width"] == 2 * 4
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
