"""`cimforge sim-board`: board designs in Verilator behind a pseudo-terminal, driven through
pyserial by the host library exactly as a board is, against the golden models (the sessions
the bridge's cocotb testbench runs over its simulated pins)."""

import random
import signal
import subprocess
import sys

import numpy as np
import pytest
from cimforge.fpga.host import Bridge, open_serial
from cimforge.golden.lfsr import LfsrBankModel
from cimforge.verif import seeds
from cimforge.verif.commands import cimforge
from cimforge.verif.host.tb_uart_bridge import _raca_session, _snn_session
from cimforge.verif.raca.tb_lfsr_bank import assert_words, split
from cimforge.verif.sim_board import SimBoard, design_params


def test_lfsr_board_gives_the_model_sequence():
    _, params = design_params("lfsr")
    core = params.core_params()
    with SimBoard("lfsr") as device:
        bridge = Bridge(open_serial(device))
        assert bridge.info().out_bytes == [-(-core.lanes * core.width // 8)]
        words = [bridge.read(0) for _ in range(20)]
        seed = random.Random(seeds.session_seed()).getrandbits(core.length)
        bridge.write(0, seed)
        seeded = [bridge.read(0) for _ in range(10)]
        assert bridge.status()["ok"] == 1 + 20 + 1 + 10
    model = LfsrBankModel(core)
    lanes = lambda words: np.array([split(w, core.width, core.lanes) for w in words],
                                   dtype=np.uint64)
    assert_words(lanes(words), model.after_reset(20), "reset sequence")
    assert_words(lanes(seeded), model.words(seed, 10), f"seed {seed:#x}")


@pytest.mark.parametrize("design,session", [("raca", _raca_session), ("snn", _snn_session)])
def test_board_design_through_the_host_library(design, session):
    board, params = design_params(design)
    rng = random.Random(seeds.session_seed())
    with SimBoard(design) as device:
        # The simulated clock is slower than the board's: wait longer for each reply.
        session(params, {}, open_serial(device, timeout=30), rng)


def test_cli_prints_the_port_and_stops_on_ctrl_c():
    process = subprocess.Popen([sys.executable, "-m", "cimforge.cli", "sim-board", "--design",
                                "lfsr"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith("serial port /dev/"), line + process.stderr.read()
        device = line.split()[2].rstrip(":")
        seed_bits = design_params("lfsr")[1].core_params().length
        assert Bridge(open_serial(device)).info().in_bytes == [-(-seed_bits // 8)]
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
    assert "Traceback" not in process.stderr.read()


def test_cli_bad_design_is_one_clear_message():
    result = cimforge("sim-board", "--design", "snn", "--board", "icebreaker")
    assert result.returncode == 2
    assert "design 'snn' has no ice40 version" in result.stderr
    assert "Traceback" not in result.stderr

