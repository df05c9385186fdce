"""The test suite's random seed: one number per run, from `--seed` or `CIMFORGE_SEED`.

Every randomised test derives its stimulus from this seed (and its own parameters), so a run
is repeatable, and a failure names the seed to rerun it with. The default (1) is what CI runs;
`--seed random` (or `CIMFORGE_SEED=random`) draws a fresh one and prints it.
"""

import os
import random

import numpy as np

DEFAULT = 1
VARIABLE = "CIMFORGE_SEED"


def parse(text: str | None) -> int:
    """A seed from the command line or environment: an integer, or `random`."""
    if text is None or text == "":
        return DEFAULT
    if text == "random":
        return random.SystemRandom().randrange(1 << 31)
    try:
        return int(text, 0)
    except ValueError:
        raise ValueError(f"seed must be an integer or 'random', got {text!r}") from None


def session_seed() -> int:
    """The run's seed (set in the environment by the pytest plugin, inherited by the xdist
    workers and by the simulators' processes)."""
    return parse(os.environ.get(VARIABLE))


def rng(*salt) -> random.Random:
    """A generator for one test: the session seed mixed with the test's own parameters."""
    return random.Random(":".join(map(str, (session_seed(), *salt))))


def np_rng(*salt):
    """The numpy generator for one test, seeded like `rng`."""
    return np.random.default_rng(rng(*salt).getrandbits(64))
