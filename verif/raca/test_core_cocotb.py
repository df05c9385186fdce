"""The RACA control plane's Verilog in Icarus and Verilator against the golden model.

Each generation-time configuration is a build per simulator; together they cover the three
neuron forms, the built-in and the external noise source, 1 to 4 layers, tile shapes that do
and do not divide the layer sizes, scan widths 1..16, weight widths 3..12, noise words of
6..12 bits and table resolutions F = 2..8. Run-time choices (layer count, sizes, T, seeds,
inputs) are random inside each build.
"""

import pytest
from cimforge.blocks import get
from cimforge.params.raca import RacaParams
from cimforge.verif import harness

MODULE = "cimforge.verif.raca.tb_core"

CONFIGS = {
    "digits": get("raca").configure("digits"),
    "gauss-external": RacaParams(max_layers=3, max_inputs=40, max_hidden=24, max_classes=6,
                                 tile_rows=8, tile_cols=5, scan_width=8, neuron="gauss",
                                 gauss_terms=3, external_noise=True, weight_width=4,
                                 bias_width=10, noise_bits=6, frac_bits=2, lfsr_length=20,
                                 max_samples=40),
    "threshold-1layer": RacaParams(max_layers=1, max_inputs=20, max_classes=7, tile_rows=4,
                                   tile_cols=3, scan_width=4, neuron="threshold",
                                   weight_width=3, bias_width=6, noise_bits=10, frac_bits=6,
                                   external_noise=True, max_samples=20),
    "deep": RacaParams(max_layers=4, max_inputs=33, max_hidden=17, max_classes=9,
                       tile_rows=16, tile_cols=17, scan_width=1, weight_width=12, bias_width=20,
                       noise_bits=12, frac_bits=8, lfsr_length=12, max_samples=9),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_raca(sim, name):
    harness.run(sim, CONFIGS[name], MODULE, name="tb_raca",
                args={"networks": 8, "inferences": 3})
