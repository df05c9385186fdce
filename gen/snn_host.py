"""Host-side programs for an accelerator core (`snn_core`): the words to send on its host port
to load a mapped network, run timesteps and read back counters and membranes, and what the
answers mean. The same programs drive the RTL in simulation and, through a bridge, a board."""

from dataclasses import dataclass

from .golden.cim import encode
from .mapper import descriptors, event_words
from .params.cim_macro import Counter, Op
from .params.snn import CoreCounter, HostOp, Mapping, SnnCoreParams


def load_program(core: SnnCoreParams, net, mapping: Mapping,
                 send: tuple | None = None) -> list[int]:
    """Host commands that load `mapping`: layer count, descriptors (`send`: as `descriptors`),
    buffer rows, the macro image (which also zeroes the membranes), then a CLEAR of every
    counter."""
    fmt = core.host_format
    words = [fmt.pack(op=HostOp.LAYERS, a=len(mapping.plans))]
    words += [fmt.pack(op=HostOp.LAYER, a=i, data=word)
              for i, word in enumerate(descriptors(net, mapping, core, send))]
    words += [fmt.pack(op=HostOp.BUFFER, a=row, data=bits)
              for row, bits in sorted(mapping.buffer_image.items())]
    words += [fmt.pack(op=HostOp.MACRO, data=encode(core.macro, Op.LOAD, row, 0, bits))
              for row, bits in sorted(mapping.macro_image.items())]
    words.append(fmt.pack(op=HostOp.MACRO, data=encode(core.macro, Op.CLEAR)))
    return words


def step_program(core: SnnCoreParams, net, events: list) -> list[int]:
    """Host commands that run one timestep per entry of `events` (flat input addresses)."""
    fmt = core.host_format
    return [word for step in events
            for word in [fmt.pack(op=HostOp.EVENT, a=w) for w in event_words(net, core, step)]
            + [fmt.pack(op=HostOp.STEP)]]


@dataclass
class Readout:
    """What `read_program` brings back: the macro's counters (by `Counter`), the core's (by
    `CoreCounter`), and every weighted layer's membrane rows (row bits as integers, group by
    group, `s_v` rows each) from the macro (resident) or the buffer (chunked)."""
    macro: list
    core: list
    membrane_rows: list


def read_program(core: SnnCoreParams, mapping: Mapping) -> list[int]:
    """Host commands whose read-data (`rdata`, in order) `parse_readout` turns into a
    `Readout`."""
    fmt = core.host_format
    words = [fmt.pack(op=HostOp.MACRO, data=encode(core.macro, Op.COUNTER, c)) for c in Counter]
    words += [fmt.pack(op=HostOp.COUNTER, a=c) for c in CoreCounter]
    for plan in mapping.plans:
        for r in range(plan.groups * plan.s_v):
            if plan.resident:
                words.append(fmt.pack(op=HostOp.MACRO,
                                      data=encode(core.macro, Op.STORE, plan.membrane_rows + r)))
            else:
                words.append(fmt.pack(op=HostOp.READ, a=plan.buffer_membranes + r))
    return words


def parse_readout(mapping: Mapping, words: list[int]) -> Readout:
    words = list(words)
    macro, words = words[:len(Counter)], words[len(Counter):]
    counters, words = words[:len(CoreCounter)], words[len(CoreCounter):]
    rows = []
    for plan in mapping.plans:
        count = plan.groups * plan.s_v
        rows.append(words[:count])
        words = words[count:]
    if words:
        raise ValueError(f"{len(words)} read-data words more than the readout asked for")
    return Readout(macro, counters, rows)
