"""One address-event router of a mesh: XY routing, input FIFOs, round-robin output arbiters.

A flit moves through a router in two cycles: the cycle after it is written into an input FIFO
it is at the FIFO's head (first-word fall-through), is routed and arbitrated, and is loaded into
the output register, which drives the link to the next router. FIFO `w_rdy` comes from the
FIFO's registered level, so `ready` never travels combinationally from one router to the next.
"""

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.fifo import SyncFIFO
from amaranth.lib.wiring import In, Out

from ...params.aer_mesh import PORTS, AerMeshParams
from ..common.round_robin import RoundRobin
from ..common.wire import struct_layout

LOCAL, NORTH, EAST, SOUTH, WEST = range(5)

# XY routing allows these (input -> output) moves; no U-turns, and no Y-to-X turns.
ALLOWED = {
    LOCAL: {LOCAL, NORTH, EAST, SOUTH, WEST},
    WEST: {LOCAL, NORTH, EAST, SOUTH},          # travelling east
    EAST: {LOCAL, NORTH, SOUTH, WEST},          # travelling west
    SOUTH: {LOCAL, NORTH},                      # travelling north
    NORTH: {LOCAL, SOUTH},                      # travelling south
}


def existing_ports(p: AerMeshParams, x: int, y: int) -> list[int]:
    """Ports of the router at (x, y): local, and the neighbours inside the mesh."""
    return [port for port, present in [
        (LOCAL, True), (NORTH, y < p.rows - 1), (EAST, x < p.cols - 1),
        (SOUTH, y > 0), (WEST, x > 0)] if present]


class AerRouter(wiring.Component):
    """The router at (x, y) of a `p.rows` x `p.cols` mesh.

    Streams `<port>_in` / `<port>_out` (flit payloads) for the local port and each neighbour
    that exists. Per-port strobes for the counters: `forwarded[k]` (a flit left output k) and
    `blocked[k]` (output k held a flit that was not taken), k in `PORTS` order. `idle`: no flit
    inside.

    A flit whose route is not an XY move from the port it came in on (impossible inside a
    mesh, whose injection ports only admit destinations that exist) is discarded, so a bad
    packet can never stall a router.
    """

    def __init__(self, p: AerMeshParams, x: int, y: int):
        if not (0 <= x < p.cols and 0 <= y < p.rows):
            raise ValueError(f"router ({x}, {y}) is outside the {p.cols} x {p.rows} mesh")
        self.p, self.x, self.y = p, x, y
        self.ports = existing_ports(p, x, y)
        flit = stream.Signature(struct_layout(p.flit_format))
        members = {}
        for port in self.ports:
            members[f"{PORTS[port]}_in"] = In(flit)
            members[f"{PORTS[port]}_out"] = Out(flit)
        members.update(forwarded=Out(len(PORTS)), blocked=Out(len(PORTS)), idle=Out(1))
        super().__init__(members)

    def route(self, m: Module, head, name: str) -> Signal:
        """The output port (index into PORTS) XY routing sends `head` to."""
        port = Signal(range(len(PORTS)), name=f"{name}_route")
        with m.If(head.x > self.x):
            m.d.comb += port.eq(EAST)
        with m.Elif(head.x < self.x):
            m.d.comb += port.eq(WEST)
        with m.Elif(head.y > self.y):
            m.d.comb += port.eq(NORTH)
        with m.Elif(head.y < self.y):
            m.d.comb += port.eq(SOUTH)
        with m.Else():
            m.d.comb += port.eq(LOCAL)
        return port

    def elaborate(self, platform):
        m = Module()
        p = self.p
        layout = struct_layout(p.flit_format)

        fifos, routes = {}, {}
        for port in self.ports:
            name = PORTS[port]
            fifo = fifos[port] = SyncFIFO(width=layout.size, depth=p.fifo_depth)
            m.submodules[f"{name}_fifo"] = fifo
            link = getattr(self, f"{name}_in")
            m.d.comb += [fifo.w_data.eq(link.payload), fifo.w_en.eq(link.valid),
                         link.ready.eq(fifo.w_rdy)]
            routes[port] = self.route(m, layout(fifo.r_data), name)

        # Which (input, output) pairs exist, and which inputs hold a flit nobody may take.
        inputs_of = {out: [i for i in self.ports if out in ALLOWED[i]] for out in self.ports}
        for port in self.ports:
            reachable = [out for out in self.ports if port in inputs_of[out]]
            stray = Signal(name=f"{PORTS[port]}_stray")
            m.d.comb += stray.eq(fifos[port].r_rdy &
                                 ~Cat(*(routes[port] == out for out in reachable)).any())
            with m.If(stray):
                m.d.comb += fifos[port].r_en.eq(1)

        busy = []
        for out in self.ports:
            name = PORTS[out]
            link = getattr(self, f"{name}_out")
            candidates = inputs_of[out]
            arbiter = m.submodules[f"{name}_arbiter"] = RoundRobin(len(candidates))
            for k, i in enumerate(candidates):
                m.d.comb += arbiter.requests[k].eq(fifos[i].r_rdy & (routes[i] == out))
            can_load = Signal(name=f"{name}_can_load")
            m.d.comb += [can_load.eq(~link.valid | link.ready), arbiter.advance.eq(can_load)]
            with m.If(can_load):
                m.d.sync += link.valid.eq(arbiter.valid)
                for k, i in enumerate(candidates):
                    with m.If(arbiter.grant[k]):
                        m.d.sync += link.payload.eq(fifos[i].r_data)
                        m.d.comb += fifos[i].r_en.eq(1)
            m.d.comb += [self.forwarded[out].eq(link.valid & link.ready),
                         self.blocked[out].eq(link.valid & ~link.ready)]
            busy.append(link.valid)
        busy += [fifos[port].r_rdy for port in self.ports]
        m.d.comb += self.idle.eq(~Cat(*busy).any())
        return m
