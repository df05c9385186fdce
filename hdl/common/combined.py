"""Several cores in one design: every port of core `block` appears as `<block>_<port>`, so one
host bridge (or one top level) reaches them all."""

from amaranth.hdl import Module
from amaranth.lib import wiring

from .ports import forward


class Combined(wiring.Component):
    """`cores` (prefix -> component) side by side: core `prefix`'s port `name` is this
    component's port `<prefix>_<name>`, of the same signature member. No logic of its own."""

    def __init__(self, cores: dict[str, wiring.Component]):
        self.cores = cores
        members = {}
        for prefix, core in cores.items():
            for name, member in core.signature.members.items():
                members[f"{prefix}_{name}"] = member
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        for prefix, core in self.cores.items():
            m.submodules[prefix] = core
            for name, member in core.signature.members.items():
                forward(m, member, getattr(self, f"{prefix}_{name}"), getattr(core, name))
        return m
