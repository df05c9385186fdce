from dataclasses import dataclass

from ..golden.lfsr_polynomials import MIN_LENGTH
from . import Params, param

NEURON_FORMS = ("sigmoid", "threshold", "gauss")


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@dataclass(frozen=True)
class RacaParams(Params):
    """RACA digital control plane: binary-input crossbar emulation, stochastic binarized hidden
    neurons, noisy winner-takes-all output, T-sample voting. Sizes here are generation-time
    maxima; the actual network (layer count and sizes, T, seed, table scales) is set at run
    time."""

    block = "raca"

    max_layers: int = param(2, "most weight layers (hidden layers + the output layer)",
                            lo=1, hi=4)
    max_inputs: int = param(784, "most network inputs", lo=1, hi=4096)
    max_hidden: int = param(256, "most neurons in one hidden layer", lo=1, hi=4096)
    max_classes: int = param(10, "most output classes (at most max_hidden)", lo=2, hi=256)
    max_samples: int = param(255, "largest T (stochastic samples per inference)",
                             lo=1, hi=65535)
    weight_width: int = param(8, "bits per signed weight", lo=2, hi=16)
    bias_width: int = param(16, "bits per signed bias", lo=2, hi=24)
    tile_rows: int = param(128, "crossbar tile rows (inputs per tile); a power of two",
                           lo=1, hi=1024)
    tile_cols: int = param(128, "crossbar tile columns (neurons per tile, summed in parallel)",
                           lo=1, hi=256)
    scan_width: int = param(16, "activation bits examined per cycle when looking for the next "
                                "active input; a power of two", lo=1, hi=32)
    noise_bits: int = param(8, "bits B of one uniform noise word", lo=4, hi=12)
    frac_bits: int = param(4, "fraction bits F of the table argument: the tables cover "
                              "z * 2^-F in [-8, 8)", lo=0, hi=8)
    neuron: str = param("sigmoid", "hidden neuron form: sigmoid (probability table indexed by "
                                   "z), threshold (threshold table indexed by the noise word; "
                                   "same decisions), gauss (threshold table indexed by a sum "
                                   "of gauss_terms words: Irwin-Hall noise, probit curve)",
                        choices=NEURON_FORMS)
    gauss_terms: int = param(4, "uniform words summed per gauss-form neuron", lo=2, hi=8)
    lfsr_length: int = param(32, "LFSR register bits of the built-in noise bank (and of "
                                 "the seed register)", lo=MIN_LENGTH, hi=32)
    external_noise: bool = param(False, "expose the noise stream (s_axis_noise) and the seed "
                                        "stream (m_axis_seed) instead of the built-in LFSR bank")

    def check(self):
        if self.tile_rows & (self.tile_rows - 1):
            raise self.error("tile_rows", "must be a power of two (a tile row index is the low "
                                          "bits of the input index)")
        if self.scan_width & (self.scan_width - 1):
            raise self.error("scan_width", "must be a power of two")
        if self.scan_width > self.tile_rows:
            raise self.error("scan_width", f"must not exceed tile_rows = {self.tile_rows} (a "
                                           f"scan chunk then lies in one tile)")
        if self.max_layers > 1 and self.max_classes > self.max_hidden:
            raise self.error("max_classes", f"must not exceed max_hidden = {self.max_hidden}")
        if self.noise_bits > self.lfsr_length:
            raise self.error("noise_bits", f"must not exceed lfsr_length = {self.lfsr_length}")
        if self.bias_width > self.acc_width:
            raise self.error("bias_width", f"must not exceed the accumulator width "
                                           f"{self.acc_width}")

    # -- derived sizes -------------------------------------------------------------------

    @property
    def noise_words(self) -> int:
        """Uniform words per noise transfer (one transfer per neuron per sample)."""
        return self.gauss_terms if self.neuron == "gauss" else 1

    @property
    def acc_width(self) -> int:
        """Pre-activation bits: any sum of max(max_inputs, max_hidden) weights plus a bias,
        exactly (never wraps)."""
        fan_in = max(self.max_inputs, self.max_hidden)
        return max(self.weight_width + fan_in.bit_length(), self.bias_width - 1) + 2

    @property
    def table_bits(self) -> int:
        """Bits of the clamped table argument z' (covers [-8, 8) * 2^F)."""
        return self.frac_bits + 4

    def max_sizes(self, layers: int) -> list[int]:
        """The largest layer sizes (inputs, hidden..., classes) of a `layers`-layer network."""
        return [self.max_inputs] + [self.max_hidden] * (layers - 1) + [self.max_classes]

    def tiles(self, sizes: list[int]) -> int:
        """Crossbar tiles a network with these layer sizes occupies."""
        return sum(ceil_div(n_in, self.tile_rows) * ceil_div(n_out, self.tile_cols)
                   for n_in, n_out in zip(sizes, sizes[1:]))

    @property
    def weight_tiles(self) -> int:
        """Tiles in the weight memory: enough for every network the maxima allow."""
        return max(self.tiles(self.max_sizes(layers))
                   for layers in range(1, self.max_layers + 1))

    @property
    def weight_depth(self) -> int:
        return self.weight_tiles * self.tile_rows

    @property
    def bias_depth(self) -> int:
        """Bias words (tile_cols biases each): one per column tile of every layer."""
        return max(sum(ceil_div(n, self.tile_cols) for n in self.max_sizes(layers)[1:])
                   for layers in range(1, self.max_layers + 1))

    @property
    def act_base(self) -> list[int]:
        """Activation memory (scan_width-bit words): input region, then two hidden buffers."""
        inputs = ceil_div(self.max_inputs, self.scan_width)
        hidden = ceil_div(self.max_hidden, self.scan_width) if self.max_layers > 1 else 0
        return [0, inputs, inputs + hidden, inputs + 2 * hidden]

    @property
    def cmd_data_width(self) -> int:
        return max(self.tile_cols * self.weight_width, self.tile_cols * self.bias_width,
                   self.scan_width, 32)

    @property
    def count_width(self) -> int:
        return self.max_samples.bit_length()
