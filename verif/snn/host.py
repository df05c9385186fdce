"""Host-side programs for an accelerator core: what to send on its host port to load a mapped
network and run timesteps."""

from cimforge.golden.cim import encode
from cimforge.mapper import descriptors, event_words
from cimforge.params.cim_macro import Op
from cimforge.params.snn import HostOp, SnnCoreParams


def load_program(core: SnnCoreParams, net, mapping) -> list[int]:
    """Host commands that load `mapping`: layer count, descriptors, buffer rows, and the macro
    image (which also zeroes the resident membranes)."""
    fmt = core.host_format
    words = [fmt.pack(op=HostOp.LAYERS, a=len(mapping.plans))]
    words += [fmt.pack(op=HostOp.LAYER, a=i, data=word)
              for i, word in enumerate(descriptors(net, mapping, core))]
    words += [fmt.pack(op=HostOp.BUFFER, a=row, data=bits)
              for row, bits in sorted(mapping.buffer_image.items())]
    words += [fmt.pack(op=HostOp.MACRO, data=encode(core.macro, Op.LOAD, row, 0, bits))
              for row, bits in sorted(mapping.macro_image.items())]
    return words


def step_program(core: SnnCoreParams, net, events: list) -> list[int]:
    """Host commands that run one timestep per entry of `events` (flat input addresses)."""
    fmt = core.host_format
    return [word for step in events
            for word in [fmt.pack(op=HostOp.EVENT, a=w) for w in event_words(net, core, step)]
            + [fmt.pack(op=HostOp.STEP)]]
