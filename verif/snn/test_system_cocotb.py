"""Launches the accelerator system's cocotb testbench on both simulators: one core (1 x 1),
two (1 x 2) and four (2 x 2) of the `ice40` core preset."""

import pytest
from cimforge.blocks import get
from cimforge.verif import harness

MODULE = "cimforge.verif.snn.tb_system"


@pytest.mark.parametrize("preset, networks", [("1x1", 2), ("1x2", 4), ("ecp5", 4)])
def test_snn_system(sim, preset, networks):
    harness.run(sim, get("snn_system").configure(preset), MODULE, name="tb_system",
                args={"networks": networks, "steps": 3})
