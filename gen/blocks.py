"""The registry of generatable blocks: parameter class, presets and how to build the top level.

To add a block: write its parameter class in `cimforge/params/`, its component in
`cimforge/hdl/`, its golden model in `cimforge/golden/`, and register it here.
"""

from dataclasses import dataclass, field
from typing import Callable

from amaranth.lib import wiring

from .hdl.aer.mesh import AerMesh
from .hdl.aer.router import AerRouter
from .hdl.cim.macro import CimMacro
from .hdl.common.axis_top import AxisTop
from .hdl.common.combined import Combined
from .hdl.host.uart_bridge import UartBridge
from .hdl.raca.lfsr_bank import LfsrBank
from .hdl.raca.top import RacaTop
from .hdl.snn.core import SnnCore
from .hdl.snn.system import SnnSystem
from .params import (
    ParamError,
    Params,
    aer_mesh,
    cim_macro,
    combined,
    lfsr_bank,
    raca,
    snn,
    snn_system,
    uart_bridge,
)
from .params.aer_mesh import AerMeshParams, AerRouterParams
from .params.cim_macro import CimMacroParams
from .params.combined import CombinedParams
from .params.lfsr_bank import LfsrBankParams
from .params.raca import RacaParams
from .params.snn import SnnCoreParams
from .params.snn_system import SnnSystemParams
from .params.uart_bridge import UartBridgeParams


@dataclass(frozen=True)
class Block:
    """A generatable block: its parameter class, its core (the Amaranth component with
    `amaranth.lib.stream` ports) and presets. `build` makes the top level that `cimforge gen`
    emits: by default the core with AXI4-Stream-named ports (`AxisTop`)."""

    name: str
    doc: str
    params: type[Params]
    core: Callable[[Params], wiring.Component]
    presets: dict[str, Params] = field(default_factory=dict)
    top: Callable[[Params], wiring.Component] | None = None

    def configure(self, preset: str | None = None, assignments: list[str] = ()) -> Params:
        if preset is not None and preset not in self.presets:
            raise ParamError(f"{self.name}: unknown preset '{preset}'; presets are "
                             f"{', '.join(self.presets) or 'none'}")
        base = self.presets[preset] if preset is not None else None
        return self.params.parse(base, list(assignments))

    def build(self, params: Params) -> wiring.Component:
        """The top level `cimforge gen` emits for `params`."""
        return self.top(params) if self.top else AxisTop(self.core(params))


def _combined(params: CombinedParams) -> Combined:
    return Combined({block: get(block).core(core_params)
                     for block, core_params in params.members()})


def _uart_bridge(params: UartBridgeParams) -> UartBridge:
    # The bridge drives the core's streams itself.
    core = get(params.design).core(params.core_params())
    return UartBridge(core, params.divisor, timeout=params.timeout,
                      byte_timeout_bits=params.byte_timeout_bits)


BLOCKS: dict[str, Block] = {b.name: b for b in [
    Block("lfsr_bank", "LFSR noise bank: independent Galois LFSR lanes, one word per lane "
          "per cycle", LfsrBankParams, LfsrBank, lfsr_bank.PRESETS),
    Block("cim_macro", "FlexSpIM-style digital CIM macro: bitwise-flexible lanes, weights and "
          "membranes in one array, one row slice per clock", CimMacroParams, CimMacro,
          cim_macro.PRESETS),
    Block("aer_mesh", "Address-event mesh: XY routers, multicast tables at injection, "
          "per-port counters", AerMeshParams, AerMesh, aer_mesh.PRESETS),
    Block("raca", "RACA digital control plane: binary-input crossbar emulation, stochastic "
          "binarized neurons, noisy winner-takes-all, T-sample voting, LFSR noise",
          RacaParams, RacaTop, raca.PRESETS),
    Block("aer_router", "One address-event router (XY routing, input FIFOs, round-robin "
          "outputs) of a mesh, on its own", AerRouterParams,
          lambda p: AerRouter(p, p.x, p.y), aer_mesh.ROUTER_PRESETS),
    Block("combined", "Several cores side by side (ports prefixed with the block name), for one "
          "board", CombinedParams, _combined, combined.PRESETS),
    Block("snn_core", "One core of the FlexSpIM accelerator: a CIM macro and the controller that "
          "runs spiking layers event by event (linear and convolution, pooling, ws or os, "
          "resident or chunked membranes)", SnnCoreParams, SnnCore, snn.PRESETS),
    Block("snn_system", "The FlexSpIM accelerator: rows x cols accelerator cores on the AER "
          "mesh behind one host port; a network runs as a pipeline of stages, layers split "
          "over cores by output channels", SnnSystemParams, SnnSystem, snn_system.PRESETS),
    Block("uart_bridge", "A core behind the UART host bridge (framed requests: write/read its "
          "streams, error counters); what the board tops run", UartBridgeParams, _uart_bridge,
          uart_bridge.PRESETS, top=_uart_bridge),
]}


def get(name: str) -> Block:
    if name not in BLOCKS:
        raise ParamError(f"unknown block '{name}'; blocks are {', '.join(BLOCKS)}")
    return BLOCKS[name]
