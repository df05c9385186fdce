from dataclasses import dataclass

from . import Params, combined, param
from .presets import CORE_PRESETS

# The designs a bridge can carry, and their presets.
DESIGN_PRESETS = {**CORE_PRESETS, "combined": combined.PRESETS}
BRIDGED = tuple(DESIGN_PRESETS)


@dataclass(frozen=True)
class UartBridgeParams(Params):
    """A core behind the UART host bridge (`cimforge.params.uart_protocol`): what a board runs."""

    block = "uart_bridge"

    design: str = param("lfsr_bank", "the core behind the bridge", choices=BRIDGED)
    preset: str = param("default", "the core's preset (see `cimforge list`)")
    clk_hz: int = param(12_000_000, "clock frequency in Hz", lo=1_000_000, hi=500_000_000)
    baud: int = param(115_200, "UART bit rate", lo=1_200, hi=12_000_000)
    timeout: int = param(1 << 16, "cycles a stream WRITE/READ waits before answering TIMEOUT",
                         lo=16, hi=1 << 30)
    byte_timeout_bits: int = param(64, "idle bit times after which a half-received request "
                                       "is dropped (answered TRUNCATED)", lo=12, hi=1 << 16)

    def check(self):
        presets = DESIGN_PRESETS[self.design]
        if self.preset not in presets:
            raise self.error("preset", f"{self.design} presets are {', '.join(presets)}")
        if self.divisor < 4:
            raise self.error("baud", f"needs at least 4 clock cycles per bit; at "
                                     f"{self.clk_hz} Hz the fastest is {self.clk_hz // 4}")

    @property
    def divisor(self) -> int:
        """Clock cycles per bit (the baud rate is clk_hz / divisor, rounded)."""
        return round(self.clk_hz / self.baud)

    def core_params(self):
        return DESIGN_PRESETS[self.design][self.preset]


PRESETS = {"lfsr": UartBridgeParams(),
           "raca-ice40": UartBridgeParams(design="raca", preset="ice40")}
