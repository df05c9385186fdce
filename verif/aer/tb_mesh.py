"""cocotb testbench: the address-event mesh's Verilog against `cimforge.golden.aer`.

Launcher arguments (CIMFORGE_ARGS): `events` (per core and load phase), `phases` (list of
[injection idle probability, ejection stall probability]), `pairs` (zero-load latency pairs,
0 = all).

One coroutine drives every port each cycle (cheaper than one per port on a 4x4 mesh).
"""

from collections import deque

import cocotb
from cimforge.golden import aer
from cimforge.params.aer_mesh import CORE_COUNTERS, COUNTERS_PER_CORE, GLOBAL_COUNTERS
from cimforge.verif import testbench
from cimforge.verif.aer.traffic import random_event, random_tables, source_bits
from cimforge.verif.stream_rules import ProtocolChecker
from cimforge.verif.streams import observe
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge


class MeshPorts:
    """Drives all injection ports from per-core queues (random idle cycles) and all ejection
    ports with random backpressure; records every transfer with its cycle number."""

    def __init__(self, dut, p, rng):
        self.dut, self.p, self.rng = dut, p, rng
        self.cores = [(c % p.cols, c // p.cols) for c in range(p.cores)]
        self.inject = [self._bus(f"s_axis_inject_{x}_{y}") for x, y in self.cores]
        self.eject = [self._bus(f"m_axis_eject_{x}_{y}") for x, y in self.cores]
        self.queues = [deque() for _ in self.cores]     # (word, stamp) to inject
        self.idle = 0.0
        self.stall = 0.0
        self.cycle = 0
        self.injected = [[] for _ in self.cores]        # (cycle, word, stamp)
        self.ejected = [[] for _ in self.cores]         # (cycle, word)
        self.blocked = [0] * p.cores                    # eject valid & not ready cycles
        self.hook = None                                # called every cycle before driving
        self.checkers = [ProtocolChecker(f"eject {xy}") for xy in self.cores]
        self._current = [None] * p.cores
        for valid, _, _ in self.inject:
            valid.value = 0
        for _, ready, _ in self.eject:
            ready.value = 0
        self.task = cocotb.start_soon(self._run())

    def _bus(self, prefix):
        return tuple(getattr(self.dut, f"{prefix}_{s}") for s in ("tvalid", "tready", "tdata"))

    @property
    def pending(self) -> int:
        return sum(map(len, self.queues)) + sum(c is not None for c in self._current)

    async def _run(self):
        rng = self.rng
        while True:
            await RisingEdge(self.dut.clk)
            self.cycle += 1
            if self.hook:
                self.hook(self)
            for core, (valid, _, data) in enumerate(self.inject):
                if self._current[core] is None and self.queues[core] and rng.random() >= self.idle:
                    self._current[core] = self.queues[core].popleft()
                    data.value = self._current[core][0]
                    valid.value = 1
                elif self._current[core] is None:
                    valid.value = 0
            readies = []
            for _, ready, _ in self.eject:
                r = int(rng.random() >= self.stall)
                ready.value = r
                readies.append(r)
            await ReadOnly()
            for core, (valid, ready, _) in enumerate(self.inject):
                if self._current[core] is not None and ready.value == 1:
                    word, stamp = self._current[core]
                    self.injected[core].append((self.cycle, word, stamp))
                    self._current[core] = None
            for core, (valid, _, data) in enumerate(self.eject):
                word = observe(valid, bool(readies[core]), data, self.checkers[core],
                               f"cycle {self.cycle}")
                if word is not None:
                    if readies[core]:
                        self.ejected[core].append((self.cycle, word))
                    else:
                        self.blocked[core] += 1


async def start(dut):
    return await testbench.start(dut, sources=["s_axis_table", "s_axis_ctl"],
                                 sinks=["m_axis_stat"])


async def load_tables(dut, writes):
    """The table port is always ready: one write per cycle."""
    for word in writes:
        dut.s_axis_table_tdata.value = word
        dut.s_axis_table_tvalid.value = 1
        await RisingEdge(dut.clk)
    dut.s_axis_table_tvalid.value = 0
    await RisingEdge(dut.clk)


async def read_counter(dut, index: int, clear: bool, p) -> int:
    """One counter command; its answer is on `stat` in the cycle after the command is taken."""
    dut.s_axis_ctl_tdata.value = aer.ctl(p, index, clear)
    dut.s_axis_ctl_tvalid.value = 1
    dut.m_axis_stat_tready.value = 1
    while True:
        await ReadOnly()
        taken = dut.s_axis_ctl_tready.value == 1
        await RisingEdge(dut.clk)
        if taken:
            break
    dut.s_axis_ctl_tvalid.value = 0
    await ReadOnly()
    assert dut.m_axis_stat_tvalid.value == 1, "counter read gave no answer the next cycle"
    value = int(dut.m_axis_stat_tdata.value)
    await RisingEdge(dut.clk)
    return value


async def drain(dut, ports, expected_total: int, bound: int):
    """Ejection fully ready; wait until every expected flit is out and the mesh is idle, at
    most `bound` cycles after the last injection; then some more cycles to catch extras."""
    ports.stall = 0.0
    while ports.pending:
        await RisingEdge(dut.clk)
    start = ports.cycle
    while sum(map(len, ports.ejected)) < expected_total or dut.idle.value != 1:
        await RisingEdge(dut.clk)
        await ReadOnly()
        if ports.cycle - start > bound:
            got = sum(map(len, ports.ejected))
            raise AssertionError(f"not drained {bound} cycles after the last injection: "
                                 f"{got}/{expected_total} flits out, idle={dut.idle.value}")
    drained = ports.cycle - start
    await ClockCycles(dut.clk, 20)
    return drained


def check_deliveries(p, model, ports):
    """Every flit exactly once at the right port, each flow in order."""
    shift = p.addr_width - source_bits(p)
    for dst, received in enumerate(ports.ejected):
        flows = {src: deque(words) for src, words in model.delivered[dst].items()}
        for n, (cycle, word) in enumerate(received):
            f = aer.unpack_flit(p, word)
            assert f["x"] + f["y"] * p.cols == dst, \
                f"eject {ports.cores[dst]}: flit {f} is for another core (cycle {cycle})"
            src = f["addr"] >> shift
            flow = flows.get(src)
            assert flow, f"eject {ports.cores[dst]}: unexpected flit {f} from core {src} " \
                         f"(cycle {cycle}, #{n})"
            want = flow.popleft()
            assert word == want, (f"eject {ports.cores[dst]}: flow from core {src} out of "
                                  f"order or corrupted: got {f}, expected "
                                  f"{aer.unpack_flit(p, want)} (cycle {cycle})")
        missing = {s: len(q) for s, q in flows.items() if q}
        assert not missing, f"eject {ports.cores[dst]}: flits missing from cores {missing}"


async def check_counters(dut, p, model, ports):
    """Read (and clear) every counter: all but the inner blocked_* are exact; a second read
    gives zero."""
    for core in range(p.cores):
        for k in range(COUNTERS_PER_CORE):
            index = core * COUNTERS_PER_CORE + k
            got = await read_counter(dut, index, True, p)
            name = CORE_COUNTERS[k] if k < len(CORE_COUNTERS) else "reserved"
            if name == "blocked_local":
                want = ports.blocked[core] % (1 << p.counter_width)
            elif name.startswith("blocked_"):
                continue
            else:
                want = model.counter(index)
            assert got == want, f"core {ports.cores[core]} counter {name}: RTL {got}, " \
                                f"expected {want}"
    for k, name in enumerate(GLOBAL_COUNTERS):
        index = p.cores * COUNTERS_PER_CORE + k
        got = await read_counter(dut, index, True, p)
        assert got == model.counter(index), f"{name}: RTL {got}, expected {model.counter(index)}"
    for index in range(p.cores * COUNTERS_PER_CORE + len(GLOBAL_COUNTERS) + 1):
        got = await read_counter(dut, index, False, p)
        assert got == 0, f"counter {index} is {got} after read-and-clear on an idle mesh"


@cocotb.test()
async def random_traffic(dut):
    """Random unicast/multicast traffic (bad destinations and empty entries included) at loads
    from light to saturation under random backpressure: exact deliveries, order per flow,
    drops and counters; the mesh drains within the stated bound."""
    p, args, rng = await start(dut)
    model = aer.AerMeshModel(p)
    writes = random_tables(p, rng)
    for word in writes:
        model.write_table(word)
    await load_tables(dut, writes)

    ports = MeshPorts(dut, p, rng)
    events = args.get("events", 40)
    phases = args.get("phases", [[0.9, 0.3], [0.5, 0.5], [0.2, 0.1], [0.0, 0.0]])
    expected = 0
    for idle, stall in phases:
        for core in range(p.cores):
            for _ in range(events):
                word = random_event(p, core, rng)
                expected += len(model.inject(core, word))
                ports.queues[core].append((word, 0))
        ports.idle, ports.stall = idle, stall
        while ports.pending:
            await RisingEdge(dut.clk)
    # Drain bound: every flit still inside or queued for expansion, plus the longest path twice.
    in_flight = expected - sum(map(len, ports.ejected))
    bound = in_flight + 2 * (2 * (p.rows + p.cols) + 4)
    drained = await drain(dut, ports, expected, bound)
    dut._log.info(f"{expected} flits delivered; drained in {drained} cycles (bound {bound})")
    check_deliveries(p, model, ports)
    await check_counters(dut, p, model, ports)


@cocotb.test()
async def zero_load_latency(dut):
    """One flit at a time on an empty mesh: injection handshake to ejection handshake takes
    2 cycles per router (hops + 1 routers) plus 1 for the injection register."""
    p, args, rng = await start(dut)
    ports = MeshPorts(dut, p, rng)
    pairs = [(s, d) for s in range(p.cores) for d in range(p.cores)]
    if args.get("pairs", 0):
        pairs = rng.sample(pairs, min(len(pairs), args["pairs"]))
    for src, dst in pairs:
        dx, dy = dst % p.cols, dst // p.cols
        word = aer.unicast(p, dx, dy, src << (p.addr_width - source_bits(p)), 0)
        ports.queues[src].append((word, 0))
        while not ports.ejected[dst] or ports.ejected[dst][-1][1] != word or \
                ports.injected[src][-1][1] != word:
            await RisingEdge(dut.clk)
        hops = abs(dx - src % p.cols) + abs(dy - src // p.cols)
        latency = ports.ejected[dst][-1][0] - ports.injected[src][-1][0]
        assert latency == 2 * (hops + 1) + 1, \
            f"{ports.cores[src]} -> {ports.cores[dst]} ({hops} hops): latency {latency} cycles"
        await ClockCycles(dut.clk, 2)
