"""Several accelerator cores on the address-event mesh (`snn_system`): parameters and the wire
formats of the system's host port and of each core's link to the mesh.

A network runs as a pipeline of stages, one timestep at a time. A stage is one core holding a
run of consecutive weighted layers, or several cores each holding a part of one layer (a
range of its output channels). A core's last layer sends its spikes through the core's link:
to the host, or as unicast flits to every core of the next stage (the link's destination list;
fan-out at the sender), its address moved by the part's `offset` into the whole layer's
numbering, then an end-of-timestep marker to each. A link that expects markers (`feeders`)
turns received spikes into the core's EVENT commands and steps the core (STEP) when it holds
the markers of every feeding core; the mesh keeps each flow in order, so every spike of a
timestep is queued by then. Flits carry the timestep (mod 2**(tag_width - 1)) and the marker
bit in their tag.

The host sends timestep t + 1 only after the end markers of timestep t from every core of the
last stage (`SystemOut.SPIKE` words with `end`): the stages then never wait for each other in
the mesh, so the system cannot deadlock whatever the placement.
"""

from dataclasses import dataclass
from enum import IntEnum
from functools import cached_property
from math import prod

from . import Params, param
from .aer_mesh import AerMeshParams
from .snn import PRESETS as CORE_PRESETS
from .snn import Mapping, SnnCoreParams
from .wire import Field, Format, bits


class Target(IntEnum):
    """Where a host word goes (`SnnSystemParams.host_format`)."""
    CORE = 0        # the core's host port (`snn_core`'s host_format)
    LINK = 1        # a write of the core's link registers (`link_format`)
    MESH = 2        # a mesh counter read (`aer_mesh`'s ctl_format); the answer is a STAT word
    SYSTEM = 3      # read the count of host words dropped (an absent core); a STAT word


class LinkReg(IntEnum):
    """A core's link registers (`link_format`)."""
    FEEDERS = 0     # cores whose end markers step this core (0: the host steps it)
    OFFSET = 1      # added to every spike address the core sends
    DESTS = 2       # how many destinations (0: the spikes go to the host)
    CLEAR = 3       # zero the counters, the timestep counts and the markers held
    DEST = 4        # DEST + k: destination k, its x | y << x_width (the flit's fields)


class SystemOut(IntEnum):
    """What an output word carries (`SnnSystemParams.out_format`)."""
    SPIKE = 0       # a spike or end marker the core sends to the host (`snn_core` spike_format)
    RDATA = 1       # read-data of the core's host commands (MACRO, COUNTER, READ)
    STAT = 2        # a mesh counter, or the system's dropped host words
    LINK = 3        # a link counter (`LinkCounter`)


class LinkCounter(IntEnum):
    """A core link's counts, read with a LINK word whose `read` is set (answer: a LINK word)."""
    SENT = 0        # flits the link injected (spikes and markers, each copy counted)
    RECEIVED = 1    # spikes the link took from the mesh
    MARKERS = 2     # end markers it took
    LATE = 3        # spikes or markers whose timestep was not the core's next one


