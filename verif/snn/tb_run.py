"""cocotb testbench behind `cimforge run`: an accelerator core's Verilog (`snn_core`) driven
through its host port by a host program (`cimforge.snn_host`) read from the JSON file named in
the launcher's `program` argument: `load` (words), `steps` (words per timestep) and `reads`
(the readout's words). Streams run without gaps or backpressure, as a host that keeps up
would drive them. It records (`testbench.measure("run")`) the output spikes per timestep, the
cycles (summed over timesteps, each from its first host word, the input events included, to
its end marker), and the readout's read-data."""

import json

import cocotb
from cimforge.verif import testbench
from cimforge.verif.streams import StreamSink, StreamSource, bus
from cocotb.triggers import RisingEdge, with_timeout


@cocotb.test()
async def run_program(dut):
    params, args, rng = await testbench.start(dut, sources=["s_axis_host"],
                                              sinks=["m_axis_spike", "m_axis_rdata"])
    program = json.loads(open(args["program"]).read())
    fmt = params.spike_format
    host = StreamSource(dut.clk, bus(dut, "s_axis_host"), rng=rng, idle=0)
    spikes = StreamSink(dut.clk, bus(dut, "m_axis_spike"), rng=rng, stall=0)
    rdata = StreamSink(dut.clk, bus(dut, "m_axis_rdata"), rng=rng, stall=0)

    for word in program["load"]:
        host.send(word)
    await with_timeout(host.drain(), 100, "ms")
    cycles, got = 0, []
    for step in program["steps"]:
        for word in step:
            host.send(word)
        current, seen = [], len(spikes.received)
        while True:
            await RisingEdge(dut.clk)
            cycles += 1
            if cycles > 50_000_000:
                raise AssertionError(f"timestep {len(got)} did not end")
            new = spikes.received[seen:]
            seen += len(new)
            ended = False
            for _, word in new:
                fields = fmt.unpack(word)
                if fields["end"]:
                    ended = True
                else:
                    current.append(fields["address"])
            if ended:
                got.append(current)
                break
    reads = program["reads"]
    for word in reads:
        host.send(word)
    await with_timeout(rdata.wait_for(len(reads)), 100, "ms")
    testbench.measure("run", {"spikes": got, "cycles": cycles,
                              "rdata": [w for _, w in rdata.received]})
