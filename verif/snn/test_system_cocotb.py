"""Launches the accelerator system's cocotb testbench on both simulators: two cores (1 x 2)
and four (2 x 2) of the `ice40` core preset."""

import pytest
from cimforge.blocks import get
from cimforge.verif import harness

MODULE = "cimforge.verif.snn.tb_system"


@pytest.mark.parametrize("preset", ["1x2", "ecp5"])
def test_snn_system(sim, preset):
    harness.run(sim, get("snn_system").configure(preset), MODULE, name="tb_system",
                args={"networks": 4, "steps": 3})
