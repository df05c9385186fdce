"""Bit layouts of the address-event network (contract: `cimforge.golden.aer`)."""

from amaranth.lib import data

from ..params.aer_mesh import AerMeshParams


def flit_layout(p: AerMeshParams) -> data.StructLayout:
    """One-flit packet, LSB first: axon/neuron address, tag, destination x, destination y."""
    return data.StructLayout({"addr": p.addr_width, "tag": p.tag_width,
                              "x": p.x_width, "y": p.y_width})


def inject_layout(p: AerMeshParams) -> data.StructLayout:
    """An injected event: a flit plus `multicast` on top. With `multicast` set, `addr` is the
    source neuron whose table entry lists the destinations, and x, y are ignored."""
    return data.StructLayout({"flit": flit_layout(p), "multicast": 1})


def head_layout(p: AerMeshParams) -> data.StructLayout:
    """Multicast table head entry (one per source neuron): `count` destinations from `first`."""
    return data.StructLayout({"first": p.entry_bits, "count": p.count_bits})


def dest_layout(p: AerMeshParams) -> data.StructLayout:
    """Multicast table destination entry: core and axon address."""
    return data.StructLayout({"addr": p.addr_width, "x": p.x_width, "y": p.y_width})


def table_write_layout(p: AerMeshParams) -> data.StructLayout:
    """Table-load stream word, LSB first: data, index, `dest` (0 = head, 1 = destination
    table), core (y * cols + x)."""
    data_width = max(head_layout(p).size, dest_layout(p).size)
    index_width = max(p.neuron_bits, p.entry_bits)
    return data.StructLayout({"data": data_width, "index": index_width, "dest": 1,
                              "core": p.core_bits})


def ctl_layout(p: AerMeshParams) -> data.StructLayout:
    """Counter command: read counter `index`; with `clear`, also zero it."""
    return data.StructLayout({"index": p.counter_index_bits, "clear": 1})
