from dataclasses import dataclass

from . import Params, param

# Port order of a router, also the order of per-port counters and route codes.
PORTS = ("local", "north", "east", "south", "west")
# Counters kept per core, in counter-index order (see docs in cimforge.golden.aer).
CORE_COUNTERS = (
    *(f"forwarded_{p}" for p in PORTS),      # flits that left through port p (local = ejected)
    *(f"blocked_{p}" for p in PORTS),        # cycles a flit waited at output p, not accepted
    "dropped_bad_dest",                       # injected/expanded flits for a core outside mesh
    "dropped_empty",                          # multicast events whose table entry is empty
    "injected",                               # events accepted on the injection port
    "copies",                                 # flits made by multicast expansion
)
COUNTERS_PER_CORE = 16                        # indices 14, 15 are reserved and read as zero
# After the cores' counters (index cores * 16): table writes dropped (bad core, index or entry).
GLOBAL_COUNTERS = ("dropped_table_writes",)


@dataclass(frozen=True)
class AerMeshParams(Params):
    """A rows x cols mesh of address-event routers (XY routing) with multicast expansion at
    each core's injection port."""

    block = "aer_mesh"

    rows: int = param(2, "mesh rows (y coordinates 0..rows-1, y grows northwards)", lo=1, hi=16)
    cols: int = param(2, "mesh columns (x coordinates 0..cols-1, x grows eastwards)",
                      lo=1, hi=16)
    addr_width: int = param(10, "bits of a packet's neuron/axon address", lo=1, hi=24)
    tag_width: int = param(4, "bits of a packet's tag (timestep / layer)", lo=1, hi=16)
    fifo_depth: int = param(4, "flits per router input FIFO", lo=2, hi=256)
    table_neurons: int = param(256, "source neurons per core in the multicast table "
                                    "(head entries)", lo=1, hi=1 << 16)
    table_entries: int = param(256, "destination entries per core in the multicast table",
                               lo=1, hi=1 << 16)
    counter_width: int = param(16, "bits per counter (counters wrap)", lo=8, hi=48)

    def check(self):
        if self.table_neurons > 1 << self.addr_width:
            raise self.error("table_neurons", f"must not exceed 2**addr_width = "
                                              f"{1 << self.addr_width} (the neuron id is the "
                                              f"packet address)")

    # -- derived widths -------------------------------------------------------------------
    @property
    def x_width(self) -> int:
        return max(1, (self.cols - 1).bit_length())

    @property
    def y_width(self) -> int:
        return max(1, (self.rows - 1).bit_length())

    @property
    def flit_width(self) -> int:
        return self.addr_width + self.tag_width + self.x_width + self.y_width

    @property
    def cores(self) -> int:
        return self.rows * self.cols

    @property
    def neuron_bits(self) -> int:
        return max(1, (self.table_neurons - 1).bit_length())

    @property
    def entry_bits(self) -> int:
        return max(1, (self.table_entries - 1).bit_length())

    @property
    def count_bits(self) -> int:
        """Bits of a head entry's fan-out count (0 = empty entry .. table_entries)."""
        return self.table_entries.bit_length()

    @property
    def core_bits(self) -> int:
        return max(1, (self.cores - 1).bit_length())

    @property
    def counter_index_bits(self) -> int:
        return (self.cores * COUNTERS_PER_CORE + len(GLOBAL_COUNTERS) - 1).bit_length()


@dataclass(frozen=True)
class AerRouterParams(AerMeshParams):
    """One router of a rows x cols mesh, at (x, y), on its own (for resource and Fmax
    measurements): ports only towards the neighbours that exist."""

    block = "aer_router"

    rows: int = param(3, "rows of the mesh the router sits in", lo=1, hi=16)
    cols: int = param(3, "columns of the mesh the router sits in", lo=1, hi=16)
    x: int = param(1, "the router's column", lo=0, hi=15)
    y: int = param(1, "the router's row", lo=0, hi=15)

    def check(self):
        super().check()
        if self.x >= self.cols:
            raise self.error("x", f"must be below cols = {self.cols}")
        if self.y >= self.rows:
            raise self.error("y", f"must be below rows = {self.rows}")
