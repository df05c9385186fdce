from dataclasses import dataclass

from ..golden.lfsr_polynomials import MAX_LANES, MAX_LENGTH, MIN_LENGTH, polynomials
from . import Params, param


@dataclass(frozen=True)
class LfsrBankParams(Params):
    """A bank of independent Galois LFSR lanes, each giving one `width`-bit word per cycle."""

    block = "lfsr_bank"

    width: int = param(8, "bits per noise word (per lane)", lo=1, hi=MAX_LENGTH)
    lanes: int = param(4, "number of independent lanes (words per cycle)", lo=1, hi=MAX_LANES)
    length: int = param(32, "LFSR register length L (period 2^L - 1 bits)",
                        lo=MIN_LENGTH, hi=MAX_LENGTH)
    reset_seed: int = param(0, "seed loaded at reset (a run-time seed stream can replace it)",
                            lo=0, hi=(1 << MAX_LENGTH) - 1)

    def check(self):
        available = len(polynomials(self.length))
        if self.lanes > available:
            raise self.error("lanes", f"degree {self.length} has only {available} primitive "
                                      f"polynomials, so at most {available} lanes; use a larger "
                                      f"length")
        if self.width > self.length:
            raise self.error("width", f"must not exceed length = {self.length} (more bits "
                                      f"per word than register bits would make them dependent)")
        if self.reset_seed >> self.length:
            raise self.error("reset_seed", f"must fit in length = {self.length} bits")
