"""Random command programs for the CIM macro, shared by the Amaranth and cocotb testbenches.

A program mixes layer configurations (random lane shapes, widths, overflow and reset modes),
LOADs of packed operands and of raw random rows, back-to-back ACCs (often on the same membrane
rows), FIREs right after ACCs, LOADs over rows in use, STOREs, counter reads and clears, and bad
commands of every kind. It ends by reading back every row it touched and every deterministic
counter, so comparing the read-data and spike streams with the model checks everything.
"""

import random
from dataclasses import dataclass

import numpy as np
from cimforge.golden.cim import (
    DETERMINISTIC,
    CimMacroModel,
    Counter,
    LayerConfig,
    Op,
    bits_to_int,
    encode,
    modes_for,
)
from cimforge.params.cim_macro import CimMacroParams


@dataclass
class Shape:
    widths: list
    gaps: list
    b_w: int
    b_v: int
    saturate: bool
    subtract: bool


def random_shape(params: CimMacroParams, rng: random.Random, *, lane_widths=None,
                 b_w=None, b_v=None, saturate=None, subtract=None) -> Shape:
    """Random lanes (one width, or an irregular mix with standby gaps) and operand widths;
    any of them can be fixed. Slice counts stay within max_slices and the rows."""
    cols = params.cols
    limit = max(1, min(params.max_slices, (params.rows - 2) // 3))     # slices per operand
    narrowest = max(1, -(-b_v // limit)) if b_v else 1
    widest = min(16, params.lane_limit)
    if lane_widths is None and params.lane_limit > 16 and rng.random() < 0.15:
        lane_widths = rng.randint(17, params.lane_limit)     # wide lanes, up to the whole row
    if lane_widths is None and narrowest > widest:
        raise ValueError(f"B_V = {b_v} does not fit this macro")
    # Sometimes lanes fill only part of the row: whole groups of standby columns at either end
    # (the columns' step flags are copied per group and cleared in standby groups).
    lead, end = 0, cols
    if rng.random() < 0.2:
        lead = rng.randrange(max(1, cols // 2))
        end = rng.randint(lead + (cols - lead) // 2, cols)
    widths, gaps, used = [], [], lead
    uniform = lane_widths is not None or rng.random() < 0.4
    base = lane_widths or rng.randint(narrowest, widest)
    while True:
        width = base if uniform else rng.randint(narrowest, widest)
        gap = 0 if uniform else rng.choice([0, 0, 0, 1, 2])
        if used + gap + width > end:
            break
        widths.append(width)
        gaps.append(gap)
        used += gap + width
    if widths:
        gaps[0] += lead
    else:
        widths, gaps = [min(base, cols)], [0]
    b_v = b_v or rng.randint(1, min(32, limit * min(widths)))
    b_w = b_w or rng.randint(1, min(16, b_v))
    return Shape(widths, gaps, b_w, b_v,
                 rng.random() < 0.5 if saturate is None else saturate,
                 rng.random() < 0.5 if subtract is None else subtract)


def config_of(shape: Shape, params: CimMacroParams) -> LayerConfig:
    return LayerConfig(modes_for(shape.widths, params.cols, shape.gaps), shape.b_w, shape.b_v,
                       shape.saturate, shape.subtract)


def bad_commands(params: CimMacroParams, rng: random.Random, n_slices: int) -> list[int]:
    rows = params.rows
    top = (1 << params.command_format["a"].width) - 1        # the largest row field
    past_end = rows - n_slices + 1                              # a walk from here runs off
    candidates = [
        encode(params, rng.randint(9, 15), rng.randint(0, top), rng.randint(0, top)),
        encode(params, Op.PLANE, min(top, params.planes + rng.randint(0, 3))),
        encode(params, Op.COUNTER, min(top, len(Counter) + rng.randint(0, 3))),
        encode(params, Op.COMMIT, min(top, params.max_slices + rng.randint(0, 3))),
    ]
    if past_end <= top:
        candidates += [encode(params, Op.ACC, past_end, 0), encode(params, Op.FIRE, 0, past_end)]
    if rows <= top:
        candidates += [encode(params, Op.LOAD, rows, 0, 1), encode(params, Op.STORE, top)]
    candidates = [[c] for c in candidates]
    if params.lane_limit < params.cols:
        # A lane one column wider than the macro was generated for: COMMIT must refuse it.
        wide = modes_for([params.lane_limit + 1], params.cols)
        candidates.append([encode(params, Op.PLANE, 0, 0, bits_to_int(wide & 1)),
                           encode(params, Op.PLANE, 1, 0, bits_to_int(wide >> 1)),
                           encode(params, Op.COMMIT, 0)])
    return rng.choice(candidates)


def raw_planes(params: CimMacroParams, rng: random.Random, modes) -> tuple[list[int], int]:
    """PLANE + COMMIT commands with valid modes but random pad/vlast/wlast planes and walk
    length: configurations no `LayerConfig` makes, which the macro must still run exactly."""
    sb, cols = params.slice_bits, params.cols
    n = rng.randint(1, min(params.max_slices, max(1, (params.rows - 2) // 3)))
    bits = [np.array(modes) & 1, np.array(modes) >> 1]
    bits += [np.array([rng.getrandbits(1) for _ in range(cols)]) for _ in range(1 + 2 * sb)]
    cmds = [encode(params, Op.PLANE, i, 0, bits_to_int(b)) for i, b in enumerate(bits)]
    flags = rng.getrandbits(2)
    return cmds + [encode(params, Op.COMMIT, n - 1, flags)], n


def program(params: CimMacroParams, rng: random.Random, *, layers: int = 2,
            events: int = 12, shape_kwargs=None, raw: float = 0.25) -> tuple[list[int], set]:
    """(commands, rows touched) for a random program."""
    cmds, touched = [], set()
    rows = params.rows

    def load(row, bits):
        cmds.append(encode(params, Op.LOAD, row, 0, bits_to_int(bits)))
        touched.add(row)

    for _ in range(layers):
        shape = random_shape(params, rng, **(shape_kwargs or {}))
        config = config_of(shape, params)
        n = config.n
        if 3 * n + 2 > rows:
            continue
        if rng.random() < raw:
            planes, n = raw_planes(params, rng, config.modes)
            cmds += planes
            v_row, th_row = rng.randrange(0, rows - n + 1), rng.randrange(0, rows - n + 1)
            w_row = rng.randrange(0, rows - n + 1)
            for row in {v_row + k for k in range(n)} | {th_row + k for k in range(n)} | \
                    {w_row + k for k in range(n)}:
                load(row, np.array([rng.getrandbits(1) for _ in range(params.cols)]))
            cmds += bad_commands(params, rng, n)
            for _ in range(events):
                cmds.append(encode(params, rng.choice([Op.ACC, Op.ACC, Op.FIRE]),
                                   *rng.choice([(w_row, v_row), (v_row, th_row)])))
            continue
        cmds += [encode(params, *c) for c in config.commands(params)]
        lanes = len(config.lanes)
        lo_v, hi_v = -(1 << (shape.b_v - 1)), (1 << (shape.b_v - 1)) - 1
        lo_w, hi_w = -(1 << (shape.b_w - 1)), (1 << (shape.b_w - 1)) - 1
        # Membranes at v_row, thresholds at th_row, weights of several inputs above them.
        v_row, th_row = rng.randrange(0, rows - n + 1), None
        for k, bits in enumerate(config.pack([rng.randint(lo_v, hi_v) for _ in range(lanes)],
                                             shape.b_v)):
            load(v_row + k, bits)
        th_row = rng.randrange(0, rows - n + 1)
        small = max(lo_v, -(1 << min(shape.b_v - 1, 4)))
        for k, bits in enumerate(config.pack([rng.randint(small, hi_v) for _ in range(lanes)],
                                             shape.b_v)):
            load(th_row + k, bits)
        w_rows = []
        for _ in range(rng.randint(1, 4)):
            w_row = rng.randrange(0, rows - n + 1)
            for k, bits in enumerate(config.pack([rng.randint(lo_w, hi_w)
                                                  for _ in range(lanes)], shape.b_w)):
                load(w_row + k, bits)
            w_rows.append(w_row)
        cmds += bad_commands(params, rng, n)
        for _ in range(events):
            r = rng.random()
            if r < 0.55:
                cmds.append(encode(params, Op.ACC, rng.choice(w_rows), v_row))
            elif r < 0.7:
                cmds.append(encode(params, Op.FIRE, v_row, th_row))
            elif r < 0.77:
                cmds.append(encode(params, Op.STORE, rng.randrange(rows)))
            elif r < 0.82:     # raw random bits, over a row that may be in use
                load(rng.randrange(rows), np.array([rng.getrandbits(1)
                                                    for _ in range(params.cols)]))
            elif r < 0.88:
                cmds += bad_commands(params, rng, n)
            elif r < 0.92:
                cmds.append(encode(params, Op.COUNTER, rng.choice(DETERMINISTIC)))
            elif r < 0.94:
                cmds.append(encode(params, Op.CLEAR))
            else:
                cmds.append(encode(params, Op.NOP))
    for row in sorted(touched):
        cmds.append(encode(params, Op.STORE, row))
    cmds += [encode(params, Op.COUNTER, c) for c in DETERMINISTIC]
    return cmds, touched


def busy_readout(params: CimMacroParams) -> list[int]:
    """Commands that end a program by reading WAITS, then BUSY. BUSY - WAITS equals the
    model's BUSY only if BUSY's read does not wait after WAITS was read: the NOPs first let
    the read-data credits of earlier reads come back (a read's word reaches the read-data
    queue four cycles after issue, and a small queue would make the second read wait)."""
    return [encode(params, Op.NOP)] * 6 + [encode(params, Op.COUNTER, Counter.WAITS),
                                           encode(params, Op.COUNTER, Counter.BUSY)]


def expected(params: CimMacroParams, cmds: list[int]) -> CimMacroModel:
    model = CimMacroModel(params)
    model.run(cmds)
    return model
