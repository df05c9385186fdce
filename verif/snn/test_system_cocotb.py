"""Launches the accelerator system's cocotb testbench on both simulators: one core (1 x 1)
and four (2 x 2) of the `ice40` core preset."""

import pytest
from cimforge.blocks import get
from cimforge.verif import harness

MODULE = "cimforge.verif.snn.tb_system"


# 1 x 2 is left out for time: the 2 x 2 system's random plans use one to four of its cores.
@pytest.mark.parametrize("preset, networks", [("1x1", 2), ("ecp5", 5)])
def test_snn_system(sim, preset, networks):
    harness.run(sim, get("snn_system").configure(preset), MODULE, name="tb_system",
                args={"networks": networks, "steps": 3})
