"""The registry of generatable blocks: parameter class, presets and how to build the top level.

To add a block: write its parameter class in `cimforge/params/`, its component in
`cimforge/hdl/`, its golden model in `cimforge/golden/`, and register it here.
"""

from dataclasses import dataclass, field
from typing import Callable

from .params import ParamError, Params
from .params.lfsr_bank import LfsrBankParams


@dataclass(frozen=True)
class Block:
    name: str
    doc: str
    params: type[Params]
    build: Callable[[Params], object]          # params -> top-level wiring.Component
    presets: dict[str, Params] = field(default_factory=dict)

    def configure(self, preset: str | None = None, assignments: list[str] = ()) -> Params:
        if preset is not None and preset not in self.presets:
            raise ParamError(f"{self.name}: unknown preset '{preset}'; presets are "
                             f"{', '.join(self.presets) or 'none'}")
        base = self.presets[preset] if preset is not None else None
        return self.params.parse(base, list(assignments))


def _lfsr_bank(params):
    from .hdl.axis_top import AxisTop
    from .hdl.lfsr_bank import LfsrBank
    return AxisTop(LfsrBank(params))


BLOCKS: dict[str, Block] = {b.name: b for b in [
    Block("lfsr_bank", "LFSR noise bank: independent Galois LFSR lanes, one word per lane "
          "per cycle", LfsrBankParams, _lfsr_bank, presets={
              "default": LfsrBankParams(),
              "raca": LfsrBankParams(width=8, lanes=16, length=32),
              "tiny": LfsrBankParams(width=4, lanes=1, length=16),
          }),
]}


def get(name: str) -> Block:
    if name not in BLOCKS:
        raise ParamError(f"unknown block '{name}'; blocks are {', '.join(BLOCKS)}")
    return BLOCKS[name]
