"""cocotb testbench behind `cimforge run --mesh`: the accelerator system's Verilog
(`snn_system`) driven through its host port by a host program (`cimforge.system_host`) read
from the JSON file named in the launcher's `program` argument: `load` (words), `steps` (words
per timestep), `ends` (end markers per timestep) and `reads` (the readout's words). Streams run
without gaps or backpressure. It records (`testbench.measure("run")`) the output spikes per
timestep (sorted), the cycles (summed over timesteps, each from its first host word to its
last end marker) and every output word of the readout."""

import json

import cocotb
from cimforge.system_host import parse_out, spike_of
from cimforge.verif import testbench
from cimforge.verif.streams import StreamSink, StreamSource, bus
from cocotb.triggers import RisingEdge, with_timeout


@cocotb.test()
async def run_program(dut):
    system, args, rng = await testbench.start(dut, sources=["s_axis_host"],
                                              sinks=["m_axis_out"])
    program = json.loads(open(args["program"]).read())
    host = StreamSource(dut.clk, bus(dut, "s_axis_host"), rng=rng, idle=0)
    out = StreamSink(dut.clk, bus(dut, "m_axis_out"), rng=rng, stall=0)
    for word in program["load"]:
        host.send(word)
    await with_timeout(host.drain(), 100, "ms")
    cycles, got = 0, []
    for step in program["steps"]:
        for word in step:
            host.send(word)
        current, ends, seen = [], 0, len(out.received)
        while ends < program["ends"]:
            await RisingEdge(dut.clk)
            cycles += 1
            if cycles > 50_000_000:
                raise AssertionError(f"timestep {len(got)} did not end")
            for _, word in out.received[seen:]:
                end, address = spike_of(system, parse_out(system, word))
                ends += end
                if not end:
                    current.append(address)
            seen = len(out.received)
        got.append(sorted(current))
    start, reads = len(out.received), program["reads"]
    for word in reads:
        host.send(word)
    await with_timeout(out.wait_for(start + len(reads)), 100, "ms")
    testbench.measure("run", {"spikes": got, "cycles": cycles,
                              "outs": [w for _, w in out.received[start:]]})
