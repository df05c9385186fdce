"""A generated top's AXI4-Stream ports through standard verification IP: cocotbext-axi's
`AxiStreamSource` and `AxiStreamSink`, words as integers, random pause generators (idle
cycles on sources, backpressure on sinks). `verif/tb_axis_vip.py` runs every block's top
this way; the block testbenches keep their own drivers (`verif/streams.py`), which stamp
every transfer with its cycle.

A source fills the padding above the payload (`tdata` is whole bytes) with random bits, which
the top must ignore; a sink checks that the padding of every word it takes is zero."""

import logging
import random

from cocotb.triggers import ClockCycles, with_timeout
from cocotbext.axi import AxiStreamBus, AxiStreamFrame, AxiStreamSink, AxiStreamSource


def pauses(rng: random.Random, probability: float):
    """A pause generator: paused in each cycle with `probability`."""
    while True:
        yield rng.random() < probability


class Port:
    """One port group `prefix` (`s_axis_<name>` into the DUT, `m_axis_<name>` out of it) of
    payload width `width` (its `tdata` is that many bits rounded up to whole bytes)."""

    def __init__(self, dut, prefix: str, width: int, rng: random.Random, pause: float = 0.3):
        self.dut, self.prefix, self.width, self.rng = dut, prefix, width, rng
        bus = AxiStreamBus.from_prefix(dut, prefix)
        self.bytes = len(bus.tdata) // 8
        assert self.bytes * 8 == len(bus.tdata), f"{prefix}_tdata is not whole bytes"
        self.words, self.frames = [], []      # words received but not taken; frame sizes
        vip = AxiStreamSource if prefix.startswith("s_") else AxiStreamSink
        self.vip = vip(bus, dut.clk)
        self.vip.log.setLevel(logging.WARNING)
        self.pause(pause)

    def pause(self, probability: float):
        self.vip.set_pause_generator(pauses(self.rng, probability))

    async def send(self, words, timeout_us: float = 20_000):
        """Sends `words` (random bits in the padding) and waits until the DUT took them all."""
        pad = self.bytes * 8 - self.width
        for word in words:
            junk = self.rng.getrandbits(pad) << self.width if pad else 0
            await self.vip.send(AxiStreamFrame((int(word) | junk).to_bytes(self.bytes,
                                                                             "little")))
        await with_timeout(self.vip.wait(), timeout_us, "us")

    async def take(self, count: int, timeout_us: float = 20_000) -> list[int]:
        """The next `count` words (a frame is one word, or with `tlast` the words up to it)."""
        while len(self.words) < count:
            frame = await with_timeout(self.vip.recv(), timeout_us, "us")
            data = bytes(frame.tdata)
            assert data and len(data) % self.bytes == 0, f"{self.prefix}: frame of {len(data)} " \
                                                         f"bytes"
            for k in range(0, len(data), self.bytes):
                word = int.from_bytes(data[k:k + self.bytes], "little")
                assert word >> self.width == 0, f"{self.prefix}: padding of {word:#x} is not zero"
                self.words.append(word)
            self.frames.append(len(data) // self.bytes)
        taken, self.words = self.words[:count], self.words[count:]
        return taken

    async def nothing_more(self, cycles: int = 50):
        """After `cycles` more cycles, nothing has come that was not taken."""
        await ClockCycles(self.dut.clk, cycles)
        assert self.vip.empty() and not self.words, f"{self.prefix}: more than expected"
