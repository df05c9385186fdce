"""Progress for long steps (FPGA tool runs, benchmark entries): a tqdm line with the step's
name and elapsed time, refreshed every second, on a terminal only. Under CI, or when stderr
is not a terminal (logs, pipes, pytest), nothing is printed."""

import os
import sys
import threading
from contextlib import contextmanager

from tqdm import tqdm


def interactive() -> bool:
    return sys.stderr.isatty() and not os.environ.get("CI")


@contextmanager
def step(label: str, *, enabled: bool | None = None):
    """Shows `label` and a running clock while the body runs (left on screen when done)."""
    if not (interactive() if enabled is None else enabled):
        yield
        return
    bar = tqdm(total=None, desc=label, bar_format="{desc}: {elapsed}", file=sys.stderr)
    done = threading.Event()

    def tick():
        while not done.wait(1):
            bar.refresh()

    clock = threading.Thread(target=tick, daemon=True)
    clock.start()
    try:
        yield
    finally:
        done.set()
        clock.join()
        bar.close()


def steps(items, label: str, *, enabled: bool | None = None):
    """`items` with a counted progress bar (e.g. benchmark entries)."""
    items = list(items)
    if not (interactive() if enabled is None else enabled):
        return items
    return tqdm(items, desc=label, file=sys.stderr)
