"""Wire formats (`cimforge.params.wire`): packing, errors, and the hardware's view of them."""


import pytest
from amaranth.hdl import Shape
from amaranth.lib import data
from cimforge.blocks import BLOCKS
from cimforge.hdl.common.wire import struct_layout
from cimforge.params.wire import Field, Format, FormatError
from cimforge.verif import seeds

INNER = Format("inner", [Field("lo", 3), Field("hi", 5)])
OUTER = Format("outer", [Field("a", 4), Field("inner", INNER), Field("flag", 1)])


def test_pack_unpack_round_trip():
    rng = seeds.rng("wire")
    for _ in range(200):
        values = {"a": rng.randrange(16), "flag": rng.randrange(2),
                  "inner": {"lo": rng.randrange(8), "hi": rng.randrange(32)}}
        word = OUTER.pack(**values)
        # The same word by integer arithmetic, field by field.
        want = values["a"] | values["inner"]["lo"] << 4 | values["inner"]["hi"] << 7 \
            | values["flag"] << 12
        assert word == want
        assert OUTER.unpack(word) == values
        assert OUTER.field_value(word, "inner") == INNER.pack(**values["inner"])


def test_describe_flattens_nested_fields():
    assert [(f["name"], f["offset"], f["width"]) for f in OUTER.describe()] == [
        ("a", 0, 4), ("inner.lo", 4, 3), ("inner.hi", 7, 5), ("flag", 12, 1)]
    assert OUTER.size == 13


@pytest.mark.parametrize("values, message", [
    ({"a": 16}, "outer.a = 16 does not fit in 4 bits"),
    ({"a": -1}, "outer.a = -1 does not fit"),
    ({"inner": {"hi": 32}}, "inner.hi = 32 does not fit in 5 bits"),
    ({"nope": 1}, "format outer has no field 'nope'; fields are a, inner, flag"),
])
def test_bad_values_are_refused(values, message):
    with pytest.raises(FormatError, match=message):
        OUTER.pack(**values)


def test_bad_definitions_are_refused():
    with pytest.raises(ValueError, match="defined twice"):
        Format("twice", [Field("x", 1), Field("x", 2)])
    with pytest.raises(ValueError, match="width 0"):
        Format("empty", [Field("x", 0)])


def _formats():
    for block in BLOCKS.values():
        for preset, params in block.presets.items():
            for port, fmt in params.formats().items():
                yield pytest.param(fmt, id=f"{block.name}-{preset}-{port}")


@pytest.mark.parametrize("fmt", list(_formats()))
def test_hardware_layout_matches_the_format(fmt):
    """Every leaf field that `describe` lists (what `<name>.formats.json` tells users) sits at
    that bit offset, with that width, in the StructLayout the RTL uses."""
    layout = struct_layout(fmt)
    assert layout.size == fmt.size
    for entry in fmt.describe():
        offset, shape = 0, layout
        for name in entry["name"].split("."):
            member = data.Layout.cast(shape)[name]
            offset, shape = offset + member.offset, member.shape
        assert (offset, Shape.cast(shape).width) == (entry["offset"], entry["width"]), \
            entry["name"]
