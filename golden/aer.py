"""Packet-level golden model of the address-event mesh (`aer_mesh`), and its contract.

Coordinates: core (x, y) has index y * cols + x; x grows east, y grows north.

Packets (`tdata` bit layouts, LSB first):
* flit (mesh and ejection ports): addr, tag, x, y (x, y = destination core).
* injection word: flit, then `multicast`. Unicast: the flit goes to core (x, y) if it exists,
  else it is dropped and counted (`dropped_bad_dest`). Multicast: `addr` is a source neuron;
  the core's table head entry `head[addr] = (first, count)` lists `count` destination entries
  `dest[(first + i) mod table_entries]`, i = 0..count-1, each (x, y, addr). Every entry makes one
  flit (entry x, y, addr; the event's tag), in entry order; entries naming a core outside the
  mesh are dropped and counted. A neuron beyond the table or with count 0 is dropped and counted
  (`dropped_empty`). Copies are made at the source (docs/aer-mesh.md says why).
* table write: data, index, dest (0 head, 1 destination entry), core. Head data = first, count
  (LSB first); destination data = addr, x, y. Dropped and counted (`dropped_table_writes`) if the
  core, the index or a head's first (>= table_entries) or count (> table_entries) is out of range.
* counter command: index, clear. Answer: the counter's value; `clear` zeroes it after reading
  (an event in the same cycle counts towards the next value). Index c * 16 + k is core c's
  counter `CORE_COUNTERS[k]`, 14 and 15 read 0; index cores * 16 is `dropped_table_writes`; any
  other index reads 0. Counters wrap at counter_width bits.

Routing is dimension-ordered (X first, then Y), so each (source, destination) pair has one path
and every flow arrives in order. `blocked_*` counters depend on timing and are not modelled; all
other counters are exact.
"""

from collections import defaultdict

import numpy as np

from ..params.aer_mesh import (
    CORE_COUNTERS,
    COUNTERS_PER_CORE,
    GLOBAL_COUNTERS,
    PORTS,
    AerMeshParams,
)

LOCAL, NORTH, EAST, SOUTH, WEST = range(5)


def flit(p: AerMeshParams, x: int, y: int, addr: int, tag: int = 0) -> int:
    return p.flit_format.pack(addr=addr, tag=tag, x=x, y=y)


def unpack_flit(p: AerMeshParams, word: int) -> dict:
    return p.flit_format.unpack(word)


def unicast(p: AerMeshParams, x: int, y: int, addr: int, tag: int = 0) -> int:
    """Injection word for one flit to core (x, y)."""
    return p.inject_format.pack(flit=flit(p, x, y, addr, tag))


def multicast(p: AerMeshParams, neuron: int, tag: int = 0) -> int:
    """Injection word for a spike of source neuron `neuron`, expanded through the table."""
    return p.inject_format.pack(flit=flit(p, 0, 0, neuron, tag), multicast=1)


def head_write(p: AerMeshParams, core: int, neuron: int, first: int, count: int) -> int:
    return p.table_write_format.pack(data=p.head_format.pack(first=first, count=count),
                                     index=neuron, dest=0, core=core)


def dest_write(p: AerMeshParams, core: int, entry: int, x: int, y: int, addr: int) -> int:
    return p.table_write_format.pack(data=p.dest_format.pack(addr=addr, x=x, y=y),
                                     index=entry, dest=1, core=core)


def ctl(p: AerMeshParams, index: int, clear: bool = False) -> int:
    return p.ctl_format.pack(index=index, clear=clear)


def counter_index(p: AerMeshParams, core: int, name: str) -> int:
    if name in GLOBAL_COUNTERS:
        return p.cores * COUNTERS_PER_CORE + GLOBAL_COUNTERS.index(name)
    return core * COUNTERS_PER_CORE + CORE_COUNTERS.index(name)


