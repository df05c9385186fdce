"""Reusable cocotb drivers and monitors for valid/ready (AXI4-Stream style) interfaces.

Both sample the bus in the ReadOnly phase of each cycle, so a transfer is recorded in the cycle
whose rising edge completes it, and both stamp it with the sim time of that cycle (equal
stamps mean the same cycle). Stimulus is random: sources idle between items and sinks
withdraw ready at random, with probabilities set per instance (and changeable mid-run).

Every sink checks the stream rules on what it receives (`StreamProtocolError`): once valid is
high it stays high until a transfer, with `tdata` unchanged, and a transfer's data is never X
or Z.
"""

import random
from collections import deque

import cocotb
from cocotb.simtime import get_sim_time
from cocotb.triggers import ReadOnly, RisingEdge

from .stream_rules import ProtocolChecker, StreamProtocolError


def observe(valid, ready: bool, data, checker: ProtocolChecker | None, when: str) -> int | None:
    """One cycle of a monitored stream, sampled in the ReadOnly phase: its payload if `valid`
    is high (None if not), after checking that the payload is not X or Z and, with a
    `checker`, the stream rules."""
    payload = None
    if valid.value == 1:
        if not data.value.is_resolvable:
            raise StreamProtocolError(f"{data._name} = {data.value} (X or Z) while valid at "
                                      f"{when}")
        payload = int(data.value)
    if checker is not None:
        checker.cycle(payload is not None, ready, payload, when)
    return payload


def bus(dut, prefix: str):
    """(tvalid, tready, tdata) handles of the AXI4-Stream-named port group `prefix`."""
    return tuple(getattr(dut, f"{prefix}_{s}") for s in ("tvalid", "tready", "tdata"))


class StreamSource:
    """Drives items from a queue onto a stream; holds each item until it is accepted."""

    def __init__(self, clk, prefix_handles, *, rng: random.Random, idle: float = 0.3):
        self.clk = clk
        self.valid, self.ready, self.data = prefix_handles
        self.rng = rng
        self.idle = idle
        self.queue = deque()
        self.sent = []                    # (time, item) per completed transfer
        self.valid.value = 0
        self._task = cocotb.start_soon(self._drive())

    def send(self, item: int) -> None:
        self.queue.append(item)

    @property
    def busy(self) -> bool:
        return bool(self.queue) or self._current is not None

    _current = None

    async def _drive(self):
        while True:
            await RisingEdge(self.clk)
            if self._current is None and self.queue and self.rng.random() >= self.idle:
                self._current = self.queue.popleft()
            self.valid.value = int(self._current is not None)
            if self._current is not None:
                self.data.value = self._current
            await ReadOnly()
            if self._current is not None and self.ready.value == 1:
                self.sent.append((get_sim_time("ns"), self._current))
                self._current = None

    async def drain(self):
        while self.busy:
            await RisingEdge(self.clk)

    def pause(self):
        """Stop driving (valid low) until `resume`: saves simulation time during long waits.
        Only when nothing is queued or in flight."""
        assert not self.busy, "pause() with items still to send"
        self._task.cancel()
        self.valid.value = 0

    def resume(self):
        self._task = cocotb.start_soon(self._drive())


class StreamSink:
    """Accepts a stream with random backpressure, records every transfer and checks the stream
    rules (`ProtocolChecker`)."""

    def __init__(self, clk, prefix_handles, *, rng: random.Random, stall: float = 0.3,
                 rules: bool = True):
        """`rules=False` only where the block's contract lets a stalled word change (say
        where, and why)."""
        self.clk = clk
        self.rules = rules
        self.valid, self.ready, self.data = prefix_handles
        self.rng = rng
        self.stall = stall
        self.received = []                # (time, int payload)
        self.checker = ProtocolChecker(self.data._name)
        self.ready.value = 0
        self._task = cocotb.start_soon(self._drive())

    async def _drive(self):
        while True:
            await RisingEdge(self.clk)
            self.ready.value = int(self.rng.random() >= self.stall)
            await ReadOnly()
            ready = self.ready.value == 1
            data = observe(self.valid, ready, self.data, self.checker if self.rules else None,
                           f"{get_sim_time('ns')} ns")
            if data is not None and ready:
                self.received.append((get_sim_time("ns"), data))

    async def wait_for(self, count: int):
        while len(self.received) < count:
            await RisingEdge(self.clk)

    def stop(self):
        self._task.cancel()

    def pause(self):
        """Stop accepting (ready low) until `resume`."""
        self._task.cancel()
        self.ready.value = 0

    def resume(self):
        self._task = cocotb.start_soon(self._drive())
