"""What `cimforge gen` costs for a configuration, estimated before it starts, so a large one
is announced and one that cannot fit this machine's memory is refused instead of running for
minutes and failing.

The model is fitted to measurements of `cimforge gen` (elaboration, Verilog, the Verilator
lint for the waivers) on this project's machine class (2 cores, 24 GB; `docs/getting-started.md`,
"Large configurations"): the CIM macro grows with its columns (per-column lane logic; rows are
block RAM and cost almost nothing), the mesh with its routers, an accelerator core as its macro,
a system as its cores plus its mesh. Within a factor of about 1.5.
"""

from dataclasses import dataclass

from .params import Params

BASE_GB = 0.12                 # Python, Amaranth and yosys loaded, nothing elaborated
WARN_S = 60                    # announce a generation expected to take longer


@dataclass(frozen=True)
class Cost:
    seconds: float
    gigabytes: float           # peak resident memory

    def __add__(self, other: "Cost") -> "Cost":
        """Both parts in one design: the times add, the memory above the base adds."""
        return Cost(self.seconds + other.seconds, self.gigabytes + other.gigabytes - BASE_GB)


def _macro(cols: int) -> Cost:
    # cols 32/128/256/512: 5/30/73/~250 s, 0.15/0.38/0.92/2.8 GB.
    scale = cols / 128
    return Cost(5 + 25 * scale ** 1.6, BASE_GB + 0.26 * scale ** 1.65)


def _mesh(routers: int) -> Cost:
    # 16/64/256 routers: 6/33/120 s, 0.15/0.45/1.2 GB.
    return Cost(2 + 0.46 * routers, BASE_GB + 0.0045 * routers)


def estimate(params: Params) -> Cost:
    block = params.block
    if block == "cim_macro":
        return _macro(params.cols)
    if block == "snn_core":
        return _macro(params.cols) + Cost(1, BASE_GB)
    if block in ("aer_mesh", "aer_router"):
        return _mesh(params.rows * params.cols if block == "aer_mesh" else 1)
    if block == "snn_system":
        # Each core with its link and host-port share (2x2 `small` cores: 29 s, 0.43 GB).
        cores = params.rows * params.cols
        core = estimate(params.core_params) + Cost(1, BASE_GB + 0.05)
        return sum([core] * cores, _mesh(cores))
    if block == "combined":
        parts = [estimate(p) for _, p in params.members()]
        return sum(parts[1:], parts[0])
    if block == "uart_bridge":
        return estimate(params.core_params()) + Cost(2, BASE_GB)
    return Cost(5, 0.35)                     # the LFSR bank, RACA: seconds at any size


def available_gigabytes() -> float | None:
    """Memory this machine can give a new process now (Linux `MemAvailable`), if known."""
    try:
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 2 ** 20
    except OSError:
        pass
    return None


def check(params: Params, available: float | None) -> str | None:
    """None, or a line announcing a long generation. Raises `CostError` when the estimate is
    above `available` gigabytes."""
    cost = estimate(params)
    if available is not None and cost.gigabytes > available:
        raise CostError(
            f"{params.block}: generating this configuration needs about "
            f"{cost.gigabytes:.0f} GB and {cost.seconds / 60:.0f} minutes; this machine has "
            f"{available:.0f} GB free. Make it smaller (the macro's cost grows with its "
            f"columns, a mesh's with its cores), or pass --force to try anyway")
    if cost.seconds > WARN_S:
        return (f"{params.block}: this configuration takes about {cost.seconds / 60:.0f} "
                f"minute{'s' if cost.seconds >= 90 else ''} and {cost.gigabytes:.1f} GB to "
                f"generate")
    return None


class CostError(ValueError):
    pass
