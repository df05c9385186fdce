"""The CIM macro's bit array: one write port, two read ports, rows out of registers."""

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ...params.wire import bits


def bank_depths(rows: int) -> list[int]:
    """One bank if `rows` is a power of two, else the largest power of two below it and the
    rest: the bank a row is in is then one address bit."""
    low = 1 << (rows.bit_length() - 1)
    return [rows] if low == rows else [low, rows - low]


class RowArray(wiring.Component):
    """`rows` x `cols` bits. A row written at the end of a cycle is in the array from the next
    one; a read returns the row at `read_addr[i]` two cycles later on `read_data[i]`
    (a write in the cycle of the read is not seen).

    Each bank's block RAM output goes straight into registers (on the ECP5 its clock-to-out is
    most of a 10 ns cycle), and the row comes out of those registers through one 2:1 bank mux,
    which the user registers with its own logic. Left to itself, yosys would split a memory
    deeper than one block RAM column into banks with that mux between the RAM and the first
    register. Banks are in block RAM even when one is small: a bank in LUT RAM has a long
    write setup, and the write data comes from the column datapath.

    On FPGAs each read port is a copy of the array (yosys replicates a 2R1W memory).
    """

    def __init__(self, rows: int, cols: int):
        self.rows, self.cols = rows, cols
        self.depths = bank_depths(rows)
        aw = bits(rows)
        super().__init__({
            "write_addr": In(aw), "write_data": In(cols), "write_en": In(1),
            "read_addr": In(aw).array(2), "read_data": Out(cols).array(2),
        })

    def elaborate(self, platform):
        m = Module()
        split = len(self.depths) > 1
        low = self.depths[0]
        top = (low - 1).bit_length()            # the address bit that picks the bank
        # Only a split array asks for block RAM: a power-of-two one keeps yosys's own choice.
        attrs = {"ram_style": "block"} if split else {}
        bank_rows = []                          # per bank: the registered row of each port
        for index, depth in enumerate(self.depths):
            bank = Memory(shape=self.cols, depth=depth, init=[], attrs=attrs)
            m.submodules[f"bank{index}"] = bank
            bank_aw = bits(depth)
            in_bank = (self.write_addr[top] == index) if split else 1
            write = bank.write_port()
            m.d.comb += [write.addr.eq(self.write_addr[:bank_aw]), write.data.eq(self.write_data),
                         write.en.eq(self.write_en & in_bank)]
            rows = []
            for port in range(2):
                read = bank.read_port()
                row = Signal(self.cols, name=f"bank{index}_row{port}", reset_less=True)
                m.d.comb += read.addr.eq(self.read_addr[port][:bank_aw])
                m.d.sync += row.eq(read.data)
                rows.append(row)
            bank_rows.append(rows)
        for port in range(2):
            if split:
                # The bank bit, delayed to meet its row: a cycle in the RAM, one in registers.
                picked = Signal(2, name=f"bank_pick{port}", reset_less=True)
                m.d.sync += picked.eq(Cat(self.read_addr[port][top], picked[0]))
                m.d.comb += self.read_data[port].eq(
                    Mux(picked[1], bank_rows[1][port], bank_rows[0][port]))
            else:
                m.d.comb += self.read_data[port].eq(bank_rows[0][port])
        return m
