"""A core's injection port: unicast flits pass through, multicast events expand through the
core's routing table into one flit per destination (contract: `cimforge.golden.aer`).

The table is two memories, both block-RAM shaped (one synchronous read port, one write port,
no reset): `head[neuron] = (first, count)` and `dest[entry] = (x, y, addr)`. A multicast event
costs count + 3 cycles at the port (head read, head decode, then one destination per cycle); a
unicast flit one cycle. Flits for cores outside the mesh are dropped here, so the routers only
ever carry flits with a real destination.
"""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ...params.aer_mesh import AerMeshParams
from ..common.wire import struct_layout


class AerInjector(wiring.Component):
    """`inject` (events in) -> `out` (flits to the router's local input).

    Table writes: `head_we` / `dest_we` with `table_index` and `table_data` (head or destination
    layout in the low bits). Strobes for the counters: `injected`, `copies`, `dropped_bad_dest`,
    `dropped_empty`. `idle`: nothing accepted is still to be sent.
    """

    def __init__(self, p: AerMeshParams):
        self.p = p
        super().__init__({
            "inject": In(stream.Signature(struct_layout(p.inject_format))),
            "out": Out(stream.Signature(struct_layout(p.flit_format))),
            "head_we": In(1),
            "dest_we": In(1),
            "table_index": In(max(p.neuron_bits, p.entry_bits)),
            "table_data": In(p.table_write_format["data"].width),
            "injected": Out(1),
            "copies": Out(1),
            "dropped_bad_dest": Out(1),
            "dropped_empty": Out(1),
            "idle": Out(1),
        })

    def in_mesh(self, x, y):
        p = self.p
        return (x < p.cols) & (y < p.rows)

    def elaborate(self, platform):
        m = Module()
        p = self.p
        m.submodules.head = head = Memory(shape=struct_layout(p.head_format),
                                          depth=p.table_neurons, init=[])
        m.submodules.dest = dest = Memory(shape=struct_layout(p.dest_format),
                                          depth=p.table_entries, init=[])
        head_w, dest_w = head.write_port(), dest.write_port()
        head_r, dest_r = head.read_port(), dest.read_port()
        m.d.comb += [
            head_w.en.eq(self.head_we), head_w.addr.eq(self.table_index),
            head_w.data.eq(self.table_data),
            dest_w.en.eq(self.dest_we), dest_w.addr.eq(self.table_index),
            dest_w.data.eq(self.table_data),
            head_r.en.eq(0), dest_r.en.eq(0),
        ]

        event = self.inject.payload
        out = self.out
        can_load = Signal()
        m.d.comb += can_load.eq(~out.valid | out.ready)
        with m.If(out.ready):
            m.d.sync += out.valid.eq(0)

        tag = Signal.like(event.flit.tag)
        first = Signal(range(p.table_entries))              # the event's first entry
        next_entry = Signal(range(p.table_entries))         # the entry read after this one
        left = Signal(range(p.table_entries + 1))           # entries still to send

        def send(x, y, addr, tag):
            with m.If(self.in_mesh(x, y)):
                m.d.sync += [out.valid.eq(1), out.payload.x.eq(x), out.payload.y.eq(y),
                             out.payload.addr.eq(addr), out.payload.tag.eq(tag)]
            with m.Else():
                m.d.comb += self.dropped_bad_dest.eq(1)

        with m.FSM():
            with m.State("ACCEPT"):
                m.d.comb += [self.inject.ready.eq(can_load),
                             self.idle.eq(~out.valid)]
                with m.If(self.inject.valid & can_load):
                    m.d.comb += self.injected.eq(1)
                    m.d.sync += tag.eq(event.flit.tag)
                    with m.If(~event.multicast):
                        send(event.flit.x, event.flit.y, event.flit.addr, event.flit.tag)
                    with m.Elif(event.flit.addr < p.table_neurons):
                        m.d.comb += [head_r.addr.eq(event.flit.addr), head_r.en.eq(1)]
                        m.next = "HEAD"
                    with m.Else():
                        m.d.comb += self.dropped_empty.eq(1)
            with m.State("HEAD"):
                # Block RAM outputs are slow: register the head entry before acting on it.
                m.d.sync += [first.eq(head_r.data.first), left.eq(head_r.data.count)]
                m.next = "START"
            with m.State("START"):
                with m.If(left == 0):
                    m.d.comb += self.dropped_empty.eq(1)
                    m.next = "ACCEPT"
                with m.Else():
                    m.d.comb += [dest_r.addr.eq(first), dest_r.en.eq(1)]
                    m.d.sync += next_entry.eq(wrap_increment(first, p.table_entries))
                    m.next = "WALK"
            with m.State("WALK"):
                with m.If(can_load):
                    send(dest_r.data.x, dest_r.data.y, dest_r.data.addr, tag)
                    m.d.comb += self.copies.eq(1)
                    m.d.sync += left.eq(left - 1)
                    with m.If(left == 1):
                        m.next = "ACCEPT"
                    with m.Else():
                        m.d.comb += [dest_r.addr.eq(next_entry), dest_r.en.eq(1)]
                        m.d.sync += next_entry.eq(wrap_increment(next_entry, p.table_entries))
        return m


def wrap_increment(value, modulus: int):
    """value + 1 mod `modulus` (value < modulus)."""
    return Mux(value == modulus - 1, 0, value + 1)
