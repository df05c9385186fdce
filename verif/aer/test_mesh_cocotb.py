"""The address-event mesh's Verilog in Icarus and Verilator against the packet-level model."""

import pytest
from cimforge.params.aer_mesh import AerMeshParams
from cimforge.verif import harness

MODULE = "cimforge.verif.aer.tb_mesh"

# The meshes the issue asks for, with table sizes that are not powers of two (lists wrap,
# out-of-range writes exist) and a few packet/FIFO shapes.
MESHES = [
    AerMeshParams(rows=1, cols=1, table_neurons=5, table_entries=7, fifo_depth=2),
    AerMeshParams(rows=1, cols=4, table_neurons=12, table_entries=40, tag_width=3),
    AerMeshParams(rows=2, cols=2, table_neurons=16, table_entries=64, fifo_depth=2,
                  counter_width=8),
    AerMeshParams(rows=3, cols=3, table_neurons=10, table_entries=50, addr_width=12),
    AerMeshParams(rows=4, cols=4, table_neurons=8, table_entries=48, fifo_depth=8),
]


@pytest.mark.parametrize("params", MESHES, ids=lambda p: f"{p.rows}x{p.cols}")
def test_aer_mesh(sim, params):
    events = 30 if params.cores >= 9 else 50
    harness.run(sim, params, MODULE, name="random", args={"events": events, "pairs": 40})