def xy_path(p: AerMeshParams, src: int, dst: int) -> list[tuple[int, int]]:
    """(core, output port) of every router a flit from `src` to `dst` leaves, in order; the
    last is the destination's local (ejection) port."""
    x, y = src % p.cols, src // p.cols
    dx, dy = dst % p.cols, dst // p.cols
    hops = []
    while (x, y) != (dx, dy):
        core = y * p.cols + x
        if x != dx:
            port = EAST if dx > x else WEST
            x += 1 if dx > x else -1
        else:
            port = NORTH if dy > y else SOUTH
            y += 1 if dy > y else -1
        hops.append((core, port))
    hops.append((dst, LOCAL))
    return hops


def tree_links(p: AerMeshParams, src: int, dsts) -> int:
    """Link traversals (router-to-router) a multicast tree along the XY paths would need."""
    return len({hop for d in set(dsts) for hop in xy_path(p, src, d)[:-1]})


class AerMeshModel:
    """Tables, deliveries and counters of a mesh, event by event.

    `inject(core, word)` returns the flits the event sends, as (destination core, flit word);
    `delivered[dst][src]` lists the flits each flow delivered, in order.
    """

    def __init__(self, p: AerMeshParams):
        self.p = p
        self.head = np.zeros((p.cores, p.table_neurons, 2), dtype=np.int64)   # first, count
        self.dest = np.zeros((p.cores, p.table_entries, 3), dtype=np.int64)   # x, y, addr
        self.counters = np.zeros(p.cores * COUNTERS_PER_CORE + len(GLOBAL_COUNTERS),
                                 dtype=np.int64)
        self.delivered = defaultdict(lambda: defaultdict(list))

    def _count(self, core: int | None, name: str, n: int = 1):
        self.counters[counter_index(self.p, core, name)] += n

    def write_table(self, word: int) -> bool:
        """Apply a table-write word; False (and counted) if it was dropped."""
        p = self.p
        write = p.table_write_format.unpack(word)
        data, index, core = write["data"], write["index"], write["core"]
        ok = core < p.cores
        if write["dest"]:
            ok &= index < p.table_entries
            if ok:
                entry = p.dest_format.unpack(data)
                self.dest[core, index] = (entry["x"], entry["y"], entry["addr"])
        else:
            head = p.head_format.unpack(data)
            first, count = head["first"], head["count"]
            ok &= index < p.table_neurons and first < p.table_entries and count <= p.table_entries
            if ok:
                self.head[core, index] = (first, count)
        if not ok:
            self._count(None, "dropped_table_writes")
        return bool(ok)

    def inject(self, core: int, word: int) -> list[tuple[int, int]]:
        p = self.p
        self._count(core, "injected")
        event = p.inject_format.unpack(word)
        f = event["flit"]
        if event["multicast"]:
            neuron = f["addr"]
            first, count = self.head[core, neuron] if neuron < p.table_neurons else (0, 0)
            if count == 0:
                self._count(core, "dropped_empty")
                return []
            self._count(core, "copies", int(count))
            targets = [tuple(self.dest[core, (first + i) % p.table_entries])
                       for i in range(count)]
        else:
            targets = [(f["x"], f["y"], f["addr"])]
        sent = []
        for x, y, addr in targets:
            if x >= p.cols or y >= p.rows:
                self._count(core, "dropped_bad_dest")
                continue
            dst = int(y * p.cols + x)
            word_out = flit(p, int(x), int(y), int(addr), f["tag"])
            for hop_core, port in xy_path(p, core, dst):
                self._count(hop_core, f"forwarded_{PORTS[port]}")
            self.delivered[dst][core].append(word_out)
            sent.append((dst, word_out))
        return sent

    def counter(self, index: int) -> int:
        """What reading counter `index` returns (wrapped); blocked_* are not modelled."""
        if index >= len(self.counters):
            return 0
        return int(self.counters[index]) % (1 << self.p.counter_width)

    def clear(self, index: int):
        if index < len(self.counters):
            self.counters[index] = 0
