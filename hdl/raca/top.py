"""The RACA block as generated: the control plane plus its noise source.

By default the noise comes from a built-in `lfsr_bank` (width noise_bits, lanes noise_words,
length lfsr_length) that the core reseeds at every START. With `external_noise` the core's
`noise` and `seed` streams become top-level ports instead, so a real noise sampler (or a
testbench) can feed it; the core simply waits for late noise.
"""

from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import connect

from ...params.lfsr_bank import LfsrBankParams
from ...params.raca import RacaParams
from ..common.ports import forward
from .core import RacaCore
from .lfsr_bank import LfsrBank


def noise_bank_params(params: RacaParams) -> LfsrBankParams:
    return LfsrBankParams(width=params.noise_bits, lanes=params.noise_words,
                          length=params.lfsr_length)


class RacaTop(wiring.Component):
    """`RacaCore` with its noise source: the ports of the core, less `noise` and `seed` when
    the built-in `LfsrBank` feeds it (`params.external_noise` False)."""

    def __init__(self, params: RacaParams):
        self.params = params
        self.core = RacaCore(params)
        members = {name: member for name, member in self.core.signature.members.items()
                   if params.external_noise or name not in ("noise", "seed")}
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        m.submodules.core = core = self.core
        for name, member in self.signature.members.items():
            forward(m, member, getattr(self, name), getattr(core, name))
        if not self.params.external_noise:
            m.submodules.noise_bank = bank = LfsrBank(noise_bank_params(self.params))
            connect(m, bank.noise, core.noise)
            connect(m, core.seed, bank.seed)
        return m
