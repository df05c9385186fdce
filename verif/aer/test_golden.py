"""The address-event mesh's golden model against independent arithmetic."""


import pytest
from cimforge.golden import aer
from cimforge.params import ParamError
from cimforge.params.aer_mesh import AerMeshParams
from cimforge.verif import seeds
from cimforge.verif.aer.traffic import random_event, random_tables

SHAPES = [(1, 1), (1, 4), (4, 1), (2, 3), (3, 3), (4, 4), (5, 7)]


@pytest.mark.parametrize("rows,cols", SHAPES)
def test_xy_paths(rows, cols):
    """A path has |dx| + |dy| hops, all X moves before Y moves, each to a neighbour."""
    p = AerMeshParams(rows=rows, cols=cols)
    for src in range(p.cores):
        for dst in range(p.cores):
            path = aer.xy_path(p, src, dst)
            sx, sy, dx, dy = src % cols, src // cols, dst % cols, dst // cols
            assert len(path) == abs(dx - sx) + abs(dy - sy) + 1
            assert path[-1] == (dst, aer.LOCAL)
            ports = [port for _, port in path[:-1]]
            x_moves = [q for q in ports if q in (aer.EAST, aer.WEST)]
            assert ports[:len(x_moves)] == x_moves, "a Y move came before an X move"
            x, y = sx, sy
            for core, port in path[:-1]:
                assert core == y * cols + x
                x += {aer.EAST: 1, aer.WEST: -1}.get(port, 0)
                y += {aer.NORTH: 1, aer.SOUTH: -1}.get(port, 0)
                assert 0 <= x < cols and 0 <= y < rows
            assert (x, y) == (dx, dy)


@pytest.mark.parametrize("rows,cols", SHAPES)
def test_model_conservation(rows, cols):
    """Counters add up: injected events = unicasts + multicasts; every copy or unicast is
    delivered or dropped; each delivery is counted once per router on its path."""
    p = AerMeshParams(rows=rows, cols=cols, table_neurons=20, table_entries=37)
    rng = seeds.rng("conservation", rows, cols)
    model = aer.AerMeshModel(p)
    accepted = sum(model.write_table(w) for w in random_tables(p, rng))
    words = [(c, random_event(p, c, rng)) for c in range(p.cores) for _ in range(60)]
    sent = [model.inject(c, w) for c, w in words]

    def total(name):
        return sum(model.counter(aer.counter_index(p, c, name)) for c in range(p.cores))

    unicasts = sum(1 for _, w in words if not w >> p.flit_width & 1)
    delivered = sum(map(len, sent))
    assert total("injected") == len(words)
    assert total("copies") + unicasts == delivered + total("dropped_bad_dest")
    assert total("forwarded_local") == delivered
    hops = sum(len(aer.xy_path(p, c, d)) - 1 for (c, _), s in zip(words, sent) for d, _ in s)
    inner = sum(total(f"forwarded_{q}") for q in ("north", "east", "south", "west"))
    assert inner == hops
    drops = model.counter(aer.counter_index(p, 0, "dropped_table_writes"))
    assert accepted + drops == len(random_tables(p, seeds.rng("conservation", rows, cols)))


def test_multicast_expansion_by_hand():
    """A 2x2 mesh, neuron 3 of core 0 -> three destinations wrapping past the table's end."""
    p = AerMeshParams(rows=2, cols=2, table_neurons=4, table_entries=5)
    model = aer.AerMeshModel(p)
    assert model.write_table(aer.head_write(p, 0, 3, 4, 3))
    for entry, (x, y, addr) in zip([4, 0, 1], [(1, 1, 7), (0, 0, 8), (1, 0, 9)]):
        assert model.write_table(aer.dest_write(p, 0, entry, x, y, addr))
    sent = model.inject(0, aer.multicast(p, 3, tag=5))
    assert sent == [(3, aer.flit(p, 1, 1, 7, 5)), (0, aer.flit(p, 0, 0, 8, 5)),
                    (1, aer.flit(p, 1, 0, 9, 5))]
    # Core 3 is two hops away (east then north), core 1 one, core 0 none.
    assert model.counter(aer.counter_index(p, 0, "forwarded_east")) == 2
    assert model.counter(aer.counter_index(p, 1, "forwarded_north")) == 1
    assert model.inject(0, aer.multicast(p, 2)) == []
    assert model.counter(aer.counter_index(p, 0, "dropped_empty")) == 1
    assert not model.write_table(aer.head_write(p, 0, 0, 5, 1))      # first beyond the table
    assert not model.write_table(aer.head_write(p, 0, 0, 0, 6))      # more than every entry


def test_tree_links_never_exceed_copies():
    p = AerMeshParams(rows=4, cols=4)
    rng = seeds.rng("tree-links")
    for _ in range(200):
        src = rng.randrange(p.cores)
        dsts = rng.sample(range(p.cores), rng.randint(1, p.cores))
        copies = sum(len(aer.xy_path(p, src, d)) - 1 for d in dsts)
        assert aer.tree_links(p, src, dsts) <= copies


def test_bad_parameters():
    with pytest.raises(ParamError, match="table_neurons"):
        AerMeshParams(addr_width=4, table_neurons=17)
    with pytest.raises(ParamError, match="rows"):
        AerMeshParams(rows=0)
