"""cocotb testbench: a core behind the UART bridge, driven by the host library
(`cimforge.fpga.host.Bridge`) through a simulated serial port on the RTL's pins.

* end_to_end: the same host code as on a board. LFSR bank: seed, then noise words equal to the
  golden model's. RACA: load a random network, run inferences, read prediction and votes,
  equal to the golden model's. Accelerator system: load a small network, run timesteps, read
  every counter and membrane back (`system_host.run`), equal to the golden model's.
* fuzzing: random requests, corrupted ones (a flipped bit anywhere), truncated ones, junk
  between them; every reply's status and length and, at the end, every counter equal the
  protocol model's (`protocol.ParserModel`); a good request works after each bad one.

Launcher arguments: `requests` (fuzzing requests), `inferences`.
"""

import random

import cocotb
from cimforge.fpga.host import Bridge
from cimforge.params import uart_protocol as proto
from cimforge.verif import testbench
from cimforge.verif.host.uart_port import SimSerialPort
from cocotb.task import bridge
from cocotb.triggers import ClockCycles


async def start(dut):
    params, args, _ = await testbench.start(dut, idle={"rx": 1})
    await ClockCycles(dut.clk, 3)
    # A reply takes at most ~(5 + 254) bytes of 10 bits; the host waits that long and more.
    port = SimSerialPort(dut, params.divisor, timeout_cycles=params.divisor * 10 * 300
                         + params.timeout + 1000)
    return params, args, random.Random(cocotb.RANDOM_SEED), port


@cocotb.test()
async def end_to_end(dut):
    params, args, rng, port = await start(dut)
    session = {"lfsr_bank": _lfsr_session, "raca": _raca_session,
               "snn_system": _snn_session}[params.design]
    await bridge(session)(params, args, port, rng)


def _lfsr_session(params, args, port, rng):
    from cimforge.golden.lfsr import LfsrBankModel
    host = Bridge(port)
    info = host.info()
    core = params.core_params()
    # Streams in name order: inputs [seed], outputs [noise].
    assert info.in_bytes == [proto.nbytes(core.length)]
    assert info.out_bytes == [proto.nbytes(core.width * core.lanes)]
    model = LfsrBankModel(core)
    for _ in range(2):
        seed = rng.getrandbits(core.length)
        host.write(0, seed)
        words = model.words(seed, 6)
        for k in range(6):
            value = host.read(0)
            want = sum(int(w) << (lane * core.width) for lane, w in enumerate(words[k]))
            assert value == want, f"seed {seed:#x}, word {k}: {value:#x}, model {want:#x}"
    assert host.status()["ok"] == 1 + 2 * 7 + 0      # INFO, 2 x (WRITE + 6 READ)


def _raca_session(params, args, port, rng):
    from cimforge.golden.raca import Op, RacaModel, Reg, command, image_seed, program, run_commands
    from cimforge.verif.raca.stimulus import random_input, random_network
    core = params.core_params()
    host = Bridge(port)
    info = host.info()
    assert len(info.in_bytes) == 1 and len(info.out_bytes) == 1     # cmd in, rdata out

    def reg(register):
        host.write(0, command(core, Op.READ_REG, register))
        value = host.read(0)
        assert value is not None, f"no answer to READ_REG {register}"
        return value

    net = random_network(core, rng, sizes=[rng.randint(4, 12), rng.randint(2, 8),
                                           rng.randint(2, 6)])
    for word in program(core, net):
        host.write(0, word)
    model = RacaModel(core)
    for i in range(args.get("inferences", 2)):
        x = random_input(net.sizes[0], rng)
        samples, seed = rng.randint(1, 6), image_seed(i, core.lfsr_length, 77)
        for word in run_commands(core, x, samples, seed):
            host.write(0, word)
        while reg(Reg.STATUS) & 1:
            pass
        result = model.infer(net, x, samples, seed)
        counts = [reg(Reg.COUNT + c) for c in range(net.sizes[-1])]
        assert counts == list(result.counts), f"inference {i}: votes {counts}, model " \
                                              f"{list(result.counts)}"
        assert reg(Reg.PREDICTION) == result.prediction
    # Nothing is left to read: READ answers TIMEOUT (None), it does not hang.
    assert host.read(0) is None


