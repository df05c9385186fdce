"""pytest plumbing shared by every launcher: the `sim` parameter and the missing-simulator rule.

A missing simulator skips its tests (with the reason) on a developer machine, but fails them
under CI=true, where both simulators must be present. (The run's seed is a plugin,
`cimforge.verif.pytest_plugin`, loaded from pyproject.toml: a command-line option must be
registered before pytest finds this file.)
"""

import os

import pytest
from cimforge.verif.harness import SIMULATORS, SimulatorMissing, check_simulator


@pytest.fixture(params=SIMULATORS)
def sim(request):
    try:
        check_simulator(request.param)
    except SimulatorMissing as missing:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{missing} (CI=true: both simulators are required)")
        pytest.skip(str(missing))
    return request.param
