"""Host-side cocotb drivers for the RACA core: commands and answers, the external noise port."""


import cocotb
from cimforge.golden.lfsr import LfsrBankModel
from cimforge.golden.raca import Op, Reg, command
from cimforge.hdl.raca.top import noise_bank_params
from cimforge.verif import testbench
from cimforge.verif.streams import StreamSink, StreamSource, bus
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge

BUSY, DONE, REFUSED = 1, 2, 4


class NoiseSource:
    """The external noise port's driver: the built-in bank's words (so the golden model's
    default source applies), restarted at every seed transfer, with random gaps."""

    def __init__(self, dut, params, rng, gap):
        self.dut, self.params, self.rng, self.gap = dut, params, rng, gap
        self.bank = LfsrBankModel(noise_bank_params(params))
        self.words, self.next = None, 0
        self.need = 1
        self.gaps = 0
        dut.s_axis_noise_tvalid.value = 0
        dut.m_axis_seed_tready.value = 1
        self._task = cocotb.start_soon(self._drive())

    async def _drive(self):
        dut, width = self.dut, self.params.noise_bits
        while True:
            await RisingEdge(dut.clk)
            offer = self.words is not None and self.next < len(self.words) \
                and self.rng.random() >= self.gap
            dut.s_axis_noise_tvalid.value = int(offer)
            if offer:
                dut.s_axis_noise_tdata.value = sum(int(w) << (k * width)
                                                   for k, w in enumerate(self.words[self.next]))
            await ReadOnly()
            if offer and dut.s_axis_noise_tready.value == 1:
                self.next += 1
            if dut.m_axis_seed_tvalid.value == 1:
                self.words = self.bank.words(int(dut.m_axis_seed_tdata.value), self.need)
                self.next = 0


class Host:
    """Commands in, answers out, with random gaps and backpressure."""

    def __init__(self, dut, params, rng, gap, stall):
        self.dut, self.params = dut, params
        self.cmd = StreamSource(dut.clk, bus(dut, "s_axis_cmd"), rng=rng, idle=gap)
        self.rdata = StreamSink(dut.clk, bus(dut, "m_axis_rdata"), rng=rng, stall=stall)

    async def send(self, words):
        for word in words:
            self.cmd.send(word)
        await self.cmd.drain()

    async def read(self, words, limit=20000):
        first = len(self.rdata.received)
        await self.send(words)
        for _ in range(limit):
            if len(self.rdata.received) >= first + len(words):
                return [v for _, v in self.rdata.received[first:]]
            await RisingEdge(self.dut.clk)
        raise AssertionError(f"timeout: {len(self.rdata.received) - first} of {len(words)} "
                             f"answers")

    async def reg(self, register):
        return (await self.read([command(self.params, Op.READ_REG, register)]))[0]

    async def wait_done(self, limit, expected=0):
        """Poll STATUS (after `expected` cycles, if the caller knows the inference's length)
        until the core is not busy; return STATUS."""
        if expected > 100:
            # Nothing moves on the host streams meanwhile: stop their per-cycle drivers.
            self.cmd.pause()
            self.rdata.pause()
            await ClockCycles(self.dut.clk, expected)
            self.cmd.resume()
            self.rdata.resume()
        else:
            await ClockCycles(self.dut.clk, max(1, expected))
        for _ in range(limit):
            status = await self.reg(Reg.STATUS)
            if not status & BUSY:
                return status
            await ClockCycles(self.dut.clk, 8)
        raise AssertionError("the inference did not finish")


async def start(dut):
    params, args, rng = await testbench.start(dut, sources=["s_axis_cmd"],
                                              sinks=["m_axis_rdata"])
    host = Host(dut, params, rng, args.get("gap", 0.3), args.get("stall", 0.3))
    noise = NoiseSource(dut, params, rng, args.get("noise_gap", 0.3)) \
        if params.external_noise else None
    return params, args, rng, host, noise