@dataclass(frozen=True)
class SnnSystemParams(Params):
    """rows x cols accelerator cores (`snn_core`, all of one preset) on an `aer_mesh`, with one
    host port for all of them."""

    block = "snn_system"

    rows: int = param(2, "mesh rows", lo=1, hi=16)
    cols: int = param(2, "mesh columns", lo=1, hi=16)
    core: str = param("small", "the cores' preset (snn_core)", choices=tuple(CORE_PRESETS))
    max_fanout: int = param(4, "most destinations of one core's spikes", lo=1, hi=64)
    fifo_depth: int = param(4, "flits per router queue (one per input and output pair XY "
                               "routing allows)", lo=2, hi=256)
    timestep_bits: int = param(3, "bits of the timestep a flit carries", lo=1, hi=15)

    @property
    def cores(self) -> int:
        return self.rows * self.cols

    @property
    def core_params(self) -> SnnCoreParams:
        return CORE_PRESETS[self.core]

    @cached_property
    def mesh(self) -> AerMeshParams:
        c = self.core_params
        # No multicast tables: a link sends one unicast flit per destination.
        return AerMeshParams(rows=self.rows, cols=self.cols,
                             addr_width=max(c.event_format.size, c.spike_format.size),
                             tag_width=self.timestep_bits + 1, fifo_depth=self.fifo_depth,
                             table_neurons=1, table_entries=1)

    @cached_property
    def link_format(self) -> Format:
        """A write of a link register (`LinkReg`)."""
        return Format("snn_link_write", [
            Field("reg", bits(LinkReg.DEST + self.max_fanout), "register", values=LinkReg),
            Field("value", max(self.mesh.addr_width, bits(self.cores + 1),
                               bits(self.max_fanout + 1), self.mesh.x_width + self.mesh.y_width),
                  "its value (DEST: x, then y above it)"),
            Field("read", 1, "1: answer link counter `reg` (`LinkCounter`) instead"),
        ])

    @cached_property
    def tag_format(self) -> Format:
        """A flit's tag between two links."""
        return Format("snn_flit_tag", [
            Field("end", 1, "1: end of the timestep (address unused)"),
            Field("timestep", self.timestep_bits, "the sender's timestep, modulo"),
        ])

    @cached_property
    def host_format(self) -> Format:
        """`s_axis_host_tdata`: one word for a core, its link or the mesh."""
        c = self.core_params
        return Format("snn_system_command", [
            Field("core", bits(self.cores), "core index y * cols + x"),
            Field("target", 2, "where the word goes", values=Target),
            Field("word", max(c.host_format.size, self.link_format.size,
                              self.mesh.ctl_format.size), "the core's, link's or mesh's word"),
        ])

    @cached_property
    def out_format(self) -> Format:
        """`m_axis_out_tdata`: a spike, read-data or a mesh counter, and whose."""
        c = self.core_params
        return Format("snn_system_out", [
            Field("core", bits(self.cores), "core index (STAT: 0)"),
            Field("kind", 2, "what `data` is", values=SystemOut),
            Field("data", max(c.spike_format.size, c.macro.data_width,
                              self.mesh.counter_width), "the word"),
        ])

    def formats(self) -> dict[str, Format]:
        return {"s_axis_host": self.host_format, "m_axis_out": self.out_format,
                "link_write": self.link_format, "flit_tag": self.tag_format}


@dataclass
class Part:
    """One core's share: `network` (its layers, led by the pooling or flatten layers before its
    first weighted layer, so it takes the previous stage's spikes as they are sent), where its
    weighted layers sit in the whole network (`layers`), its output channels (`channels`: a
    range of the last layer's, all of them unless split), `mapping`, and its link: the
    `offset` added to its spike words, `dests` (core indices; none: the host), `feeders`
    (cores whose end markers step it; 0: the host steps it) and `send` (pool_y, pool_x,
    flat: how its last layer's spikes leave)."""
    core: int
    stage: int
    network: object         # a golden.network.Network
    layers: list
    channels: range
    mapping: Mapping
    offset: int = 0
    dests: tuple = ()
    feeders: int = 0
    send: tuple = (1, 1, True)

    @property
    def flat_offset(self) -> int:
        """Where its last layer's output neurons start in the whole layer (flat, unpooled)."""
        return self.channels.start * prod(self.network.shapes[-1][1:])


@dataclass
class SystemMapping:
    """`parts` (one per used core, stage by stage) and `stages` (their core indices)."""
    parts: list
    stages: list

    def part(self, core: int) -> Part:
        return next(p for p in self.parts if p.core == core)


PRESETS = {
    # One and two cores of the snn_core `ice40` preset (128 x 32 macros): tests, first use.
    "1x1": SnnSystemParams(rows=1, cols=1, core="ice40"),
    "1x2": SnnSystemParams(rows=1, cols=2, core="ice40"),
    # Four such cores: the 2 x 2 system for the ECP5.
    "ecp5": SnnSystemParams(rows=2, cols=2, core="ice40"),
    # Four `small` cores (512 x 32 macros, larger layers).
    "2x2": SnnSystemParams(rows=2, cols=2, core="small"),
    # Four cores at the paper's macro size (512 x 256).
    "flexspim": SnnSystemParams(rows=2, cols=2, core="flexspim"),
}
