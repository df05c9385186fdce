"""Parameters and wire formats of the CIM macro (`cim_macro`); the behaviour is specified in
`cimforge.golden.cim`."""

from dataclasses import dataclass
from enum import IntEnum
from functools import cached_property

from . import Params, param
from .wire import Field, Format, bits

# Column modes (the `mode` field of a column's configuration).
STANDBY, LSB, PROP, MSB = 0, 1, 2, 3

# Columns per group: the column datapath copies its step flags per group, ORs the lanes'
# overflow flags per group, the mode check runs per group before the whole row, and the spike
# serializer searches the fired mask a group at a time.
COLUMN_GROUP = 16

# A saturate-mode ACC waits this many bubble cycles after its walk: three for the lanes'
# overflow flags to be registered, one for their OR per group, one to decide the fix-up. (The
# pipeline's latency, not a setting: the hardware's walk derives its wait from it.)
SATURATE_BUBBLES = 5

OP_WIDTH = 4


class Op(IntEnum):
    NOP = 0
    LOAD = 1          # a = row, data = bits
    STORE = 2         # a = row -> rdata
    ACC = 3           # a = w_row, b = v_row
    FIRE = 4          # a = v_row, b = th_row
    PLANE = 5         # a = plane index, data = one bit per column
    COMMIT = 6        # a = n - 1, b = flags (`COMMIT_FLAGS`)
    COUNTER = 7       # a = counter index -> rdata
    CLEAR = 8         # clear all counters


class Counter(IntEnum):
    ACC_EVENTS = 0    # ACC commands executed
    ACC_SLICES = 1    # row operations by ACC, fix-up walks included
    FIRE_SLICES = 2   # row operations by FIRE (both passes)
    ACTIVE_COLS = 3   # sum over those row operations of active columns
    IDLE_COLS = 4     # ... and of inactive (standby or finished) columns
    LOADS = 5
    STORES = 6
    SPIKES = 7        # spikes delivered on the spike stream
    DROPPED = 8       # bad commands dropped
    BUBBLES = 9       # internal bubble cycles (saturate-mode ACCs)
    BUSY = 10         # cycles issuing, in bubbles or waiting; the model counts without waits
    WAITS = 11        # cycles a command waited for the output streams (environment dependent)


# The counters of cycles that depend on the environment (the golden model counts BUSY without
# waits and has no WAITS); every other counter is deterministic.
TIMING_COUNTERS = (Counter.BUSY, Counter.WAITS)


# The `b` field of a COMMIT.
COMMIT_FLAGS = Format("cim_commit_flags", [
    Field("saturate", 1, "1: saturate membranes at B_V bits; 0: wrap"),
    Field("subtract", 1, "1: a fired membrane keeps V - TH; 0: reset to zero"),
])


