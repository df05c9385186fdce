"""The router's formal properties, at the quick depths (`make formal` runs the full ones)."""

import os

import pytest
from cimforge.verif.aer import formal


@pytest.fixture(scope="module")
def tools_present():
    try:
        formal.tools()
    except formal.FormalToolsMissing as missing:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(str(missing))
        pytest.skip(str(missing))


@pytest.mark.parametrize("task", ["safety", "progress"])
def test_router_properties_hold(tools_present, tmp_path, task):
    safety, progress = formal.DEPTHS["quick"]
    r = formal.check(task, safety if task == "safety" else progress, tmp_path)
    assert r["status"] == "PASS", r["log"]


def test_progress_bound_is_tight(tools_present, tmp_path):
    """One cycle less than the stated bound must give a counterexample."""
    r = formal.check("progress", formal.DEPTHS["quick"][1], tmp_path, wait=formal.WAIT - 1)
    assert r["status"] == "FAIL", r["log"]
