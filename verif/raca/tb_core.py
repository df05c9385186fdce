"""cocotb testbench: the RACA control plane's Verilog against `cimforge.golden.raca`.

Launcher arguments (CIMFORGE_ARGS): `networks` (random networks), `inferences` (per network),
`samples` (choices of T), `gap`/`stall` (command idle and read-data backpressure
probabilities), `noise_gap` (probability that the external noise source has no word ready).
"""

import cocotb
from cimforge.golden.raca import (
    Op,
    RacaModel,
    Reg,
    command,
    cycles,
    input_words,
    program,
    run_commands,
)
from cimforge.params.wire import ceil_div
from cimforge.verif.raca.host import BUSY, DONE, REFUSED, start
from cimforge.verif.raca.stimulus import random_input, random_network


def hidden_words(params, net, result):
    """The activation buffers after the last sample: {word address: value} of the last hidden
    layer written to each of the two buffers."""
    sw = params.scan_width
    expect = {}
    for h, acts in enumerate(result.hidden):
        base = params.act_base[1 + h % 2]
        last = acts[-1]
        for k in range(ceil_div(len(last), sw)):
            expect[base + k] = sum(int(b) << p for p, b in enumerate(last[k * sw:(k + 1) * sw]))
    return expect


async def infer_and_check(host, noise, params, model, net, x, samples, seed, what):
    result = model.infer(net, x, samples, seed)
    if noise is not None:
        noise.need = result.transfers
    await host.send(run_commands(params, x, samples, seed))
    expected_cycles = cycles(params, net, x, result)
    status = await host.wait_done(expected_cycles * 4 + 100)
    assert status == DONE, f"{what}: status {status:#x}"
    regs = [Reg.PREDICTION, Reg.CYCLES, Reg.NOISE_WAIT]
    regs += [Reg.COUNT + c for c in range(net.sizes[-1])]
    got = await host.read([command(params, Op.READ_REG, r) for r in regs])
    prediction, busy_cycles, noise_wait, counts = got[0], got[1], got[2], got[3:]
    assert counts == list(result.counts), f"{what}: counts {counts}, model {list(result.counts)}"
    assert prediction == result.prediction, f"{what}: prediction {prediction}, " \
                                            f"model {result.prediction}"
    if noise is None:
        assert noise_wait == 0, f"{what}: waited {noise_wait} cycles for the built-in noise"
    assert busy_cycles - noise_wait == expected_cycles, \
        f"{what}: {busy_cycles} cycles ({noise_wait} waiting for noise), model {expected_cycles}"
    # Read back the input words and the hidden buffers of the last sample.
    words = {a: v for a, v in input_words(params, x).items()}
    words.update(hidden_words(params, net, result))
    addresses = sorted(words)
    got = await host.read([command(params, Op.READ_ACT, a) for a in addresses])
    for a, value in zip(addresses, got):
        assert value == words[a], f"{what}: activation word {a}: RTL {value:#x}, " \
                                  f"model {words[a]:#x}"
    return noise_wait


@cocotb.test()
async def random_networks(dut):
    """Random networks (layer counts, sizes, weights, shifts), inputs, T and seeds: prediction,
    every vote count, the last sample's hidden activations and the cycle count match."""
    params, args, rng, host, noise = await start(dut)
    model = RacaModel(params)
    waited = 0
    for n in range(args.get("networks", 3)):
        net = random_network(params, rng)
        await host.send(program(params, net))
        for i in range(args.get("inferences", 2)):
            x = random_input(net.sizes[0], rng)
            samples = min(params.max_samples, rng.choice(args.get("samples", [1, 2, 5, 16])))
            seed = rng.getrandbits(params.lfsr_length)
            what = f"network {n} {net.sizes} shifts {net.shifts}, inference {i} (T={samples})"
            waited += await infer_and_check(host, noise, params, model, net, x, samples, seed,
                                            what)
    if noise is not None and noise.gap > 0:
        assert waited > 0, "the noise source had gaps but the core never waited"


