"""Launches the accelerator core's cocotb testbench on both simulators."""

from cimforge.blocks import get
from cimforge.verif import harness

MODULE = "cimforge.verif.snn.tb_core"


def test_snn_core(sim):
    harness.run(sim, get("snn_core").configure("small"), MODULE, name="tb_core",
                args={"networks": 7, "steps": 3})
