"""The RACA register map as data: one register per address, every `Reg` address present, and
the emitted metadata listing it. (The RTL's checks against hand-written limits are in
`tb_core.bad_commands`.)"""

import json

import pytest
from cimforge.blocks import get
from cimforge.emit import emit
from cimforge.params.raca import Reg


@pytest.mark.parametrize("preset", ["digits", "mnist"])
def test_one_register_per_address(preset):
    params = get("raca").configure(preset)
    addresses = [r.address for r in params.registers]
    assert len(addresses) == len(set(addresses))
    assert {int(reg) for reg in Reg} <= set(addresses)
    sizes = [r for r in params.registers if r.name == "size"]
    assert [r.address for r in sizes] == [Reg.SIZE + k for k in range(params.max_layers + 1)]
    assert all(r.writable == (r.hi > 0) for r in params.registers if r.name != "seed")


def test_emitted_metadata_lists_the_register_map(tmp_path):
    params = get("raca").configure("digits")
    emit(params, tmp_path)
    listed = json.loads((tmp_path / "raca.formats.json").read_text())["register_map"]
    assert [(r["label"], r["address"], r["writable"]) for r in listed] == \
        [(r.label, r.address, r.writable) for r in params.registers]
