"""The run's random seed, as a pytest plugin (pyproject.toml loads it with `-p`).

`--seed N` (or `CIMFORGE_SEED=N`; `random` for a fresh one) seeds every randomised test,
Amaranth and cocotb alike; the header prints it, and a failing test's report names the seed to
rerun it with.
"""

import os

import pytest
from cimforge.verif import seeds


def pytest_addoption(parser):
    parser.addoption("--seed", default=None,
                     help=f"random seed of the run: an integer or 'random' (default: "
                          f"${seeds.VARIABLE} or {seeds.DEFAULT})")


def pytest_configure(config):
    if hasattr(config, "workerinput"):
        return          # an xdist worker: the controller chose the seed (in the environment)
    text = config.getoption("--seed") or os.environ.get(seeds.VARIABLE)
    try:
        seed = seeds.parse(text)
    except ValueError as error:
        raise pytest.UsageError(str(error)) from None
    # In the environment, so xdist workers and the simulators' processes see the same seed.
    os.environ[seeds.VARIABLE] = str(seed)


def pytest_report_header(config):
    return f"cimforge seed: {seeds.session_seed()} (rerun with --seed {seeds.session_seed()})"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        seed = seeds.session_seed()
        report.sections.append(("cimforge seed", f"this run's seed is {seed}: rerun with "
                                                 f"--seed {seed} (or {seeds.VARIABLE}={seed})"))


@pytest.fixture
def seed() -> int:
    return seeds.session_seed()
