"""The CIM macro's Verilog in Icarus and Verilator against the golden model.

Generation-time configurations are few (each is a build per simulator); the run-time space
(lane widths 1..16 and irregular mixes, B_W 1..16, B_V 1..32, wrap/saturate, reset to zero or
subtract) is covered pairwise inside each build.
"""

import pytest
from cimforge.blocks import get
from cimforge.params.cim_macro import CimMacroParams
from cimforge.verif import harness
from cimforge.verif.pairwise import pairwise

MODULE = "cimforge.verif.cim.tb_macro"


def shape_rows(params: CimMacroParams) -> list[dict]:
    """Pairwise rows over the run-time factors that fit this macro."""
    factors = {
        "lane_widths": [1, 2, 3, 4, 5, 8, 11, 16, None],          # None: irregular mix
        "b_w": [1, 2, 3, 4, 7, 8, 12, 16],
        "b_v": [1, 2, 5, 8, 12, 16, 17, 24, 31, 32],
        "saturate": [False, True],
        "subtract": [False, True],
    }

    def allowed(row, partial):
        width = row.get("lane_widths")
        if width is not None and width > params.lane_limit:
            return False
        if "b_w" in row and "b_v" in row and row["b_w"] > row["b_v"]:
            return False
        limit = min(params.max_slices, (params.rows - 2) // 3)      # slices per operand
        if "b_v" in row and -(-row["b_v"] // (width or min(16, params.lane_limit))) > limit:
            return False
        return True

    return pairwise(factors, allowed)


CONFIGS = {
    # Lanes up to the whole row (the random programs add lanes of 17..37 columns).
    "small-odd": (CimMacroParams(rows=70, cols=37, max_slices=32, max_lane=0, cmd_depth=2,
                                 rdata_depth=2), True),
    "ice40": (get("cim_macro").configure("ice40"), False),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_cim_macro(sim, name):
    params, sweep = CONFIGS[name]
    args = {"programs": 3, "events": 14, "layers": 2}
    if sweep:
        args["shapes"] = shape_rows(params)
    harness.run(sim, params, MODULE, name="tb_cim_macro", args=args)


def test_cim_macro_runs_the_accelerator_core_streams(sim):
    """What the accelerator's controller will issue (`golden.snn.CoreModel`), on the macro
    the iCE40 core uses."""
    params, _ = CONFIGS["ice40"]
    harness.run(sim, params, MODULE, name="core_streams", testcase="core_streams",
                args={"networks": 6})


def test_cim_macro_tinyodin_preset(sim):
    """256 columns, 1040 rows. Icarus runs the directed tests only (it is slow on 256-column
    rows); Verilator runs random programs too."""
    params = get("cim_macro").configure("tinyodin")
    if sim == "icarus":
        harness.run(sim, params, MODULE, name="directed", testcase="hazards|shape_invariance")
    else:
        harness.run(sim, params, MODULE, name="tb_cim_macro", args={"programs": 2, "events": 10})


@pytest.mark.parametrize("sim", ["verilator"], indirect=True)
def test_cim_macro_flexspim_preset(sim):
    """The paper's 512 x 256 macro, on Verilator (the issue asks for it at least there; the
    tinyodin preset covers 256-column rows on Icarus)."""
    params = get("cim_macro").configure("flexspim")
    harness.run(sim, params, MODULE, name="tb_cim_macro", args={"programs": 2, "events": 10})