@cocotb.test()
async def bad_commands(dut):
    """Unknown ops, addresses out of range, bad register values and a START with a bad class
    count are dropped and counted; nothing they touch changes; the next inference is exact."""
    params, args, rng, host, noise = await start(dut)
    model = RacaModel(params)
    net = random_network(params, rng)
    await host.send(program(params, net))
    p = params
    size_limit = max(p.max_hidden, p.max_classes) if p.max_layers > 1 else p.max_classes
    bad = [command(p, op) for op in range(8, 16)]
    bad += [command(p, Op.WRITE_WEIGHT, p.weight_depth, 1),
            command(p, Op.WRITE_BIAS, p.bias_depth, 1),
            command(p, Op.WRITE_ACT, p.act_base[3], 1),
            command(p, Op.READ_ACT, p.act_base[3]),
            command(p, Op.READ_REG, Reg.COUNT + p.max_classes),
            command(p, Op.READ_REG, 31),
            command(p, Op.WRITE_REG, Reg.STATUS, 0),
            command(p, Op.WRITE_REG, Reg.PREDICTION, 1),
            command(p, Op.WRITE_REG, Reg.LAYERS, 0),
            command(p, Op.WRITE_REG, Reg.LAYERS, p.max_layers + 1),
            command(p, Op.WRITE_REG, Reg.SAMPLES, 0),
            command(p, Op.WRITE_REG, Reg.SAMPLES, p.max_samples + 1),
            command(p, Op.WRITE_REG, Reg.SIZE, 0),
            command(p, Op.WRITE_REG, Reg.SIZE, p.max_inputs + 1),
            command(p, Op.WRITE_REG, Reg.SIZE + p.max_layers, size_limit + 1),
            command(p, Op.WRITE_REG, Reg.SHIFT, 32),
            command(p, Op.WRITE_REG, Reg.SHIFT + p.max_layers, 0),
            command(p, Op.WRITE_REG, Reg.SIZE + p.max_layers + 1, 1)]
    if p.lfsr_length < p.cmd_data_width:
        bad.append(command(p, Op.WRITE_REG, Reg.SEED, 1 << p.lfsr_length))
    rng.shuffle(bad)
    await host.send(bad)
    # A START whose output layer has one class is refused; the sizes are then restored.
    refused_start = [command(p, Op.WRITE_REG, Reg.SIZE + net.layers, 1), command(p, Op.START)]
    await host.send(refused_start)
    status = await host.wait_done(20)
    assert status == REFUSED, f"status after a refused START: {status:#x}"
    dropped = await host.reg(Reg.DROPPED)
    assert dropped == len(bad) + 1, f"DROPPED = {dropped}, sent {len(bad) + 1} bad commands"
    await host.send([command(p, Op.WRITE_REG, Reg.SIZE + net.layers, net.sizes[-1])])
    x = random_input(net.sizes[0], rng)
    await infer_and_check(host, noise, params, model, net, x, 3, 7,
                          "after bad commands")
    assert await host.reg(Reg.DROPPED) == len(bad) + 1


@cocotb.test()
async def reads_while_busy(dut):
    """READ_REG is served during an inference; a write sent meanwhile waits until it ends and
    then takes effect (it cannot disturb the running inference)."""
    params, args, rng, host, noise = await start(dut)
    p = params
    model = RacaModel(params)
    net = random_network(params, rng, sizes=p.max_sizes(p.max_layers))
    await host.send(program(params, net))
    x = random_input(net.sizes[0], rng)
    seed = 3
    result = model.infer(net, x, 4, seed)
    if noise is not None:
        noise.need = result.transfers
    await host.send(run_commands(params, x, 4, seed))
    status = await host.reg(Reg.STATUS)
    assert status & BUSY, "the inference should still be running"
    # Written while busy: accepted only after the inference.
    await host.send([command(p, Op.WRITE_REG, Reg.SAMPLES, 1)])
    assert not (await host.reg(Reg.STATUS)) & BUSY
    assert await host.reg(Reg.PREDICTION) == result.prediction
    assert await host.reg(Reg.SAMPLES) == 1
