"""Random multicast tables and traffic for the address-event mesh, shared by tests and bench.

Every flit's address carries its source core in the top `source_bits(p)` bits (tables and
unicast events are made that way), so a testbench can tell which flow a delivered flit
belongs to and check per-flow order.
"""

import random

from cimforge.golden import aer
from cimforge.params.aer_mesh import AerMeshParams
from cimforge.params.wire import bits


def source_bits(p: AerMeshParams) -> int:
    return bits(p.cores)


def address(p: AerMeshParams, src: int, rng: random.Random) -> int:
    low = p.addr_width - source_bits(p)
    assert low >= 0, "addr_width too small to carry the source core"
    return src << low | rng.getrandbits(low) if low else src


def random_tables(p: AerMeshParams, rng: random.Random, *, bad: bool = True) -> list[int]:
    """Table-write words: per core, some neurons with fan-outs from 1 to every core (and
    beyond: repeated cores), some left empty; with `bad`, entries naming cores outside the
    mesh (where the coordinate widths allow) and writes that must be dropped."""
    writes = []
    bad_x = p.cols < 1 << p.x_width
    bad_y = p.rows < 1 << p.y_width
    for core in range(p.cores):
        entry = rng.randrange(p.table_entries)       # lists may wrap past the last entry
        for neuron in range(p.table_neurons):
            if rng.random() < 0.2:
                continue                              # empty: count stays 0
            fanout = rng.choice([1, 2, 3, p.cores, p.cores + 1, rng.randint(1, p.cores)])
            fanout = min(fanout, p.table_entries)
            writes.append(aer.head_write(p, core, neuron, entry, fanout))
            for i in range(fanout):
                x, y = rng.randrange(p.cols), rng.randrange(p.rows)
                if bad and rng.random() < 0.05 and (bad_x or bad_y):
                    x = p.cols if bad_x else x
                    y = p.rows if bad_y and not bad_x else y
                writes.append(aer.dest_write(p, core, (entry + i) % p.table_entries, x, y,
                                             address(p, core, rng)))
            entry = (entry + fanout) % p.table_entries
    if bad:
        if p.cores < 1 << p.core_bits:
            writes.append(aer.head_write(p, p.cores, 0, 0, 1))
        index_limit = 1 << max(p.neuron_bits, p.entry_bits)
        if p.table_neurons < index_limit:
            writes.append(aer.head_write(p, 0, p.table_neurons, 0, 1))
        if p.table_entries < index_limit:
            writes.append(aer.dest_write(p, 0, p.table_entries, 0, 0, 0))
        if p.table_entries < 1 << p.entry_bits:
            writes.append(aer.head_write(p, 0, 0, p.table_entries, 1))
        if p.table_entries + 1 < 1 << p.count_bits:
            writes.append(aer.head_write(p, 0, 0, 0, p.table_entries + 1))
        rng.shuffle(writes)         # bad writes in between good ones must not disturb them
    return writes


def random_event(p: AerMeshParams, src: int, rng: random.Random, *,
                 multicast: float = 0.3, bad: float = 0.05) -> int:
    """One injection word from core `src`: multicast of a random neuron (some beyond the
    table), or unicast to a random core (sometimes one outside the mesh)."""
    tag = rng.getrandbits(p.tag_width)
    if rng.random() < multicast:
        limit = min(1 << p.addr_width, p.table_neurons + 2)
        return aer.multicast(p, rng.randrange(limit), tag)
    x, y = rng.randrange(p.cols), rng.randrange(p.rows)
    if rng.random() < bad:
        if p.cols < 1 << p.x_width:
            x = rng.randrange(p.cols, 1 << p.x_width)
        elif p.rows < 1 << p.y_width:
            y = rng.randrange(p.rows, 1 << p.y_width)
    return aer.unicast(p, x, y, address(p, src, rng), tag)


def pattern_destination(p: AerMeshParams, pattern: str, src: int, rng: random.Random,
                        hotspot: int, hot_fraction: float = 0.25) -> int | None:
    """Destination core for synthetic traffic; None if the source sends nothing."""
    x, y = src % p.cols, src // p.cols
    if pattern == "uniform":
        others = [c for c in range(p.cores) if c != src]
        return rng.choice(others) if others else None
    if pattern == "transpose":
        if x == y or y >= p.cols or x >= p.rows:
            return None
        return x * p.cols + y
    if pattern == "hotspot":
        if rng.random() < hot_fraction and src != hotspot:
            return hotspot
        others = [c for c in range(p.cores) if c != src]
        return rng.choice(others) if others else None
    raise ValueError(f"unknown traffic pattern '{pattern}'")
