"""cocotb bench (run by `cimforge bench`, not by the tests): throughput and latency of the
address-event mesh's Verilog against offered load, for one synthetic traffic pattern.

Launcher arguments (CIMFORGE_ARGS): `pattern` (uniform, transpose, hotspot), `loads` (offered
flits per core per cycle), `warmup`, `cycles` (measurement window).
Measures (`testbench.measure`) `loads`.
"""

from collections import defaultdict, deque

import cocotb
from cimforge.golden import aer
from cimforge.verif.aer.tb_mesh import MeshPorts, start
from cimforge.verif.aer.traffic import pattern_destination, source_bits
from cimforge.verif.testbench import measure
from cocotb.triggers import ClockCycles, RisingEdge


@cocotb.test()
async def load_curve(dut):
    """Bench: throughput and latency vs offered load for one traffic pattern (Bernoulli
    unicast injection per core)."""
    p, args, rng = await start(dut)
    ports = MeshPorts(dut, p, rng)
    pattern = args["pattern"]
    hotspot = (p.rows // 2) * p.cols + p.cols // 2
    warmup, window = args.get("warmup", 300), args.get("cycles", 1500)
    results = []
    shift = p.addr_width - source_bits(p)
    for load in args["loads"]:
        ports.injected = [[] for _ in ports.cores]
        ports.ejected = [[] for _ in ports.cores]
        ports.idle = 0.0
        offered = [0]

        def generate(ports, load=load):
            # Bernoulli source per core, stamped with its creation cycle (source queueing
            # counts towards latency).
            if ports.cycle >= start_cycle + warmup + window:
                return
            for src in range(p.cores):
                if rng.random() < load:
                    dst = pattern_destination(p, pattern, src, rng, hotspot)
                    if dst is None:
                        continue
                    word = aer.unicast(p, dst % p.cols, dst // p.cols, src << shift, 0)
                    ports.queues[src].append((word, ports.cycle))
                    if ports.cycle >= start_cycle + warmup:
                        offered[0] += 1

        start_cycle = ports.cycle
        ports.hook = generate
        await ClockCycles(dut.clk, warmup + window)
        ports.hook = None
        # Latency: creation to ejection, per flit, matched per flow (flows are in order).
        while ports.pending:
            await RisingEdge(dut.clk)
        await ClockCycles(dut.clk, 8 * (p.rows + p.cols) + 50)
        ejected_by_flow = defaultdict(deque)
        for dst, got in enumerate(ports.ejected):
            for cycle, word in got:
                ejected_by_flow[dst, aer.unpack_flit(p, word)["addr"] >> shift].append(cycle)
        latencies = []
        window_out = 0
        for src, q in enumerate(ports.injected):
            for cycle, word, stamp in q:
                f = aer.unpack_flit(p, word)
                out = ejected_by_flow[f["x"] + f["y"] * p.cols, src].popleft()
                if start_cycle + warmup <= stamp < start_cycle + warmup + window:
                    latencies.append(out - stamp)
                if start_cycle + warmup <= out < start_cycle + warmup + window:
                    window_out += 1
        results.append({"offered": offered[0] / (p.cores * window),
                        "throughput": window_out / (p.cores * window),
                        "latency_mean": sum(latencies) / max(1, len(latencies)),
                        "latency_p99": sorted(latencies)[int(0.99 * (len(latencies) - 1))]
                        if latencies else 0,
                        "load": load})
        dut._log.info(f"{pattern} load {load}: {results[-1]}")
    measure("loads", results)
