"""Parameters, counters and wire formats of the address-event mesh (`aer_mesh`, `aer_router`);
the behaviour is specified in `cimforge.golden.aer`."""

from dataclasses import dataclass
from functools import cached_property

from . import Params, param
from .wire import Field, Format, bits

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
    fifo_depth: int = param(8, "flits per router queue (a router keeps one queue for each "
                               "input and output pair XY routing allows)", lo=2, hi=256)
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
        return bits(self.cols)

    @property
    def y_width(self) -> int:
        return bits(self.rows)

    @property
    def flit_width(self) -> int:
        return self.flit_format.size

    @property
    def cores(self) -> int:
        return self.rows * self.cols

    @property
    def neuron_bits(self) -> int:
        return bits(self.table_neurons)

    @property
    def entry_bits(self) -> int:
        return bits(self.table_entries)

    @property
    def count_bits(self) -> int:
        """Bits of a head entry's fan-out count (0 = empty entry .. table_entries)."""
        return self.table_entries.bit_length()

    @property
    def core_bits(self) -> int:
        return bits(self.cores)

    @property
    def counter_index_bits(self) -> int:
        return (self.cores * COUNTERS_PER_CORE + len(GLOBAL_COUNTERS) - 1).bit_length()

    # -- wire formats ---------------------------------------------------------------------
    @cached_property
    def flit_format(self) -> Format:
        """A one-flit packet (mesh links, ejection ports)."""
        return Format("aer_flit", [
            Field("addr", self.addr_width, "axon/neuron address"),
            Field("tag", self.tag_width, "tag (timestep / layer)"),
            Field("x", self.x_width, "destination core's column"),
            Field("y", self.y_width, "destination core's row"),
        ])

    @cached_property
    def inject_format(self) -> Format:
        """An injected event. With `multicast`, `flit.addr` is the source neuron whose table
        entry lists the destinations, and the flit's x, y are ignored."""
        return Format("aer_inject", [
            Field("flit", self.flit_format),
            Field("multicast", 1, "expand through the core's multicast table"),
        ])

    @cached_property
    def head_format(self) -> Format:
        """A multicast table head entry (one per source neuron)."""
        return Format("aer_head", [
            Field("first", self.entry_bits, "first destination entry"),
            Field("count", self.count_bits, "destinations (0: none)"),
        ])

    @cached_property
    def dest_format(self) -> Format:
        """A multicast table destination entry."""
        return Format("aer_dest", [
            Field("addr", self.addr_width, "axon address at the destination"),
            Field("x", self.x_width, "destination core's column"),
            Field("y", self.y_width, "destination core's row"),
        ])

    @cached_property
    def table_write_format(self) -> Format:
        """A table-load word: a head or destination entry for one core's table."""
        return Format("aer_table_write", [
            Field("data", max(self.head_format.size, self.dest_format.size),
                  "the entry (head or dest format)"),
            Field("index", max(self.neuron_bits, self.entry_bits),
                  "source neuron (head) or entry (dest)"),
            Field("dest", 1, "0: head table, 1: destination table"),
            Field("core", self.core_bits, "core index y * cols + x"),
        ])

    @cached_property
    def ctl_format(self) -> Format:
        """A counter command: read counter `index` (and zero it with `clear`)."""
        return Format("aer_ctl", [
            Field("index", self.counter_index_bits, "counter index (core * 16 + k, ...)"),
            Field("clear", 1, "zero the counter after reading it"),
        ])

    def formats(self) -> dict[str, Format]:
        return {"s_axis_inject": self.inject_format, "m_axis_eject": self.flit_format,
                "s_axis_table": self.table_write_format, "s_axis_ctl": self.ctl_format,
                "table.head": self.head_format, "table.dest": self.dest_format}


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


PRESETS = {
    "2x2": AerMeshParams(rows=2, cols=2),
    "4x4": AerMeshParams(rows=4, cols=4),
    # The iCE40 has no distributed RAM: its router queues are flip-flops, so 2 flits each.
    "2x2-ice40": AerMeshParams(rows=2, cols=2, fifo_depth=2),
    # Two cores with 64-entry tables: fits an iCEBreaker with the UART bridge.
    "2x1": AerMeshParams(rows=1, cols=2, table_neurons=64, table_entries=64, fifo_depth=2),
}

ROUTER_PRESETS = {
    "inner": AerRouterParams(),
    "inner-ice40": AerRouterParams(fifo_depth=2),
}
