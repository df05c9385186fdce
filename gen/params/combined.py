from dataclasses import dataclass

from . import Params, param
from .presets import CORE_PRESETS

# The cores of each combination, as (block, preset); sized for the named FPGA family.
COMBINATIONS = {
    "ice40": (("lfsr_bank", "default"), ("cim_macro", "icebreaker")),
    "ecp5": (("lfsr_bank", "raca"), ("raca", "ecp5"), ("cim_macro", "ice40"),
             ("aer_mesh", "2x2")),
}


@dataclass(frozen=True)
class CombinedParams(Params):
    """Several cores side by side in one design (their ports prefixed with the block name)."""

    block = "combined"

    cores: str = param("ecp5", "which combination: ice40 (LFSR bank + CIM macro) or ecp5 "
                               "(LFSR bank, RACA, CIM macro, 2x2 AER mesh)",
                       choices=tuple(COMBINATIONS))

    def members(self):
        """(block, parameters) of every core, in port order."""
        return [(block, CORE_PRESETS[block][preset]) for block, preset in
                COMBINATIONS[self.cores]]


PRESETS = {"ice40": CombinedParams(cores="ice40"), "ecp5": CombinedParams(cores="ecp5")}
