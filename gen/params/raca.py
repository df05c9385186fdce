"""Parameters, commands, registers and wire formats of the RACA control plane (`raca`); the
behaviour is specified in `cimforge.golden.raca`."""

from dataclasses import dataclass
from enum import IntEnum
from functools import cached_property

from . import Params, param
from .lfsr_bank import MIN_LENGTH
from .wire import Field, Format, ceil_div

NEURON_FORMS = ("sigmoid", "threshold", "gauss")


# Command fields and registers.
OP_WIDTH = 4
ADDR_BITS = 16
REG_BITS = 32
MAX_SHIFT = 31          # largest table shift of a layer
AUTO_TILE = 128         # the largest tile side chosen when tile_rows/tile_cols are left at 0


def _pow2_ceil(n: int) -> int:
    return 1 << (n - 1).bit_length()


class Op(IntEnum):
    NOP = 0
    WRITE_REG = 1       # addr = register, data = value
    READ_REG = 2        # addr = register -> rdata
    WRITE_WEIGHT = 3    # addr = weight word (tile * tile_rows + row), data = tile_cols weights
    WRITE_BIAS = 4      # addr = bias word, data = tile_cols biases
    WRITE_ACT = 5       # addr = activation word, data = scan_width bits
    READ_ACT = 6        # addr = activation word -> rdata
    START = 7


class Reg(IntEnum):
    STATUS = 0          # ro: bit 0 busy, bit 1 done, bit 2 last START refused
    LAYERS = 1
    SAMPLES = 2
    SEED = 3
    PREDICTION = 4      # ro
    CYCLES = 5          # ro: cycles of the last inference
    NOISE_WAIT = 6      # ro: cycles the last inference waited for noise
    DROPPED = 7         # ro: commands dropped since reset
    SIZE = 8            # SIZE + k, k = 0..max_layers: n_k
    SHIFT = 16          # SHIFT + l, l = 0..max_layers - 1
    COUNT = 32          # COUNT + c, ro: votes for class c


