"""Several accelerator cores on the address-event mesh, behind one host port (`SnnSystem`);
contract in `cimforge.params.snn_system`, model in `cimforge.golden.snn_system`."""

from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.lib.wiring import In, Out

from ...params.snn_system import SnnSystemParams, SystemOut, Target
from ..aer.mesh import AerMesh
from ..common.stream_arbiter import StreamArbiter
from ..common.wire import struct_layout
from .core import SnnCore
from .link import CoreLink


class SnnSystem(wiring.Component):
    """`rows x cols` cores (`SnnCore`), each with its link (`CoreLink`) on an `AerMesh`.

    Host words (`params.host_format`) go to a core's host port (merged round-robin with its
    link's EVENT and STEP commands), its link's registers, the mesh's counters, or ask for the
    count of dropped words (a word for an absent core is dropped and counted). Every answer,
    every spike the last stage sends to the host and every read-data word leaves on `out`
    (`params.out_format`), round-robin between the sources, each source in order.

    Parameters: `params` (`SnnSystemParams`).

    Attributes: `host` (in), `out` (out).
    """

    def __init__(self, params: SnnSystemParams):
        if not isinstance(params, SnnSystemParams):
            raise TypeError(f"SnnSystem needs SnnSystemParams, got {type(params).__name__}")
        self.params = params
        super().__init__({
            "host": In(stream.Signature(struct_layout(params.host_format))),
            "out": Out(stream.Signature(struct_layout(params.out_format))),
        })

    def elaborate(self, platform):
        m = Module()
        p, mesh_p = self.params, self.params.mesh
        out_layout = struct_layout(p.out_format)
        m.submodules.mesh = mesh = AerMesh(mesh_p)
        m.d.comb += mesh.table.valid.eq(0)              # no multicast tables: links fan out
        # Answers: per core its spikes for the host, read-data and link counters; then the
        # mesh's counters and the dropped-word count.
        m.submodules.answers = answers = StreamArbiter(3 * p.cores + 2, out_layout)
        wiring.connect(m, answers.out, wiring.flipped(self.out))

        def answer(k, source, core, kind, data):
            port = answers.inputs[k]
            m.d.comb += [port.valid.eq(source.valid), source.ready.eq(port.ready),
                         port.payload.core.eq(core), port.payload.kind.eq(kind),
                         port.payload.data.eq(data)]

        word = self.host.payload
        sinks = []                                      # (target, core, stream) of each sink
        for index in range(p.cores):
            x, y = index % p.cols, index // p.cols
            core, link = SnnCore(p.core_params), CoreLink(p)
            commands = StreamArbiter(2, struct_layout(p.core_params.host_format))
            m.submodules[f"core_{x}_{y}"] = core
            m.submodules[f"link_{x}_{y}"] = link
            m.submodules[f"commands_{x}_{y}"] = commands
            # Register slices between core, link and mesh: no valid/ready path crosses them.
            _slice(m, f"inject_slice_{x}_{y}", link.inject, getattr(mesh, f"inject_{x}_{y}"))
            wiring.connect(m, getattr(mesh, f"eject_{x}_{y}"), link.eject)
            _slice(m, f"spike_slice_{x}_{y}", core.spike, link.spike)
            _slice(m, f"command_slice_{x}_{y}", link.command, commands.inputs[1])
            wiring.connect(m, commands.out, core.host)
            sinks += [(Target.CORE, index, commands.inputs[0]), (Target.LINK, index, link.config)]
            answer(3 * index, link.to_host, index, SystemOut.SPIKE, link.to_host.payload)
            answer(3 * index + 1, core.rdata, index, SystemOut.RDATA, core.rdata.payload)
            answer(3 * index + 2, link.answer, index, SystemOut.LINK, link.answer.payload)
        sinks.append((Target.MESH, None, mesh.ctl))
        answer(3 * p.cores, mesh.stat, 0, SystemOut.STAT, mesh.stat.payload)

        # The host's words: to the sink they name; a word for an absent core is dropped.
        dropped = stream.Signature(32).create()
        sinks.append((Target.SYSTEM, None, dropped))
        answer(3 * p.cores + 1, dropped, 0, SystemOut.STAT, dropped.payload)
        words = Signal(32)
        present = word.core < p.cores
        m.d.comb += [dropped.payload.eq(words)]
        with m.If(dropped.ready):
            m.d.sync += dropped.valid.eq(0)
        for target, index, sink in sinks:
            if target is Target.SYSTEM:
                continue
            m.d.comb += sink.payload.eq(word.word)
            selected = word.target == target
            if index is not None:
                selected &= word.core == index
            with m.If(selected):
                m.d.comb += [sink.valid.eq(self.host.valid), self.host.ready.eq(sink.ready)]
        with m.If(word.target == Target.SYSTEM):
            m.d.comb += self.host.ready.eq(~dropped.valid)
            with m.If(self.host.valid & ~dropped.valid):
                m.d.sync += dropped.valid.eq(1)
        with m.Elif(((word.target == Target.CORE) | (word.target == Target.LINK)) & ~present):
            m.d.comb += self.host.ready.eq(1)
            with m.If(self.host.valid):
                m.d.sync += words.eq(words + 1)
        return m


def _slice(m: Module, name: str, source, sink) -> None:
    """`source` -> `sink` through a two-entry FIFO (`SyncFIFOBuffered`): one transfer per cycle,
    valid and ready both leave flip-flops."""
    width = len(source.payload.as_value())
    m.submodules[name] = buffer = SyncFIFOBuffered(width=width, depth=2)
    m.d.comb += [buffer.w_stream.valid.eq(source.valid), source.ready.eq(buffer.w_stream.ready),
                 buffer.w_stream.payload.eq(source.payload),
                 sink.valid.eq(buffer.r_stream.valid), buffer.r_stream.ready.eq(sink.ready),
                 sink.payload.eq(buffer.r_stream.payload)]
