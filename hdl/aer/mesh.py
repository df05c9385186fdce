"""A rows x cols mesh of address-event routers with multicast injection and counters.

Per core (x, y): `inject_<x>_<y>` (events in) feeds the core's `AerInjector`, whose flits enter
the router's local port; the router's local output is `eject_<x>_<y>`. `table` loads every
core's multicast table, `ctl` / `stat` read and clear the counters, `idle` says no flit or event
is anywhere inside. Contract and bit layouts: `cimforge.golden.aer`.
"""

from amaranth.hdl import Cat, Const, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ...params.aer_mesh import (
    CORE_COUNTERS,
    COUNTERS_PER_CORE,
    GLOBAL_COUNTERS,
    PORTS,
    AerMeshParams,
)
from ..common.counter_file import CounterFile
from ..common.wire import struct_layout
from .injector import AerInjector
from .router import AerRouter


class AerMesh(wiring.Component):
    def __init__(self, p: AerMeshParams):
        if not isinstance(p, AerMeshParams):
            raise TypeError(f"AerMesh needs AerMeshParams, got {type(p).__name__}")
        self.p = p
        members = {}
        inject, flit = struct_layout(p.inject_format), struct_layout(p.flit_format)
        for y in range(p.rows):
            for x in range(p.cols):
                members[f"inject_{x}_{y}"] = In(stream.Signature(inject))
                members[f"eject_{x}_{y}"] = Out(stream.Signature(flit))
        members.update(table=In(stream.Signature(struct_layout(p.table_write_format),
                                                 always_ready=True)),
                       ctl=In(stream.Signature(struct_layout(p.ctl_format))),
                       stat=Out(stream.Signature(p.counter_width)),
                       idle=Out(1))
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        p = self.p
        routers, injectors = {}, {}
        for y in range(p.rows):
            for x in range(p.cols):
                router = routers[x, y] = AerRouter(p, x, y)
                injector = injectors[x, y] = AerInjector(p)
                m.submodules[f"router_{x}_{y}"] = router
                m.submodules[f"injector_{x}_{y}"] = injector
                wiring.connect(m, wiring.flipped(getattr(self, f"inject_{x}_{y}")),
                               injector.inject)
                wiring.connect(m, injector.out, router.local_in)
                wiring.connect(m, router.local_out,
                               wiring.flipped(getattr(self, f"eject_{x}_{y}")))
        for (x, y), router in routers.items():
            if x + 1 < p.cols:
                wiring.connect(m, router.east_out, routers[x + 1, y].west_in)
                wiring.connect(m, routers[x + 1, y].west_out, router.east_in)
            if y + 1 < p.rows:
                wiring.connect(m, router.north_out, routers[x, y + 1].south_in)
                wiring.connect(m, routers[x, y + 1].south_out, router.north_in)

        # Table writes: checked, then registered once on their way to every core's memories.
        write = self.table.payload
        head = struct_layout(p.head_format)(write.data[:p.head_format.size])
        core_ok = write.core < p.cores
        head_ok = ((write.index < p.table_neurons) & (head.first < p.table_entries) &
                   (head.count <= p.table_entries))
        dest_ok = write.index < p.table_entries
        accept = Signal()
        m.d.comb += accept.eq(core_ok & (write.dest & dest_ok | ~write.dest & head_ok))
        table_dropped = Signal()
        m.d.comb += table_dropped.eq(self.table.valid & ~accept)
        we_head = Signal(p.cores)
        we_dest = Signal(p.cores)
        index = Signal.like(write.index)
        table_data = Signal.like(write.data)
        m.d.sync += [we_head.eq(0), we_dest.eq(0), index.eq(write.index),
                     table_data.eq(write.data)]
        with m.If(self.table.valid & accept):
            with m.If(write.dest):
                m.d.sync += we_dest.eq(1 << write.core)
            with m.Else():
                m.d.sync += we_head.eq(1 << write.core)

        # Counters: per core the CORE_COUNTERS slots (padded to 16), then the global ones.
        strobes, present = [], []
        for y in range(p.rows):
            for x in range(p.cols):
                core = y * p.cols + x
                router, injector = routers[x, y], injectors[x, y]
                m.d.comb += [injector.head_we.eq(we_head[core]),
                             injector.dest_we.eq(we_dest[core]),
                             injector.table_index.eq(index),
                             injector.table_data.eq(table_data)]
                has = set(router.ports)
                events = {**{f"forwarded_{n}": router.forwarded[k] for k, n in enumerate(PORTS)},
                          **{f"blocked_{n}": router.blocked[k] for k, n in enumerate(PORTS)},
                          **{n: getattr(injector, n) for n in
                             ("dropped_bad_dest", "dropped_empty", "injected", "copies")}}
                for name in CORE_COUNTERS:
                    strobes.append(events[name])
                    port = name.split("_", 1)[1] if name.startswith(("forwarded", "blocked")) \
                        else None
                    present.append(port is None or PORTS.index(port) in has)
                pad = COUNTERS_PER_CORE - len(CORE_COUNTERS)
                strobes += [Const(0, 1)] * pad
                present += [False] * pad
        strobes.append(table_dropped)
        present.append(True)
        assert len(present) == p.cores * COUNTERS_PER_CORE + len(GLOBAL_COUNTERS)
        m.submodules.counters = counters = CounterFile(present, p.counter_width,
                                                       p.counter_index_bits)
        m.d.comb += counters.strobes.eq(Cat(*strobes))
        wiring.connect(m, wiring.flipped(self.ctl), counters.ctl)
        wiring.connect(m, counters.value, wiring.flipped(self.stat))

        m.d.comb += self.idle.eq(Cat(*(r.idle for r in routers.values()),
                                     *(i.idle for i in injectors.values())).all() &
                                 ~(we_head.any() | we_dest.any()))
        return m
