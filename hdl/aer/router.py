"""One address-event router of a mesh: XY routing, virtual output queues, round-robin output
arbiters.

A flit moves through a router in two cycles: it is routed as it arrives and written into the
queue of its input and output (a virtual output queue); the next cycle it is at the queue's
head (first-word fall-through), is arbitrated, and is loaded into the output register, which
drives the link to the next router. An input takes a flit while every one of its queues has
room; `w_rdy` comes from each queue's registered level, so `ready` never travels
combinationally from one router to the next.
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

        # One queue per (input, output) pair XY routing allows: a flit is routed as it
        # arrives and waits in the queue of its output, so a flit for a busy output never
        # holds up one behind it for another output (no head-of-line blocking).
        queues = {}
        for port in self.ports:
            name = PORTS[port]
            link = getattr(self, f"{name}_in")
            route = self.route(m, layout(link.payload), name)
            outputs = [out for out in self.ports if out in ALLOWED[port]]
            for out in outputs:
                queue = queues[port, out] = SyncFIFO(width=layout.size, depth=p.fifo_depth)
                m.submodules[f"{name}_to_{PORTS[out]}"] = queue
                m.d.comb += [queue.w_data.eq(link.payload),
                             queue.w_en.eq(link.valid & link.ready & (route == out))]
            # Ready from the queues' registered levels only, never from the flit: ready does
            # not travel combinationally between routers. A flit routed to no queue (not an
            # XY move from this port) is taken and discarded.
            m.d.comb += link.ready.eq(Cat(*(queues[port, out].w_rdy for out in outputs)).all())

        busy = []
        for out in self.ports:
            name = PORTS[out]
            link = getattr(self, f"{name}_out")
            candidates = [queues[i, out] for i in self.ports if (i, out) in queues]
            arbiter = m.submodules[f"{name}_arbiter"] = RoundRobin(len(candidates))
            for k, queue in enumerate(candidates):
                m.d.comb += arbiter.requests[k].eq(queue.r_rdy)
            can_load = Signal(name=f"{name}_can_load")
            m.d.comb += [can_load.eq(~link.valid | link.ready), arbiter.advance.eq(can_load)]
            with m.If(can_load):
                m.d.sync += link.valid.eq(arbiter.valid)
                for k, queue in enumerate(candidates):
                    with m.If(arbiter.grant[k]):
                        m.d.sync += link.payload.eq(queue.r_data)
                        m.d.comb += queue.r_en.eq(1)
            m.d.comb += [self.forwarded[out].eq(link.valid & link.ready),
                         self.blocked[out].eq(link.valid & ~link.ready)]
            busy.append(link.valid)
        busy += [queue.r_rdy for queue in queues.values()]
        m.d.comb += self.idle.eq(~Cat(*busy).any())
        return m
