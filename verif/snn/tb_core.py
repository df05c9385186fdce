"""cocotb testbench: an accelerator core's Verilog (`snn_core`) running random mapped
networks, timestep by timestep, against the layer-level reference.

Launcher arguments: `networks` (how many), `steps` (timesteps each), `gap`/`stall` (idle and
backpressure probabilities on the host and spike streams).
"""

import cocotb
import numpy as np
from cimforge.golden.network import reference
from cimforge.golden.snn import CoreModel
from cimforge.snn_host import load_program, parse_readout, read_program, step_program
from cimforge.verif import testbench
from cimforge.verif.snn.stimulus import check_readout, mapping_for, random_events
from cimforge.verif.streams import StreamSink, StreamSource, bus
from cocotb.triggers import RisingEdge, with_timeout

# Each kind of layer with each way of mapping it, in turn.
KINDS = [("fc", "ws"), ("conv", "os"), ("conv", "chunked"), ("fc", "os"), ("conv", "ws"),
         ("fc", "chunked"), ("conv", "hs-min")]


@cocotb.test()
async def random_networks(dut):
    """Random linear and convolutional networks (pooling, flatten; wrapping or saturating)
    mapped ws, os, hs-min or chunked, random input events, random gaps and backpressure: every output spike of every
    timestep equals the reference's, in fire order; then every deterministic counter (the
    macro's and the core's) and every final membrane row equals the golden model's."""
    params, args, rng = await testbench.start(dut, sources=["s_axis_host"],
                                              sinks=["m_axis_spike", "m_axis_rdata"])
    np_rng = np.random.default_rng(rng.getrandbits(32))
    spike_fmt = params.spike_format
    host = StreamSource(dut.clk, bus(dut, "s_axis_host"), rng=rng, idle=args.get("gap", 0.3))
    spikes = StreamSink(dut.clk, bus(dut, "m_axis_spike"), rng=rng,
                        stall=args.get("stall", 0.3))
    rdata = StreamSink(dut.clk, bus(dut, "m_axis_rdata"), rng=rng, stall=args.get("stall", 0.3))
    for index in range(args.get("networks", 3)):
        kind, stationarity = KINDS[index % len(KINDS)]
        net, mapping = mapping_for(np_rng, kind, stationarity, params.macro,
                                   params.buffer_rows, overflow=("wrap", "saturate")[index % 2])
        events = random_events(np_rng, net, steps=args.get("steps", 3))
        for word in load_program(params, net, mapping) + step_program(params, net, events):
            host.send(word)
        got, current, start = [], [], len(spikes.received)
        for _ in range(400_000):
            while len(spikes.received) > start:
                fields = spike_fmt.unpack(spikes.received[start][1])
                start += 1
                if fields["end"]:
                    got.append(current)
                    current = []
                else:
                    current.append(fields["address"])
            if len(got) == len(events):
                break
            await RisingEdge(dut.clk)
        else:
            raise AssertionError(f"network {index}: {len(got)} of {len(events)} timesteps ended")
        want = [step[-1] for step in reference(net, events).spikes]
        what = f"network {index} ({kind}, {stationarity}): "
        assert got == want, f"{what}spikes {got}, reference {want}"
        model = CoreModel(params.macro, net, mapping, params.queue_depth)
        model.run(events)
        reads = read_program(params, mapping)
        for word in reads:
            host.send(word)
        first = len(rdata.received)
        await with_timeout(rdata.wait_for(first + len(reads)), 2, "ms")
        check_readout(parse_readout(mapping, [w for _, w in rdata.received[first:]]), model,
                      mapping, what)
