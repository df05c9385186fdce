"""A simulated serial port on the RTL's UART pins, with the blocking `write`/`read` of a
pyserial port, so `cimforge.fpga.host.Bridge` drives the simulation unchanged (its calls run in
a `cocotb.task.bridge` thread; each port call resumes the simulation until it is done)."""

from collections import deque

import cocotb
from cocotb.task import resume
from cocotb.triggers import ClockCycles, FallingEdge, RisingEdge


class SimSerialPort:
    def __init__(self, dut, divisor: int, timeout_cycles: int):
        self.dut, self.divisor, self.timeout = dut, divisor, timeout_cycles
        self.received = deque()
        dut.rx.value = 1
        self._monitor = cocotb.start_soon(self._receive())
        self.write = resume(self._send)
        self.read = resume(self._read)
        self.idle = resume(self._idle)

    async def _send(self, data: bytes) -> None:
        clk = self.dut.clk
        for byte in data:
            for bit in [0] + [(byte >> i) & 1 for i in range(8)] + [1]:
                self.dut.rx.value = bit
                await ClockCycles(clk, self.divisor)

    async def _idle(self, bits: int) -> None:
        """Keep the line idle for `bits` bit times."""
        await ClockCycles(self.dut.clk, bits * self.divisor)

    async def _receive(self):
        dut, clk = self.dut, self.dut.clk
        while True:
            await FallingEdge(dut.tx)
            await ClockCycles(clk, self.divisor // 2)      # middle of the start bit
            if dut.tx.value != 0:
                continue
            byte = 0
            for i in range(8):
                await ClockCycles(clk, self.divisor)
                byte |= int(dut.tx.value) << i
            await ClockCycles(clk, self.divisor)
            assert dut.tx.value == 1, "UART frame from the device without a stop bit"
            self.received.append(byte)

    async def _read(self, n: int) -> bytes:
        waited = 0
        while len(self.received) < n and waited < self.timeout:
            await RisingEdge(self.dut.clk)
            waited += 1
        return bytes(self.received.popleft() for _ in range(min(n, len(self.received))))