@dataclass(frozen=True)
class CimMacroParams(Params):
    """FlexSpIM-style digital CIM macro: one bit array for weights and membranes, lanes of any
    width set per column at run time, one row-slice operation per clock."""

    block = "cim_macro"

    rows: int = param(512, "rows of the bit array", lo=2, hi=16384)
    cols: int = param(256, "columns (bits per row)", lo=1, hi=1024)
    max_slices: int = param(32, "most slices one operand may span (walk length limit)",
                            lo=1, hi=256)
    max_lane: int = param(16, "widest lane in columns (0 or >= cols: the whole row); carries "
                              "and lane broadcasts take ceil(log2(max_lane)) levels",
                          lo=0, hi=1024)
    cmd_depth: int = param(8, "command queue depth; 3 or more for one command per clock (a "
                              "full queue takes no write, even in a cycle it is read)",
                           lo=2, hi=1024)
    rdata_depth: int = param(5, "read-data queue depth (STORE/COUNTER results); 5 for one "
                                "STORE per clock with a ready reader, d < 5 gives d per 5 cycles",
                             lo=2, hi=64)
    fire_queue: int = param(2, "fired-lane masks that may wait for the spike serializer, so "
                               "a FIRE need not wait for the spikes of the one before; "
                               "back-to-back FIREs of n slices take 2n cycles (2.5 at n = 1) "
                               "with 2, max(2n, n + 4) with 1, n + 6 with 0", lo=0, hi=8)
    counter_width: int = param(32, "bits per performance counter", lo=8, hi=64)

    def check(self):
        if self.max_slices > self.rows:
            raise self.error("max_slices", f"must not exceed rows = {self.rows}")

    @property
    def lane_limit(self) -> int:
        """The widest lane a configuration may have, in columns."""
        return min(self.max_lane or self.cols, self.cols)

    @property
    def addr_width(self) -> int:
        return bits(self.rows)

    @property
    def slice_bits(self) -> int:
        """Bits of a per-column slice index (vlast, wlast planes)."""
        return bits(self.max_slices)

    @property
    def col_bits(self) -> int:
        return bits(self.cols)

    @property
    def data_width(self) -> int:
        """Width of the read-data stream: a row, or a counter if that is wider."""
        return max(self.cols, self.counter_width)

    @cached_property
    def command_format(self) -> Format:
        """`s_axis_cmd_tdata`: one command (see `Op` for what `a`, `b` and `data` mean)."""
        # Wide enough for a row, a plane or counter index and the COMMIT flags (tiny arrays
        # have fewer row bits than those need).
        aw = max(self.addr_width, bits(self.planes), bits(len(Counter)), COMMIT_FLAGS.size)
        return Format("cim_command", [
            Field("op", OP_WIDTH, "operation", values=Op),
            Field("a", aw, "first row / plane / counter index, or n - 1 (COMMIT)"),
            Field("b", aw, "second row, or flags (COMMIT)"),
            Field("data", self.cols, "row bits (LOAD, PLANE), column c in bit c"),
        ])

    @cached_property
    def column_format(self) -> Format:
        """One column's layer configuration. PLANE i writes bit i of every column's word."""
        sb = self.slice_bits
        return Format("cim_column_config", [
            Field("mode", 2, "STANDBY 0, LSB 1, PROP 2, MSB 3"),
            Field("pad", 1, "a sign-copy column of the lane's top membrane slice"),
            Field("vlast", sb, "index of the lane's top membrane slice"),
            Field("wlast", sb, "index of the lane's top weight slice"),
        ])

    @property
    def planes(self) -> int:
        """Configuration planes (bits of a column's configuration word)."""
        return self.column_format.size

    @property
    def cmd_width(self) -> int:
        return self.command_format.size

    def formats(self) -> dict[str, Format]:
        """Every wire format of the block, by the port or field that carries it."""
        return {"s_axis_cmd": self.command_format, "plane": self.column_format,
                "commit_flags": COMMIT_FLAGS}


PRESETS = {
    # The paper's macro: 512 rows x 256 columns (16 kB).
    "flexspim": CimMacroParams(rows=512, cols=256),
    # Fits an iCE40 UP5K (98 % of its logic cells in the bench shell). iCE40 has no LUT RAM, so
    # the queues are flip-flops and kept short; operands span up to 8 slices (16-bit membranes
    # in 2-column lanes, 64-bit in 8-column ones), since every slice bit is two configuration
    # planes of flip-flops across the row. 20-bit counters (24 left 2 of the UP5K's 5280 logic
    # cells free).
    # The short queues halve the rates at the port: one command per 2 cycles, one STORE per
    # 2.5, a FIRE waits for the spikes of the one before (n + 6 cycles for n slices).
    "ice40": CimMacroParams(rows=128, cols=32, max_slices=8, max_lane=8, cmd_depth=2,
                            rdata_depth=2, fire_queue=0, counter_width=20),
    # Half as wide: fits an iCEBreaker together with the UART bridge.
    "icebreaker": CimMacroParams(rows=128, cols=16, max_slices=16, max_lane=8, cmd_depth=2,
                                 rdata_depth=2, fire_queue=0, counter_width=16),
    # tinyODIN's layer (256 neurons x 256 inputs, 4-bit weights, 12-bit membranes): 64 lanes of
    # 4 bits per row, 4 neuron groups: 4 x 256 weight rows + 4 x 3 membrane rows + threshold
    # rows. Lanes up to 4 columns, tinyODIN's weight width (8-bit weights take two slices, at
    # the same SOP/cycle), so the column logic fits an ECP5-25F.
    # No fire queue (a FIRE waits for the spikes of the one before: n + 6 cycles) and a
    # read-data queue of 4 (a STORE per 1.25 cycles): with fire queues of 2 and 1 the macro
    # took 24 634 and 24 381 of the 25F's 24 288 logic cells (read-data queue of 3: 24 712);
    # without, 24 099.
    "tinyodin": CimMacroParams(rows=1040, cols=256, max_slices=4, max_lane=4, rdata_depth=4,
                               fire_queue=0),
}
