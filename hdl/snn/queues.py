"""The core's two event queues (`EventQueues`)."""

from amaranth.hdl import Array, Cat, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ...params.snn import SnnCoreParams
from ...params.wire import bits


class EventQueues(wiring.Component):
    """Two queues of `queue_depth` events in one memory. The layer being run reads the current
    queue (`read_index` -> `read_data` a cycle later, while `read_en`); its spikes fill the
    next one (`to_next`); the host's input events go into the current one before a timestep
    (`to_current`). `swap` empties the current queue and makes the next one current. Pushes
    are always taken: one into a full queue is dropped and counted on `dropped` (the drops of
    this cycle)."""

    def __init__(self, params: SnnCoreParams):
        self.params = params
        word = params.event_format.size
        super().__init__({
            "to_current": In(stream.Signature(word, always_ready=True)),
            "to_next": In(stream.Signature(word, always_ready=True)),
            "swap": In(1),
            "count": Out(range(params.queue_depth + 1)),
            "read_index": In(bits(params.queue_depth)),
            "read_en": In(1),
            "read_data": Out(word),
            "dropped": Out(2),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.params
        index_bits = bits(p.queue_depth)
        m.submodules.memory = memory = Memory(shape=p.event_format.size,
                                              depth=2 * p.queue_depth, init=[])
        write, read = memory.write_port(), memory.read_port()
        current = Signal()                       # the bank the current queue is in
        counts = Array(Signal(range(p.queue_depth + 1), name=f"count{i}") for i in range(2))
        m.d.comb += [self.count.eq(counts[current]),
                     read.addr.eq(Cat(self.read_index, current)), read.en.eq(self.read_en),
                     self.read_data.eq(read.data)]

        # At most one push lands per cycle (the controller never pushes both at once: input
        # events come only while it is idle); `to_next` wins.
        drops = []
        for push, bank in ((self.to_current, current), (self.to_next, ~current)):
            count = counts[bank]
            full = count >= p.queue_depth
            with m.If(push.valid & ~full):
                m.d.comb += [write.en.eq(1), write.addr.eq(Cat(count[:index_bits], bank)),
                             write.data.eq(push.payload)]
                m.d.sync += counts[bank].eq(count + 1)
            drops.append(push.valid & full)
        m.d.comb += self.dropped.eq(drops[0] + drops[1])

        with m.If(self.swap):
            m.d.sync += [counts[current].eq(0), current.eq(~current)]
        return m
