"""The command line as the tests use it."""

import subprocess
import sys


def cimforge(*args, cwd=None) -> subprocess.CompletedProcess:
    """`cimforge ARGS` in a subprocess (`python -m cimforge.cli`), output captured as text."""
    return subprocess.run([sys.executable, "-m", "cimforge.cli", *args], capture_output=True,
                          text=True, cwd=cwd)