def _snn_session(params, args, port, rng):
    """A small network on the accelerator system, loaded, run and read back through the
    bridge by `system_host.run` (what a board's host runs), against the golden model."""
    import numpy as np
    from cimforge.golden.network import Linear, Network
    from cimforge.golden.snn_system import SystemModel
    from cimforge.params.snn_system import LinkCounter
    from cimforge.system_host import run
    from cimforge.system_mapper import map_system
    from cimforge.verif.snn.stimulus import check_readout, neurons, random_events, weights
    system = params.core_params()
    np_rng = np.random.default_rng(rng.getrandbits(32))
    net = Network((6,), [Linear(weights(np_rng, (4, 6), 4), neurons(np_rng, 4, 4, 8, "wrap")),
                         Linear(weights(np_rng, (3, 4), 4), neurons(np_rng, 3, 4, 8, "wrap"))])
    events = random_events(np_rng, net, args.get("steps", 2))
    smap = map_system(net, system, "ws")
    host = Bridge(port)
    spikes, readouts = run(lambda word: host.write(0, word), lambda: host.read(0), system,
                           smap, events)
    model = SystemModel(system, smap)
    want = model.run(events)
    assert spikes == want.spikes, f"spikes {spikes}, model {want.spikes}"
    for part in smap.parts:
        readout, links = readouts[part.core]
        check_readout(readout, model.models[part.core], part.mapping, f"core {part.core}: ")
        assert links == [model.links[part.core][c] for c in LinkCounter]
    assert host.read(0) is None


@cocotb.test()
async def fuzzing(dut):
    params, args, rng, port = await start(dut)
    await bridge(_fuzz_session)(params, args, port, rng)


def _fuzz_session(params, args, port, rng):
    host = Bridge(port)
    info = host.info()

    def execute(op, port_index, payload):
        # The LFSR bank's seed is always ready and its noise always valid; RACA's command
        # stream takes any command when idle, and its read-data stream has nothing to give.
        if op == proto.WRITE:
            return proto.OK, 0
        if params.design == "lfsr_bank":
            return proto.OK, info.out_bytes[port_index]
        return proto.TIMEOUT, 0

    model = proto.ParserModel(info.in_bytes, info.out_bytes, execute)
    model.counters["ok"] = 1                                        # the INFO above

    def good_request():
        if rng.random() < 0.5:
            port_index = rng.randrange(len(info.in_bytes))
            if params.design == "raca":
                return proto.request(proto.WRITE, bytes([port_index]) + bytes(
                    info.in_bytes[port_index]))                    # a NOP command
            return proto.request(proto.WRITE, bytes([port_index]) + rng.randbytes(
                info.in_bytes[port_index]))
        return proto.request(rng.choice([proto.READ, proto.STATUS, proto.INFO]),
                             bytes([rng.randrange(len(info.out_bytes))])
                             if rng.random() < 0.5 else b"")

    def bad_request():
        kind = rng.choice(["flip", "flip", "truncate", "op", "port", "length", "junk"])
        if kind == "op":
            return proto.request(rng.choice([0, 5, 9, 0x55, 255]), rng.randbytes(
                rng.randint(0, 3)))
        if kind == "port":
            return proto.request(proto.WRITE, bytes([len(info.in_bytes) + rng.randrange(5)])
                                 + bytes(info.in_bytes[0]))
        if kind == "length":
            return proto.request(proto.WRITE, bytes([0]) + bytes(info.in_bytes[0] + 1))
        if kind == "junk":
            return bytes(rng.choice([b for b in range(256) if b != proto.REQUEST_SYNC])
                         for _ in range(rng.randint(1, 4))) + good_request()
        frame = bytearray(good_request())
        if kind == "truncate":
            return bytes(frame[:rng.randint(1, len(frame) - 1)])
        position = rng.randrange(1, len(frame))
        frame[position] ^= 1 << rng.randrange(8)
        return bytes(frame)

    for n in range(args.get("requests", 40)):
        frame = good_request() if rng.random() < 0.3 else bad_request()
        port.write(frame)
        replies, busy = [], 0
        for byte in frame:
            if busy:
                # A reply is being sent: the bridge ignores (and counts) bytes until it is
                # done, i.e. the 3 + length bytes that follow at the same bit rate.
                busy -= 1
                model.counters["busy_bytes"] += 1
                continue
            reply = model.feed(byte)
            if reply is not None:
                replies.append(reply)
                busy = 3 + reply[1]
        if model.state != "sync":
            # The request is incomplete (truncated, or a corrupted length asks for more):
            # the bridge drops it after the byte timeout.
            port.idle(params.byte_timeout_bits + 2)
            replies.append(model.pause())
        for want_status, want_length in replies:
            status, payload = host.receive()
            assert (status, len(payload)) == (want_status, want_length), \
                f"request {n} {frame.hex()}: reply {proto.STATUS_NAMES.get(status)} " \
                f"({len(payload)} bytes), model {proto.STATUS_NAMES[want_status]} " \
                f"({want_length} bytes)"
        port.idle(15)
        assert not port.received, f"request {n} {frame.hex()}: an unexpected reply"
    # The STATUS reply is taken before its own request is counted.
    got = host.status()
    expected = {k: v & 0xFFFF for k, v in model.counters.items()}
    assert got == expected, f"counters {got}, model {expected}"
    assert sum(got[k] for k in ("bad_crc", "bad_request", "truncated", "junk_bytes")) > 0
