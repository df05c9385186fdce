"""The run's seed reaches every test process, from the command line as users give it."""

import os
import subprocess
import sys
from pathlib import Path

from cimforge.verif import seeds

ROOT = Path(__file__).resolve().parent.parent


def pytest_run(*args, cwd=ROOT, env=None):
    environment = {k: v for k, v in os.environ.items() if k != seeds.VARIABLE}
    return subprocess.run([sys.executable, "-m", "pytest", *args], cwd=cwd, text=True,
                          capture_output=True, env={**environment, **(env or {})}, timeout=300)


def test_seed_option_without_paths():
    """`make test SEED=5` runs `pytest --seed 5` with no paths: the option must be known
    before pytest has found any conftest."""
    result = pytest_run("--seed", "5", "--collect-only")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "cimforge seed: 5" in result.stdout


def test_random_seed_is_one_seed_for_every_worker(tmp_path):
    """`--seed random` draws one seed in the controller; every xdist worker uses it."""
    (tmp_path / "test_probe.py").write_text(
        "import os\n"
        "import pytest\n"
        "@pytest.mark.parametrize('i', range(8))\n"
        "def test_probe(i, tmp_path_factory):\n"
        f"    path = {str(tmp_path)!r} + f'/seed-{{i}}'\n"
        f"    open(path, 'w').write(os.environ[{seeds.VARIABLE!r}])\n")
    result = pytest_run("-p", "cimforge.verif.pytest_plugin", "-n", "2", "--seed", "random",
                        "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(tmp_path),
                        cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    drawn = {(tmp_path / f"seed-{i}").read_text() for i in range(8)}
    assert len(drawn) == 1, f"workers saw different seeds: {drawn}"
    assert f"cimforge seed: {drawn.pop()}" in result.stdout


def test_bad_seed_is_a_usage_error():
    result = pytest_run("--seed", "banana", "--collect-only", "-q")
    assert result.returncode == 4
    assert "seed must be an integer or 'random', got 'banana'" in result.stderr
