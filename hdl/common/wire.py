"""The hardware's view of the wire formats in `cimforge.params.wire`."""

from functools import cache

from amaranth.lib import data

from ...params.wire import Format


@cache
def struct_layout(fmt: Format) -> data.StructLayout:
    """`fmt` as a `data.StructLayout`: the same fields at the same offsets (nested formats
    become nested layouts), so a signal of this layout views a word the way the golden model
    packs it."""
    return data.StructLayout({f.name: struct_layout(f.shape) if isinstance(f.shape, Format)
                              else f.width for f in fmt.fields})
