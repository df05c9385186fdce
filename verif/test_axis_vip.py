"""Every generated top through standard AXI4-Stream verification IP (cocotbext-axi), on both
simulators: whole-byte `tdata`, pauses on every port, padding ignored on the way in and zero
on the way out, results equal to the golden models (`verif/tb_axis_vip.py`).

The configurations are those the block testbenches already build, so the Verilog is built
once per simulator for both; `aer_router` and `combined` have no testbench of their own."""

import pytest
from cimforge.blocks import BLOCKS, get
from cimforge.params.aer_mesh import AerMeshParams
from cimforge.params.lfsr_bank import LfsrBankParams
from cimforge.verif import harness

MODULE = "cimforge.verif.tb_axis_vip"

TOPS = {
    "lfsr_bank": LfsrBankParams(width=7, lanes=3, length=10, reset_seed=0x2A5),
    "cim_macro": get("cim_macro").configure("ice40"),
    "aer_mesh": AerMeshParams(rows=2, cols=2, table_neurons=16, table_entries=64, fifo_depth=2,
                              counter_width=8),
    "aer_router": get("aer_router").configure("inner"),
    "raca": get("raca").configure("digits"),
    "combined": get("combined").configure("ice40"),
    "snn_core": get("snn_core").configure("small"),
    "snn_system": get("snn_system").configure("ecp5"),
}


def test_every_block_has_a_top_here():
    """Every block whose top is `AxisTop` (all but the UART bridge, whose port is a UART)."""
    assert set(TOPS) == {name for name, block in BLOCKS.items() if block.top is None}


@pytest.mark.parametrize("block", list(TOPS))
def test_top_through_cocotbext_axi(sim, block):
    harness.run(sim, TOPS[block], MODULE, name="axis_vip")
