"""Wire formats: every bit layout that crosses a port, defined once.

A `Format` is a list of named fields, least significant first: a command word, a packet, a
table entry, a per-column configuration word. Each block's parameter module builds its
formats from its parameters; then

* the golden model and the host side pack and unpack words with `Format.pack`/`unpack`,
* the hardware views the same format as an Amaranth `data.StructLayout`
  (`cimforge.hdl.common.wire.struct_layout`), so no bit offset is ever written by hand,
* the emitted metadata and the docs list the fields with `Format.describe`.

This module is plain Python (no Amaranth), so the golden models can use it.
"""

from dataclasses import dataclass
from enum import IntEnum
from typing import Iterable, Union


class FormatError(ValueError):
    """A value does not fit its field, or a field name is unknown."""


@dataclass(frozen=True)
class Field:
    """One field: a name, a width in bits or a nested `Format`, a one-line doc and, for fields
    that hold an opcode or an index, the `IntEnum` that names their values."""

    name: str
    shape: Union[int, "Format"]
    doc: str = ""
    values: type[IntEnum] | None = None

    @property
    def width(self) -> int:
        return self.shape.size if isinstance(self.shape, Format) else self.shape


class Format:
    """Named fields packed LSB first into one word of `size` bits."""

    def __init__(self, name: str, fields: Iterable[Field], doc: str = ""):
        self.name = name
        self.doc = doc
        self.fields = tuple(fields)
        self._offsets = {}
        offset = 0
        for f in self.fields:
            if f.name in self._offsets:
                raise ValueError(f"format {name}: field '{f.name}' defined twice")
            if f.width < 1:
                raise ValueError(f"format {name}: field '{f.name}' has width {f.width}")
            if f.values is not None and max(f.values) >= 1 << f.width:
                raise ValueError(f"format {name}: {f.values.__name__} does not fit the "
                                 f"{f.width}-bit field '{f.name}'")
            self._offsets[f.name] = offset
            offset += f.width
        self.size = offset

    def __repr__(self):
        fields = ", ".join(f"{f.name}:{f.width}" for f in self.fields)
        return f"Format({self.name}: {fields})"

    def __eq__(self, other):
        return isinstance(other, Format) and (self.name, self.fields) == (other.name, other.fields)

    def __hash__(self):
        return hash((self.name, self.fields))

    def __getitem__(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise FormatError(f"format {self.name} has no field '{name}'; fields are "
                          f"{', '.join(f.name for f in self.fields)}")

    def offset(self, name: str) -> int:
        self[name]
        return self._offsets[name]

    def pack(self, **values) -> int:
        """The word with these field values (missing fields 0). A nested format's value is a
        dict of its fields or an int. Raises `FormatError` for an unknown field or a value
        that does not fit its width (negative values included: fields are unsigned)."""
        word = 0
        for name, value in values.items():
            f = self[name]
            if isinstance(f.shape, Format) and isinstance(value, dict):
                value = f.shape.pack(**value)
            value = int(value)
            if not 0 <= value < 1 << f.width:
                raise FormatError(f"{self.name}.{name} = {value} does not fit in {f.width} "
                                  f"bits (0..{(1 << f.width) - 1})")
            word |= value << self._offsets[name]
        return word

    def unpack(self, word: int) -> dict:
        """Field values of `word` (nested formats as dicts); bits above `size` are ignored."""
        out = {}
        for f in self.fields:
            value = self.field_value(word, f.name)
            out[f.name] = f.shape.unpack(value) if isinstance(f.shape, Format) else value
        return out

    def field_value(self, word: int, name: str) -> int:
        """One field of `word`, as an int (nested formats unflattened)."""
        return (int(word) >> self.offset(name)) & ((1 << self[name].width) - 1)

    def describe(self, prefix: str = "", base: int = 0) -> list[dict]:
        """Every leaf field with its dotted name, bit offset, width, doc and named values;
        what the metadata JSON and the docs print."""
        out = []
        for f in self.fields:
            offset = base + self._offsets[f.name]
            if isinstance(f.shape, Format):
                out += f.shape.describe(f"{prefix}{f.name}.", offset)
                continue
            entry = {"name": prefix + f.name, "offset": offset, "width": f.width,
                     "doc": f.doc}
            if f.values is not None:
                entry["values"] = {v.name: int(v) for v in f.values}
            out.append(entry)
        return out


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def bits(n: int) -> int:
    """Bits to hold any of 0..n-1 (at least 1)."""
    return max(1, (n - 1).bit_length())
