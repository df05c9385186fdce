from dataclasses import dataclass

from . import Params, param


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
    cmd_depth: int = param(8, "command queue depth", lo=2, hi=1024)
    rdata_depth: int = param(4, "read-data queue depth (STORE/COUNTER results)", lo=2, hi=64)
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
        return max(1, (self.rows - 1).bit_length())

    @property
    def slice_bits(self) -> int:
        """Bits of a per-column slice index (vlast, wlast planes)."""
        return max(1, (self.max_slices - 1).bit_length())

    @property
    def col_bits(self) -> int:
        return max(1, (self.cols - 1).bit_length())

    @property
    def data_width(self) -> int:
        """Width of the read-data stream: a row, or a counter if that is wider."""
        return max(self.cols, self.counter_width)

    @property
    def cmd_width(self) -> int:
        return 4 + 2 * self.addr_width + self.cols
