"""Stage F of the CIM macro: the rows the array read, corrected for the writes it missed."""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

# The pipeline stages between issue and write-back whose writes a read at issue misses.
STAGES = ("r", "f", "b")


class RowForwarding(wiring.Component):
    """Makes the array's one write port and two read ports behave as if every write landed
    the cycle it was issued.

    The array is read at issue (cycle t) and written in stage B, three stages later, so a read
    misses the writes of the three commands ahead of it: the one in stage B (its write lands at
    the end of t), in F (t + 1) and in R (t + 2, while this read is in F). At issue, each read
    address is compared with the rows those three write (`writers`, listed R, F, B); the hits
    are registered down to stage F, where each read row is one mux between registers: the write
    landing now (`write_data`, stage B's), the two before it (kept here), or the array's.

    Parameters: `cols` (row width), `addr_width`.

    Attributes (all sampled or driven at the stage named):
    * `read_addr` (issue): the two rows read this cycle;
    * `writers` (issue): for stages R, F and B, whether the command there writes and its row;
    * `raw` (F): the array's read data for those reads, as registered by the array;
    * `write_data` (B): the row written to the array this cycle;
    * `rows` (B): the two rows, registered, with every earlier write applied.
    """

    def __init__(self, cols: int, addr_width: int):
        self.cols = cols
        writer = data.StructLayout({"en": 1, "row": addr_width})
        super().__init__({
            "read_addr": In(data.ArrayLayout(addr_width, 2)),
            "writers": In(data.ArrayLayout(writer, len(STAGES))),
            "raw": In(data.ArrayLayout(cols, 2)),
            "write_data": In(cols),
            "rows": Out(data.ArrayLayout(cols, 2)),
        })

    def elaborate(self, platform):
        m = Module()
        last_write = Signal(self.cols, reset_less=True)
        older_write = Signal(self.cols, reset_less=True)
        m.d.sync += [last_write.eq(self.write_data), older_write.eq(last_write)]
        for port in range(2):
            hits = []
            for writer, stage in zip(self.writers, STAGES):
                at_issue = Signal(name=f"hit{port}_{stage}_at_issue")
                hit = Signal(name=f"hit{port}_{stage}")
                m.d.sync += [at_issue.eq(writer.en & (writer.row == self.read_addr[port])),
                             hit.eq(at_issue)]
                hits.append(hit)
            now, last, older = hits
            row = Mux(now, self.write_data, Mux(last, last_write, Mux(older, older_write,
                                                                      self.raw[port])))
            # Registered without a reset, like every row-wide register of the macro.
            registered = Signal(self.cols, name=f"row{port}", reset_less=True)
            m.d.sync += registered.eq(row)
            m.d.comb += self.rows[port].eq(registered)
        return m