@dataclass(frozen=True)
class Register:
    """One entry of the RACA core's register map (`RacaParams.registers`).

    `name` is the core's port that holds it; registers of one name form an array (`index`:
    SIZE + k is `size[k]`). A write to a writable register takes a value in [`lo`, `hi`] and
    anything else is dropped and counted; a write to a read-only one, or to or from an address
    with no register, likewise."""
    name: str
    address: int
    width: int
    writable: bool
    doc: str
    index: int | None = None
    lo: int = 0
    hi: int = 0
    init: int = 0

    @property
    def label(self) -> str:
        return self.name if self.index is None else f"{self.name}{self.index}"


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
    tile_rows: int = param(0, "crossbar tile rows (inputs per tile); a power of two; 0: the "
                              "largest fan-in rounded up to a power of two, at most 128",
                           lo=0, hi=1024)
    tile_cols: int = param(0, "crossbar tile columns (neurons per tile, summed in parallel); "
                              "0: the widest layer, at most 128", lo=0, hi=256)
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

    def resolve(self):
        if self.tile_rows == 0:
            self.derive("tile_rows", min(AUTO_TILE, max(self.scan_width,
                                                         _pow2_ceil(self.max_fan_in))))
        if self.tile_cols == 0:
            self.derive("tile_cols", min(AUTO_TILE, self.max_width))

    def check(self):
        if self.tile_rows & (self.tile_rows - 1):
            raise self.error("tile_rows", "must be a power of two (a tile row index is the low "
                                          "bits of the input index)")
        if self.scan_width & (self.scan_width - 1):
            raise self.error("scan_width", "must be a power of two")
        if self.scan_width > self.tile_rows:
            raise self.error("scan_width", f"must not exceed tile_rows = {self.tile_rows} (a "
                                           f"scan chunk then lies in one tile)")
        # Tiles larger than any layer can use are memory and adders that never do anything.
        most_rows = max(self.scan_width, _pow2_ceil(self.max_fan_in))
        if self.tile_rows > most_rows:
            raise self.error("tile_rows", f"is taller than any layer can use: at most "
                                          f"{most_rows} (the largest fan-in {self.max_fan_in} "
                                          f"rounded up to a power of two, or scan_width)")
        if self.tile_cols > self.max_width:
            raise self.error("tile_cols", f"is wider than the widest layer ({self.max_width} "
                                          f"neurons)")
        if self.max_layers > 1 and self.max_classes > self.max_hidden:
            raise self.error("max_classes", f"must not exceed max_hidden = {self.max_hidden}")
        if self.noise_bits > self.lfsr_length:
            raise self.error("noise_bits", f"must not exceed lfsr_length = {self.lfsr_length}")
        if self.bias_width > self.acc_width:
            raise self.error("bias_width", f"must not exceed the accumulator width "
                                           f"{self.acc_width}")

    # -- derived sizes -------------------------------------------------------------------

    @property
    def max_fan_in(self) -> int:
        """The most inputs any layer can have."""
        return max(self.max_inputs, self.max_hidden if self.max_layers > 1 else 0)

    @property
    def max_width(self) -> int:
        """The most neurons any layer can have."""
        return max(self.max_classes, self.max_hidden if self.max_layers > 1 else 0)

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
    def act_depth(self) -> int:
        """Words in the activation memory (at least one)."""
        return max(1, self.act_base[3])

    @property
    def cmd_data_width(self) -> int:
        return max(self.tile_cols * self.weight_width, self.tile_cols * self.bias_width,
                   self.scan_width, 32)

    @property
    def count_width(self) -> int:
        return self.max_samples.bit_length()

    @property
    def size_limit(self) -> int:
        """The most neurons a layer after the inputs may have."""
        return max(self.max_hidden, self.max_classes) if self.max_layers > 1 else self.max_classes

    @cached_property
    def registers(self) -> list[Register]:
        """The register map (READ_REG / WRITE_REG addresses `Reg`), read by the RTL, the
        emitted metadata and the docs."""
        rw = lambda name, address, hi, doc, lo=1, index=None, init=0: Register(
            name, address, hi.bit_length(), True, doc, index, lo, hi, init)
        ro = lambda name, address, width, doc, index=None: Register(
            name, address, width, False, doc, index)
        sizes = self.max_sizes(self.max_layers)
        size_width = max(self.max_inputs, self.size_limit).bit_length()
        registers = [
            ro("status", Reg.STATUS, 3, "bit 0 busy, bit 1 done, bit 2 the last START refused"),
            rw("layers", Reg.LAYERS, self.max_layers, "weight layers of the network",
               init=self.max_layers),
            rw("samples", Reg.SAMPLES, self.max_samples, "T: samples per inference", init=1),
            rw("seed", Reg.SEED, (1 << self.lfsr_length) - 1, "noise seed (whitened at START)",
               lo=0),
            ro("prediction", Reg.PREDICTION, max(1, (self.max_classes - 1).bit_length()),
               "the last inference's class"),
            ro("cycles", Reg.CYCLES, REG_BITS, "cycles of the last inference"),
            ro("noise_wait", Reg.NOISE_WAIT, REG_BITS, "cycles it waited for noise"),
            ro("dropped", Reg.DROPPED, REG_BITS, "commands dropped since reset"),
        ]
        for k, init in enumerate(sizes):
            hi, what = (self.max_inputs, "inputs") if k == 0 else (self.size_limit,
                                                                   f"layer {k}'s neurons")
            registers.append(Register("size", Reg.SIZE + k, size_width, True, f"n_{k}: {what}",
                                      k, 1, hi, init))
        registers += [rw("shift", Reg.SHIFT + l, MAX_SHIFT, f"right shift of layer {l}'s sums",
                         lo=0, index=l) for l in range(self.max_layers)]
        registers += [ro("count", Reg.COUNT + c, self.count_width, f"votes for class {c}", c)
                      for c in range(self.max_classes)]
        return registers

    # -- wire formats ---------------------------------------------------------------------
    @cached_property
    def command_format(self) -> Format:
        """`s_axis_cmd_tdata`: one command (see `Op`; registers `Reg`)."""
        return Format("raca_command", [
            Field("op", OP_WIDTH, "operation", values=Op),
            Field("addr", ADDR_BITS, "register, weight, bias or activation word"),
            Field("data", self.cmd_data_width, "value or memory word"),
        ])

    @property
    def rdata_width(self) -> int:
        """`m_axis_rdata_tdata`: a register (REG_BITS) or an activation word."""
        return max(REG_BITS, self.scan_width)

    def formats(self) -> dict[str, Format]:
        return {"s_axis_cmd": self.command_format}


PRESETS = {
    # The 784-256-10 MNIST network, 128 x 128 tiles.
    "mnist": RacaParams(),
    # scikit-learn's 8x8 digits: 64-32-10.
    "digits": RacaParams(max_inputs=64, max_hidden=32, tile_rows=64, tile_cols=32),
    # The digits network on an iCE40 UP5K: 8 columns summed per cycle.
    "ice40": RacaParams(max_inputs=64, max_hidden=32, tile_rows=64, tile_cols=8),
    # An MNIST-sized network that fits an ECP5-25F's block RAM (784-64-10, 8-bit).
    "ecp5": RacaParams(max_inputs=784, max_hidden=64, tile_rows=128, tile_cols=32),
}
