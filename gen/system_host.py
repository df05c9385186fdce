"""Host-side programs for `snn_system`: the words to send on its host port to load a mapped
network (every core and its link), run a timestep and read back counters and membranes, and
what the output words mean. The same programs drive the RTL in simulation and a board."""

from dataclasses import dataclass

from .golden.aer import counter_index
from .mapper import event_words
from .params.aer_mesh import PORTS
from .params.snn import HostOp
from .params.snn_system import (
    LinkCounter,
    LinkReg,
    SnnSystemParams,
    SystemMapping,
    SystemOut,
    Target,
)
from .snn_host import load_program as core_load_program
from .snn_host import parse_readout
from .snn_host import read_program as core_read_program


def word(system: SnnSystemParams, target: Target, core: int, payload: int) -> int:
    return system.host_format.pack(core=core, target=target, word=payload)


def _link(system: SnnSystemParams, core: int, reg: int, value: int = 0, read=False) -> int:
    return word(system, Target.LINK, core,
                system.link_format.pack(reg=reg, value=value, read=int(read)))


def load_program(system: SnnSystemParams, smap: SystemMapping) -> list[int]:
    """Every used core's network part (`snn_host.load_program`) and its link registers."""
    c, mesh = system.core_params, system.mesh
    words = []
    for part in smap.parts:
        words += [word(system, Target.CORE, part.core, w) for w in
                  core_load_program(c, part.network, part.mapping, part.send)]
        words += [_link(system, part.core, LinkReg.CLEAR),
                  _link(system, part.core, LinkReg.FEEDERS, part.feeders),
                  _link(system, part.core, LinkReg.OFFSET, part.offset),
                  _link(system, part.core, LinkReg.DESTS, len(part.dests))]
        for k, dest in enumerate(part.dests):
            x, y = dest % system.cols, dest // system.cols
            words.append(_link(system, part.core, LinkReg.DEST + k, x | y << mesh.x_width))
    return words


def step_program(system: SnnSystemParams, smap: SystemMapping, events) -> list[int]:
    """One timestep: the input events (flat addresses) to every first-stage core, and STEP.
    Send the next timestep's only once `ends_per_step` end markers of this one are back."""
    c, fmt = system.core_params, system.core_params.host_format
    words = []
    for part in (smap.part(core) for core in smap.stages[0]):
        words += [word(system, Target.CORE, part.core, fmt.pack(op=HostOp.EVENT, a=w))
                  for w in event_words(part.network, c, events)]
        words.append(word(system, Target.CORE, part.core, fmt.pack(op=HostOp.STEP)))
    return words


def ends_per_step(smap: SystemMapping) -> int:
    """End markers the host receives per timestep: one from each last-stage core."""
    return len(smap.stages[-1])


@dataclass
class Out:
    """An output word: whose (`core`), what (`kind`) and its fields."""
    core: int
    kind: SystemOut
    data: int


def parse_out(system: SnnSystemParams, value: int) -> Out:
    fields = system.out_format.unpack(value)
    return Out(fields["core"], SystemOut(fields["kind"]), fields["data"])


def spike_of(system: SnnSystemParams, out: Out) -> tuple[bool, int]:
    """(end, address) of a SPIKE word."""
    fields = system.core_params.spike_format.unpack(out.data)
    return bool(fields["end"]), fields["address"]


def read_program(system: SnnSystemParams, smap: SystemMapping) -> list[int]:
    """Per used core: its readout (`snn_host.read_program`: RDATA words) and its link
    counters (LINK words); one answer per word."""
    words = []
    for part in smap.parts:
        words += [word(system, Target.CORE, part.core, w)
                  for w in core_read_program(system.core_params, part.mapping)]
        words += [_link(system, part.core, c, read=True) for c in LinkCounter]
    return words


def mesh_read_program(system: SnnSystemParams) -> list[int]:
    """Read and clear every router's `forwarded_<port>` counters (`mesh_ports` order); the
    answers are STAT words, in this order."""
    mesh = system.mesh
    return [word(system, Target.MESH, 0, mesh.ctl_format.pack(
        index=counter_index(mesh, router, f"forwarded_{port}"), clear=1))
        for router, port in mesh_ports(system)]


def mesh_ports(system: SnnSystemParams) -> list[tuple[int, str]]:
    """(router, port name) of the counters `mesh_read_program` reads."""
    return [(router, port) for router in range(system.mesh.cores) for port in PORTS]


def parse_readouts(smap: SystemMapping, outs: list[Out]) -> dict:
    """Core -> (`snn_host.Readout`, link counters by `LinkCounter`) from the output words
    `read_program` brought back (in any interleaving of the cores)."""
    result = {}
    for part in smap.parts:
        rdata = [o.data for o in outs if o.core == part.core and o.kind == SystemOut.RDATA]
        links = [o.data for o in outs if o.core == part.core and o.kind == SystemOut.LINK]
        result[part.core] = (parse_readout(part.mapping, rdata), links)
    return result


def run(write, read, system: SnnSystemParams, smap: SystemMapping, events,
        patience: int = 1000) -> tuple[list, dict]:
    """Loads `smap`, runs `events` (flat input addresses per timestep, in lockstep) and reads
    every core back, through `write(word)` and `read()` (the next output word, or None when
    none came in time): a board's UART bridge (`fpga.host.Bridge`: `bridge.write(0, word)`,
    `bridge.read(0)`) or a simulation. Returns the host's spikes per timestep (sorted) and
    `parse_readouts`. A read that stays empty `patience` times in a row is an error."""
    def next_out(what):
        for _ in range(patience):
            value = read()
            if value is not None:
                return parse_out(system, value)
        raise RuntimeError(f"{what}: no output word after {patience} reads")

    for value in load_program(system, smap):
        write(value)
    spikes = []
    for t, step in enumerate(events):
        for value in step_program(system, smap, step):
            write(value)
        got, ends = [], 0
        while ends < ends_per_step(smap):
            out = next_out(f"timestep {t}")
            if out.kind != SystemOut.SPIKE:
                raise RuntimeError(f"timestep {t}: unexpected output word {out}")
            end, address = spike_of(system, out)
            ends += end
            if not end:
                got.append(address)
        spikes.append(sorted(got))
    outs = []
    for value in read_program(system, smap):     # one answer per word: read as it comes
        write(value)
        outs.append(next_out("readout"))
    return spikes, parse_readouts(smap, outs)
