"""The cost estimate before `cimforge gen`: it follows what generation measured on this
machine class, announces long generations, and refuses what cannot fit in memory before
starting (one line, exit 2, nothing written)."""

import re

import pytest
from cimforge.blocks import get
from cimforge.cost import CostError, check, estimate
from cimforge.verif.commands import cimforge

# `cimforge gen` measured on 2 cores (user seconds, peak GB); the model is fitted to these.
MEASURED = [
    ("cim_macro", None, ["rows=512", "cols=32"], 5.1, 0.15),
    ("cim_macro", None, ["rows=512", "cols=128"], 30, 0.38),
    ("cim_macro", None, ["rows=8192", "cols=128"], 34, 0.39),
    ("cim_macro", None, ["rows=512", "cols=256"], 73, 0.92),
    ("cim_macro", None, ["rows=1024", "cols=512"], 250, 2.8),
    ("snn_core", "flexspim", [], 71, 0.83),
    ("snn_core", "small", [], 5.9, 0.15),
    ("snn_system", "2x2", [], 29, 0.43),
    ("aer_mesh", None, ["rows=4", "cols=4"], 6.3, 0.15),
    ("aer_mesh", None, ["rows=8", "cols=8"], 33, 0.45),
    ("aer_mesh", None, ["rows=16", "cols=16"], 120, 1.2),
    ("raca", "mnist", [], 4.9, 0.33),
]


@pytest.mark.parametrize("block,preset,assignments,seconds,gigabytes", MEASURED)
def test_the_estimate_follows_the_measurements(block, preset, assignments, seconds,
                                               gigabytes):
    cost = estimate(get(block).configure(preset, assignments))
    assert seconds / 2 <= cost.seconds <= seconds * 2, cost
    assert gigabytes / 1.6 <= cost.gigabytes <= gigabytes * 1.6, cost


def test_long_generations_are_announced_and_small_ones_are_not():
    assert check(get("cim_macro").configure(None, ["cols=32"]), 24) is None
    note = check(get("cim_macro").configure(None, ["rows=16384", "cols=1024"]), 24)
    assert note.startswith("cim_macro: this configuration takes about 12 minutes and 8.2 GB")


def test_what_does_not_fit_is_refused():
    params = get("cim_macro").configure(None, ["rows=16384", "cols=1024"])
    with pytest.raises(CostError, match="needs about 8 GB and 12 minutes; this machine has "
                                        "4 GB free"):
        check(params, 4)


def test_cli_refuses_before_generating(tmp_path):
    result = cimforge("gen", "snn_system", "--param", "rows=16", "--param", "cols=16",
                      "--param", "core=flexspim", "-o", str(tmp_path))
    assert result.returncode == 2
    assert re.search(r"snn_system: generating this configuration needs about \d{3} GB and "
                     r"\d+ minutes; this machine has \d+ GB free", result.stderr), result.stderr
    assert "--force" in result.stderr and "Traceback" not in result.stderr
    assert not any(tmp_path.iterdir())
