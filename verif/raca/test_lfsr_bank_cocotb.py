"""The LFSR noise bank's Verilog in Icarus and Verilator against the golden model."""

import pytest
from cimforge.params.lfsr_bank import LfsrBankParams
from cimforge.verif import harness

# (width, lanes, length): the default, 1-bit words, odd widths and lengths, the widest
# registers, more lanes than a small degree allows words for; 8- and 10-bit registers get a
# full-period check.
CONFIGS = [
    LfsrBankParams(),
    LfsrBankParams(width=1, lanes=2, length=8, reset_seed=0),
    LfsrBankParams(width=7, lanes=3, length=10, reset_seed=0x2A5),
    LfsrBankParams(width=13, lanes=5, length=61, reset_seed=(1 << 61) - 1),
    LfsrBankParams(width=64, lanes=2, length=64, reset_seed=0x0123456789ABCDEF),
]


@pytest.mark.parametrize("params", CONFIGS,
                         ids=lambda p: f"w{p.width}-l{p.lanes}-L{p.length}")
def test_lfsr_bank(sim, params):
    harness.run(sim, params, "cimforge.verif.raca.tb_lfsr_bank", name="tb_lfsr_bank",
                args={"words": 150, "seeds": [1, 0, (1 << params.length) - 1, 0x5A5A5A5A5A5A5A5A
                                              & ((1 << params.length) - 1)]})
