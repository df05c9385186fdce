"""The registry of generatable blocks: parameter class, presets and how to build the top level.

To add a block: write its parameter class in `cimforge/params/`, its component in
`cimforge/hdl/`, its golden model in `cimforge/golden/`, and register it here.
"""

from dataclasses import dataclass, field
from typing import Callable

from .params import ParamError, Params
from .params.aer_mesh import AerMeshParams, AerRouterParams
from .params.cim_macro import CimMacroParams
from .params.combined import CombinedParams
from .params.lfsr_bank import LfsrBankParams
from .params.raca import RacaParams
from .params.uart_bridge import UartBridgeParams


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


def _cim_macro(params):
    from .hdl.axis_top import AxisTop
    from .hdl.cim_macro import CimMacro
    return AxisTop(CimMacro(params))


def _aer_mesh(params):
    from .hdl.aer_mesh import AerMesh
    from .hdl.axis_top import AxisTop
    return AxisTop(AerMesh(params))


def _aer_router(params):
    from .hdl.aer_router import AerRouter
    from .hdl.axis_top import AxisTop
    return AxisTop(AerRouter(params, params.x, params.y))


def _raca(params):
    from .hdl.axis_top import AxisTop
    from .hdl.raca_top import RacaTop
    return AxisTop(RacaTop(params))


def _combined(params):
    from .hdl.axis_top import AxisTop
    from .hdl.combined import Combined
    cores = {}
    for block, core_params in params.members():
        top = get(block).build(core_params)
        top._MustUse__silence = True          # only its core is used
        cores[block] = top.core
    return AxisTop(Combined(cores))


def _uart_bridge(params):
    from .hdl.uart_bridge import UartBridge
    top = get(params.design).build(params.core_params())
    top._MustUse__silence = True          # only its core is used: the bridge drives streams
    core = top.core
    return UartBridge(core, params.divisor, timeout=params.timeout,
                      byte_timeout_bits=params.byte_timeout_bits)


BLOCKS: dict[str, Block] = {b.name: b for b in [
    Block("lfsr_bank", "LFSR noise bank: independent Galois LFSR lanes, one word per lane "
          "per cycle", LfsrBankParams, _lfsr_bank, presets={
              "default": LfsrBankParams(),
              "raca": LfsrBankParams(width=8, lanes=16, length=32),
              "tiny": LfsrBankParams(width=4, lanes=1, length=16),
          }),
    Block("cim_macro", "FlexSpIM-style digital CIM macro: bitwise-flexible lanes, weights and "
          "membranes in one array, one row slice per clock", CimMacroParams, _cim_macro,
          presets={
              # The paper's macro: 512 rows x 256 columns (16 kB).
              "flexspim": CimMacroParams(rows=512, cols=256),
              # Fits an iCE40 UP5K (98 % of its logic cells in the bench shell). iCE40 has
              # no LUT RAM, so the queues are flip-flops and kept short; operands span up to
              # 8 slices (16-bit membranes in 2-column lanes, 64-bit in 8-column ones), since
              # every slice bit is two configuration planes of flip-flops across the row.
              # 20-bit counters (24 left 2 of the UP5K's 5280 logic cells free).
              "ice40": CimMacroParams(rows=128, cols=32, max_slices=8, max_lane=8,
                                      cmd_depth=2, rdata_depth=2, counter_width=20),
              # Half as wide: fits an iCEBreaker together with the UART bridge.
              "icebreaker": CimMacroParams(rows=128, cols=16, max_slices=16, max_lane=8,
                                           cmd_depth=2, rdata_depth=2, counter_width=16),
              # tinyODIN's layer (256 neurons x 256 inputs, 4-bit weights, 12-bit membranes):
              # 64 lanes of 4 bits per row, 4 neuron groups: 4 x 256 weight rows + 4 x 3
              # membrane rows + threshold rows.
              # Lanes up to 4 columns, tinyODIN's weight width (8-bit weights take two slices,
              # at the same SOP/cycle), so the column logic fits an ECP5-25F.
              "tinyodin": CimMacroParams(rows=1040, cols=256, max_slices=4, max_lane=4),
          }),
    Block("aer_mesh", "Address-event mesh: XY routers, multicast tables at injection, "
          "per-port counters", AerMeshParams, _aer_mesh, presets={
              "2x2": AerMeshParams(rows=2, cols=2),
              "4x4": AerMeshParams(rows=4, cols=4),
              # Two cores with 64-entry tables: fits an iCEBreaker with the UART bridge.
              "2x1": AerMeshParams(rows=1, cols=2, table_neurons=64, table_entries=64),
          }),
    Block("raca", "RACA digital control plane: binary-input crossbar emulation, stochastic "
          "binarized neurons, noisy winner-takes-all, T-sample voting, LFSR noise",
          RacaParams, _raca, presets={
              # The 784-256-10 MNIST network, 128 x 128 tiles.
              "mnist": RacaParams(),
              # scikit-learn's 8x8 digits: 64-32-10.
              "digits": RacaParams(max_inputs=64, max_hidden=32, tile_rows=64, tile_cols=32),
              # The digits network on an iCE40 UP5K: 8 columns summed per cycle.
              "ice40": RacaParams(max_inputs=64, max_hidden=32, tile_rows=64, tile_cols=8),
              # An MNIST-sized network that fits an ECP5-25F's block RAM (784-64-10, 8-bit).
              "ecp5": RacaParams(max_inputs=784, max_hidden=64, tile_rows=128, tile_cols=32),
          }),
    Block("aer_router", "One address-event router (XY routing, input FIFOs, round-robin "
          "outputs) of a mesh, on its own", AerRouterParams, _aer_router, presets={
              "inner": AerRouterParams(),
          }),
]}


def get(name: str) -> Block:
    if name not in BLOCKS:
        raise ParamError(f"unknown block '{name}'; blocks are {', '.join(BLOCKS)}")
    return BLOCKS[name]


# These two are built from the other blocks (the bridge's `check()` looks them up here), so they
# are registered once the others are.
BLOCKS["combined"] = Block(
    "combined", "Several cores side by side (ports prefixed with the block name), for one "
    "board", CombinedParams, _combined,
    presets={"ice40": CombinedParams(cores="ice40"), "ecp5": CombinedParams(cores="ecp5")})
BLOCKS["uart_bridge"] = Block(
    "uart_bridge", "A core behind the UART host bridge (framed requests: write/read its "
    "streams, error counters); what the board tops run", UartBridgeParams, _uart_bridge,
    presets={"lfsr": UartBridgeParams(),
             "raca-ice40": UartBridgeParams(design="raca", preset="ice40")})
