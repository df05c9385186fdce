"""Top-level wrapper that gives a component AXI4-Stream-named ports.

Every `amaranth.lib.stream` member `name` of the wrapped component becomes
`s_axis_<name>_tvalid/_tready/_tdata` (streams into the core) or `m_axis_<name>_...` (streams out
of it); every other port keeps its own name. AXI4-Stream carries whole bytes, so `tdata` is the
payload's bits padded to a multiple of 8: zero-extended on the way out, the padding ignored on
the way in (`tdata_width`). A stream out of the core whose words end frames (the component's
`axis_last`: stream name -> the payload field that marks the frame's last word) also gets
`tlast`. The wrapper adds no logic, only wires, so standard AXI-Stream IP and
verification components (cocotbext-axi, tests in `verif/test_axis_vip.py`) plug in unchanged.
"""

from amaranth.hdl import Module, Shape
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from .ports import forward


def tdata_width(payload_width: int) -> int:
    """The `tdata` width of a payload of `payload_width` bits: whole bytes."""
    return -(-payload_width // 8) * 8


class AxisTop(wiring.Component):
    """`core` with AXI4-Stream port names (see the module docstring). Raises `TypeError` for a
    member of `core` that is neither a stream nor a plain port."""

    def __init__(self, core: wiring.Component):
        self.core = core
        self._streams = {}                 # top-level prefix -> (core stream, is_source,
                                           # payload width, tlast field or None)
        self._plain = {}                   # top-level name -> core port
        members = {}
        for name, member in core.signature.members.items():
            if member.is_signature and isinstance(member.signature, stream.Signature):
                width = Shape.cast(member.signature.members["payload"].shape).width
                source = member.flow == Out
                prefix = f"{'m' if source else 's'}_axis_{name}"
                data_flow, ready_flow = (Out, In) if source else (In, Out)
                members[f"{prefix}_tvalid"] = data_flow(1)
                members[f"{prefix}_tready"] = ready_flow(1)
                members[f"{prefix}_tdata"] = data_flow(tdata_width(width))
                last = getattr(core, "axis_last", {}).get(name) if source else None
                if last:
                    members[f"{prefix}_tlast"] = Out(1)
                self._streams[prefix] = (name, source, width, last)
            elif member.is_port:
                members[name] = member
                self._plain[name] = name
            else:
                raise TypeError(f"AxisTop: member '{name}' of {type(core).__name__} is neither "
                                f"a stream nor a port")
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        m.submodules.core = self.core
        for prefix, (name, source, width, last) in self._streams.items():
            port = getattr(self.core, name)
            valid, ready, tdata = (getattr(self, f"{prefix}_{s}") for s in
                                   ("tvalid", "tready", "tdata"))
            if source:
                m.d.comb += [valid.eq(port.valid), port.ready.eq(ready), tdata.eq(port.payload)]
                if last:
                    m.d.comb += getattr(self, f"{prefix}_tlast").eq(getattr(port.payload, last))
            else:
                m.d.comb += [port.valid.eq(valid), ready.eq(port.ready),
                             port.payload.eq(tdata[:width])]
        for name in self._plain:
            forward(m, self.signature.members[name], getattr(self, name), getattr(self.core, name))
        return m
