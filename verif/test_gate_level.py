"""Gate-level simulation: the same cocotb testbenches on netlists synthesised by yosys for the
iCE40 (over yosys' cell models), in Icarus. Shows that synthesis kept the function."""

from cimforge.params.lfsr_bank import LfsrBankParams
from cimforge.params.raca import RacaParams
from cimforge.verif import harness


def test_lfsr_bank_gates():
    params = LfsrBankParams(width=7, lanes=3, length=10, reset_seed=0x2A5)
    harness.run("icarus", params, "cimforge.verif.raca.tb_lfsr_bank", name="gates", gates="ice40",
                args={"words": 100, "seeds": [1, 0, 0x3FF]})


def test_raca_gates():
    """A small RACA core: two layers, 3-column tiles, threshold neurons, external noise."""
    params = RacaParams(max_layers=2, max_inputs=12, max_hidden=6, max_classes=4, tile_rows=4,
                        tile_cols=3, scan_width=4, neuron="threshold", weight_width=4,
                        bias_width=8, noise_bits=6, frac_bits=2, lfsr_length=16,
                        external_noise=True, max_samples=8)
    harness.run("icarus", params, "cimforge.verif.raca.tb_core", name="gates", gates="ice40",
                args={"networks": 2, "inferences": 2, "samples": [1, 3]})
