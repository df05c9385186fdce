"""Bit-exact model of the FlexSpIM-style CIM macro (`cimforge.hdl.cim.macro`), and its host side.

The contract (also in docs/cim-macro.md):

* **Array.** `rows x cols` bits; rows hold weights, membranes and thresholds alike.
* **Lanes.** Per column a 2-bit mode: STANDBY (0), LSB (1), PROP (2), MSB (3). A lane is LSB
  PROP* MSB, or a lone MSB (1-bit lane). A mode vector is valid iff every LSB and PROP column is
  followed by a PROP or MSB column and every PROP column follows an LSB or PROP column, and no
  lane is wider than `max_lane` columns (a generation parameter; 0 = the whole row).
* **Layer configuration planes** (per column, written with PLANE commands, activated by COMMIT):
  mode, `pad`, `vlast` (index of the lane's top membrane slice), `wlast` (top weight slice).
  `LayerConfig` derives them from modes and the widths B_W, B_V; COMMIT also sets the walk
  length n (slices per pass), the overflow mode and the reset mode. COMMIT rejects (drops and
  counts) an invalid mode vector or n out of range, and the previous configuration stays.
* **Operands.** A B-bit two's-complement value in a lane of width N occupies S = ceil(B/N)
  consecutive rows, slice 0 least significant; bits above B-1 in the top slice are copies of
  the sign (`pack`/`unpack`).
* **Slice step** (one per clock, per lane): res = V_s + O_s + carry, the carry into slice 0 is
  0 (ACC) or 1 (FIRE: O = ~TH), then carried in the lane's carry latch (the carry out of the
  lane's MSB column). In the lane's top membrane slice, the carry into a PAD column (never the
  lane's LSB) is the carry into the column below it instead of that column's carry out, so the
  pads repeat the sum of bit B_V - 1 (their operand bits are sign copies): the sign is
  re-extended and the result is (V + W) mod 2^B_V whatever the shape.
  A column is active at slice s iff it is not STANDBY and s <= vlast; inactive columns keep
  their bits. The ACC operand bit is W[w_row + s] while s <= wlast, then the lane's weight sign
  (latched from the lane's MSB column at each s <= wlast).
* **ACC(w_row, v_row)** walks s = 0..n-1. Wrap: done. Saturate: the lane's overflow (operand
  and old membrane signs equal, result sign different, at the lane's top slice) is latched;
  after four bubble cycles (three for the flags, one for their OR, registered in groups of 16
  columns) and a fifth that decides, if any lane overflowed, a fix-up walk
  s = 0..n-1 writes the clamped value (most positive or most negative B_V-bit value, by the
  old membrane sign) into every active slice of the overflowed lanes. Saturation is exact; it
  costs five bubble cycles per saturate-mode ACC, and n cycles more when a lane overflows.
* **FIRE(v_row, th_row)** compares V against the threshold rows TH (per lane, so thresholds
  may differ per neuron): pass 1 walks V - TH without writing and latches, at the lane's top
  slice, fired = V >= TH (signed). Pass 2 walks again and writes fired lanes: zero (reset to
  zero) or V - TH (subtract; wraps). Spikes: the MSB column index of each fired lane, lowest
  first, on the spike stream.
* **Commands** (s_axis_cmd_tdata: op, a, b, data, LSB first, as
  `CimMacroParams.command_format` defines them): see `Op`. Bad commands (unknown op, row or plane out of range, a walk
  that would run past the last row) are dropped and counted.
"""

import collections
from dataclasses import dataclass, field

import numpy as np

from ..params.cim_macro import (
    COMMIT_FLAGS,
    LSB,
    MSB,
    PROP,
    SATURATE_BUBBLES,
    STANDBY,
    CimMacroParams,
    Counter,
    Op,
)
from .cim_batch import AccBatch, LaneView

DETERMINISTIC = [c for c in Counter if c not in (Counter.BUSY, Counter.WAITS)]


def modes_valid(modes, lane_limit: int | None = None) -> bool:
    """Every lane LSB PROP* MSB or a lone MSB, and (with `lane_limit`) none wider than
    `lane_limit` columns."""
    modes = np.asarray(modes)
    nxt = np.append(modes[1:], STANDBY)
    prev = np.insert(modes[:-1], 0, STANDBY)
    opens = (modes == LSB) | (modes == PROP)
    ok_next = ~opens | (nxt == PROP) | (nxt == MSB)
    ok_prev = (modes != PROP) | (prev == LSB) | (prev == PROP)
    if not np.all(ok_next & ok_prev):
        return False
    return lane_limit is None or all(msb - lsb < lane_limit for lsb, msb in lanes_of(modes))


def lanes_of(modes) -> list[tuple[int, int]]:
    """(lsb column, msb column) of every lane of a valid mode vector, in column order."""
    lanes, start = [], None
    for c, mode in enumerate(modes):
        if mode == LSB:
            start = c
        elif mode == MSB:
            lanes.append((c if start is None else start, c))
            start = None
    return lanes


def modes_for(widths: list[int], cols: int, gaps: list[int] | None = None) -> np.ndarray:
    """A mode vector with lanes of the given widths, from column 0 up, `gaps[i]` standby
    columns before lane i; the rest of the row standby."""
    if any(int(w) < 1 for w in widths):
        raise ValueError(f"lane widths must be at least 1 column, got {list(widths)}")
    if gaps is not None and (len(gaps) != len(widths) or any(int(g) < 0 for g in gaps)):
        raise ValueError(f"gaps must be one count >= 0 per lane, got {list(gaps)} for "
                         f"{len(widths)} lanes")
    modes = np.zeros(cols, dtype=np.uint8)
    c = 0
    for i, width in enumerate(widths):
        c += gaps[i] if gaps else 0
        if c + width > cols:
            raise ValueError(f"lanes of widths {widths} do not fit in {cols} columns")
        modes[c:c + width] = [LSB] + [PROP] * (width - 2) + [MSB] if width > 1 else [MSB]
        c += width
    return modes


@dataclass(frozen=True)
class LayerConfig:
    """Per-layer run-time configuration, and the planes it loads into the macro."""

    modes: np.ndarray
    b_w: int
    b_v: int
    saturate: bool = False
    subtract: bool = False
    lanes: list = field(init=False)

    def __post_init__(self):
        modes = np.asarray(self.modes, dtype=np.uint8)
        object.__setattr__(self, "modes", modes)
        if not modes_valid(modes):
            raise ValueError("invalid mode vector: every LSB/PROP column must be followed by "
                             "PROP or MSB, every PROP must follow LSB or PROP")
        if not 1 <= self.b_w <= self.b_v:
            raise ValueError(f"need 1 <= B_W <= B_V, got B_W = {self.b_w}, B_V = {self.b_v}")
        object.__setattr__(self, "lanes", lanes_of(modes))
        if not self.lanes:
            raise ValueError("the mode vector has no lane")

    def slices(self, bits: int, width: int) -> int:
        return -(-bits // width)

    @property
    def n(self) -> int:
        """Walk length: the most membrane slices of any lane."""
        return max(self.slices(self.b_v, m - l + 1) for l, m in self.lanes)

    def planes(self, params: CimMacroParams) -> dict[str, np.ndarray]:
        cols = len(self.modes)
        vlast = np.zeros(cols, dtype=np.int64)
        wlast = np.zeros(cols, dtype=np.int64)
        pad = np.zeros(cols, dtype=np.uint8)
        for lsb, msb in self.lanes:
            width = msb - lsb + 1
            s_v, s_w = self.slices(self.b_v, width), self.slices(self.b_w, width)
            vlast[lsb:msb + 1] = s_v - 1
            wlast[lsb:msb + 1] = s_w - 1
            sign_offset = self.b_v - 1 - (s_v - 1) * width
            pad[lsb + sign_offset + 1:msb + 1] = 1
        if vlast.max() >= params.max_slices:
            raise ValueError(f"B_V = {self.b_v} needs {vlast.max() + 1} slices in some lane; "
                             f"this macro allows {params.max_slices}")
        return {"mode": self.modes, "pad": pad, "vlast": vlast, "wlast": wlast}

    def commands(self, params: CimMacroParams) -> list[tuple]:
        """The PLANE and COMMIT commands that load this configuration."""
        widest = max(msb - lsb + 1 for lsb, msb in self.lanes)
        if widest > params.lane_limit:
            raise ValueError(f"a lane is {widest} columns wide; this macro was generated for "
                             f"lanes of at most max_lane = {params.lane_limit}")
        planes = self.planes(params)
        words = column_words(params, planes)
        cmds = [(Op.PLANE, i, 0, bits_to_int((words >> i) & 1)) for i in range(params.planes)]
        flags = COMMIT_FLAGS.pack(saturate=self.saturate, subtract=self.subtract)
        cmds.append((Op.COMMIT, self.n - 1, flags, 0))
        return cmds

    def pack(self, values, bits: int) -> np.ndarray:
        """Rows (S_max x cols bits) holding one `bits`-bit value per lane, sign-extended; rows
        of a lane beyond its own slice count are zero."""
        values = np.asarray(values, dtype=np.int64)
        if values.shape != (len(self.lanes),):
            raise ValueError(f"pack takes one value per lane ({len(self.lanes)}), got shape "
                             f"{values.shape}")
        if bits < 1:
            raise ValueError(f"bits = {bits}; a value takes at least 1 bit")
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        if (values < lo).any() or (values > hi).any():
            raise ValueError(f"values {values.tolist()} do not fit in {bits}-bit two's "
                             f"complement ({lo}..{hi})")
        n = max(self.slices(bits, m - l + 1) for l, m in self.lanes)
        rows = np.zeros((n, len(self.modes)), dtype=np.uint8)
        for (lsb, msb), value in zip(self.lanes, values):
            width = msb - lsb + 1
            s = self.slices(bits, width)
            raw = int(value) & ((1 << (s * width)) - 1)       # sign-extended to s*width bits
            for k in range(s):
                chunk = (raw >> (k * width)) & ((1 << width) - 1)
                rows[k, lsb:msb + 1] = [(chunk >> i) & 1 for i in range(width)]
        return rows

    def unpack(self, rows: np.ndarray, bits: int) -> np.ndarray:
        """Per-lane signed values from stored rows (the inverse of `pack`)."""
        out = []
        for lsb, msb in self.lanes:
            width = msb - lsb + 1
            raw = 0
            for k in range(self.slices(bits, width)):
                chunk = sum(int(b) << i for i, b in enumerate(rows[k, lsb:msb + 1]))
                raw |= chunk << (k * width)
            raw &= (1 << bits) - 1
            out.append(raw - (1 << bits) if raw >> (bits - 1) else raw)
        return np.array(out, dtype=np.int64)


def bits_to_int(bits) -> int:
    """Bit i of the result is bits[i] (0 or 1)."""
    packed = np.packbits(np.asarray(bits, dtype=np.uint8), bitorder="little")
    return int.from_bytes(packed.tobytes(), "little")


def int_to_bits(value: int, width: int) -> np.ndarray:
    """The low `width` bits of `value`, bit i at index i."""
    raw = (int(value) & ((1 << width) - 1)).to_bytes(-(-width // 8), "little")
    return np.unpackbits(np.frombuffer(raw, dtype=np.uint8), bitorder="little")[:width].copy()


def column_words(params: CimMacroParams, planes: dict[str, np.ndarray]) -> np.ndarray:
    """Each column's configuration word (`column_format`) from per-column field arrays."""
    fmt = params.column_format
    words = np.zeros(params.cols, dtype=np.int64)
    for f in fmt.fields:
        words |= np.asarray(planes[f.name], dtype=np.int64) << fmt.offset(f.name)
    return words


def column_fields(params: CimMacroParams, words: np.ndarray) -> dict[str, np.ndarray]:
    """The inverse of `column_words`."""
    fmt = params.column_format
    words = np.asarray(words, dtype=np.int64)
    return {f.name: (words >> fmt.offset(f.name)) & ((1 << f.width) - 1) for f in fmt.fields}


def encode(params: CimMacroParams, op, a=0, b=0, data=0) -> int:
    """One command word; a field that does not fit raises `FormatError`."""
    return params.command_format.pack(op=op, a=a, b=b, data=data)


def decode(params: CimMacroParams, word: int) -> tuple[int, int, int, int]:
    """(op, a, b, data) of a command word."""
    f = params.command_format.unpack(word)
    return f["op"], f["a"], f["b"], f["data"]


class CimMacroModel:
    """The macro, command by command: array, configuration, counters and outputs.

    `execute(word)` takes one encoded command. Outputs accumulate in `rdata` (STORE rows as
    ints, COUNTER values) and `spikes` (MSB column indices). WAITS depends on the
    environment's timing (how fast the outputs are taken) and is not modelled: the model's
    BUSY counts issue cycles and bubbles, the hardware's BUSY adds WAITS to that. Stage-A
    counters (BUSY, WAITS, BUBBLES) land one cycle late in hardware, so a COUNTER read never
    includes its own cycle and CLEAR starts them from the next command.
    """

    def __init__(self, params: CimMacroParams):
        self.p = params
        cols = params.cols
        self.array = np.zeros((params.rows, cols), dtype=np.uint8)
        self.shadow = np.zeros((params.planes, cols), dtype=np.uint8)
        self.mode = np.zeros(cols, dtype=np.uint8)
        self.pad = np.zeros(cols, dtype=np.uint8)
        self.vlast = np.zeros(cols, dtype=np.int64)
        self.wlast = np.zeros(cols, dtype=np.int64)
        self.n = 1
        self.saturate = self.subtract = False
        self.counters = np.zeros(len(Counter), dtype=object)
        self.counters[:] = 0
        self.rdata: list[int] = []
        self.spikes: list[int] = []
        self.executed: collections.Counter = collections.Counter()   # accepted commands by op
        # Per-column latches (meaningful where the hardware keeps them).
        self.carry = np.zeros(cols, dtype=np.uint8)      # at MSB columns
        self.wsign = np.zeros(cols, dtype=np.uint8)      # every column
        self._views: dict = {}                           # `LaneView`s by configuration
        self._structure()

    # -- lane structure of the active configuration -------------------------------------
    def _structure(self):
        cols = self.p.cols
        self.lsb_of = np.full(cols, -1)
        self.msb_of = np.full(cols, -1)
        for lsb, msb in lanes_of(self.mode):
            self.lsb_of[lsb:msb + 1] = lsb
            self.msb_of[lsb:msb + 1] = msb
        lane = self.lsb_of >= 0
        offset = np.where(lane, np.arange(cols) - self.lsb_of, -1)
        width = np.max(offset) + 1 if lane.any() else 0
        self.by_offset = [np.flatnonzero(offset == k) for k in range(width)]
        self.lane = lane
        self.epad = (self.pad == 1) & lane & (offset > 0)
        above = np.append(self.epad[1:], False) & (np.append(self.lsb_of[1:], -2) == self.lsb_of)
        self.signpos = lane & ~self.epad & ((np.arange(cols) == self.msb_of) | above)
        self.msbs = np.flatnonzero(lane & (np.arange(cols) == self.msb_of))

    def _add(self, v, o, cin_first: int, s: int):
        """One slice step: (result bits, carry out of every column)."""
        cols = self.p.cols
        carry_out = np.zeros(cols, dtype=np.uint8)
        total = np.zeros(cols, dtype=np.uint8)
        carry_in = np.zeros(cols, dtype=np.uint8)
        passthru = self.epad & (self.vlast == s)       # pads of the top slice
        for k, cs in enumerate(self.by_offset):
            if k == 0:
                ci = np.full(len(cs), cin_first, dtype=np.uint8) if s == 0 \
                    else self.carry[self.msb_of[cs]]
            else:
                # A pad in the top slice takes the carry into the column below it.
                ci = np.where(passthru[cs], carry_in[cs - 1], carry_out[cs - 1])
            carry_in[cs] = ci
            total[cs] = v[cs] ^ o[cs] ^ ci
            carry_out[cs] = (v[cs] & o[cs]) | (v[cs] & ci) | (o[cs] & ci)
        return total, carry_out

    def _count_row_op(self, s: int):
        active = int(np.count_nonzero(self.lane & (s <= self.vlast)))
        self.counters[Counter.ACTIVE_COLS] += active
        self.counters[Counter.IDLE_COLS] += self.p.cols - active

    def _acc(self, w_row: int, v_row: int):
        n = self.n
        ovf = np.zeros(self.p.cols, dtype=bool)
        vsign = np.zeros(self.p.cols, dtype=np.uint8)
        for s in range(n):
            v = self.array[v_row + s].copy()
            w = self.array[w_row + s].copy()
            o = np.where(s <= self.wlast, w, self.wsign).astype(np.uint8)
            result, carry_out = self._add(v, o, 0, s)
            active = self.lane & (s <= self.vlast)
            self.array[v_row + s] = np.where(active, result, v)
            m = self.msbs
            top = self.vlast[m] == s
            overflow = (v[m] == o[m]) & (result[m] != v[m])
            ovf[m] = np.where(top, overflow, ovf[m] & (s != 0))
            vsign[m] = np.where(top, v[m], vsign[m])
            self.carry[m] = carry_out[m]
            latch = self.lane & (s <= self.wlast)
            self.wsign = np.where(latch, w[np.maximum(self.msb_of, 0)], self.wsign)
            self._count_row_op(s)
        self.counters[Counter.ACC_EVENTS] += 1
        self.counters[Counter.ACC_SLICES] += n
        self._busy(n)
        if not self.saturate:
            return
        # Cycles waiting for the overflow flags and their OR, one deciding whether to fix up.
        self.counters[Counter.BUBBLES] += SATURATE_BUBBLES
        self._busy(SATURATE_BUBBLES)
        if not ovf[self.msbs].any():
            return
        lane_ovf = ovf[np.maximum(self.msb_of, 0)] & self.lane
        lane_sign = vsign[np.maximum(self.msb_of, 0)]
        for s in range(n):
            v = self.array[v_row + s]
            top = self.vlast == s
            high = top & (self.epad | self.signpos)
            clamp = np.where(high, lane_sign, 1 - lane_sign).astype(np.uint8)
            write = lane_ovf & (s <= self.vlast)
            self.array[v_row + s] = np.where(write, clamp, v)
            self._count_row_op(s)
        self.counters[Counter.ACC_SLICES] += n
        self._busy(n)

    def _busy(self, cycles: int):
        self.counters[Counter.BUSY] += cycles

    def _fire(self, v_row: int, th_row: int):
        n = self.n
        fired = np.zeros(self.p.cols, dtype=bool)
        for write in (False, True):
            for s in range(n):
                v = self.array[v_row + s].copy()
                th = self.array[th_row + s].copy()
                result, carry_out = self._add(v, 1 - th, 1, s)
                m = self.msbs
                if not write:
                    top = self.vlast[m] == s
                    ge = np.where(v[m] != th[m], v[m] == 0, result[m] == 0)
                    fired[m] = np.where(top, ge, fired[m] & (s != 0))
                else:
                    lane_fired = fired[np.maximum(self.msb_of, 0)] & self.lane
                    new = result if self.subtract else np.zeros_like(result)
                    active = lane_fired & (s <= self.vlast)
                    self.array[v_row + s] = np.where(active, new, v)
                self.carry[m] = carry_out[m]
                self._count_row_op(s)
        self.counters[Counter.FIRE_SLICES] += 2 * n
        self._busy(2 * n)
        spikes = [int(c) for c in self.msbs if fired[c]]
        self.spikes += spikes
        self.counters[Counter.SPIKES] += len(spikes)

    def _commit(self, n: int, flags: int) -> bool:
        words = self.shadow.T.astype(np.int64) @ (1 << np.arange(len(self.shadow)))
        config = column_fields(self.p, words)
        mode = config["mode"].astype(np.uint8)
        if not 1 <= n <= self.p.max_slices or not modes_valid(mode, self.p.lane_limit):
            return False
        self.mode = mode
        self.pad = config["pad"].astype(np.uint8)
        self.vlast, self.wlast = config["vlast"], config["wlast"]
        self.n = n
        flags = COMMIT_FLAGS.unpack(flags)
        self.saturate, self.subtract = bool(flags["saturate"]), bool(flags["subtract"])
        self._structure()
        return True

    def execute(self, word: int) -> None:
        op, a, b, data = decode(self.p, word)
        rows, n = self.p.rows, self.n
        ok = True
        if op == Op.NOP:
            pass
        elif op == Op.LOAD and a < rows:
            self.array[a] = int_to_bits(data, self.p.cols)
            self.counters[Counter.LOADS] += 1
        elif op == Op.STORE and a < rows:
            self.rdata.append(bits_to_int(self.array[a]))
            self.counters[Counter.STORES] += 1
        elif op == Op.ACC and a + n <= rows and b + n <= rows:
            self.executed[Op.ACC] += 1
            self._acc(a, b)
            return
        elif op == Op.FIRE and a + n <= rows and b + n <= rows:
            self.executed[Op.FIRE] += 1
            self._fire(a, b)
            return
        elif op == Op.PLANE and a < len(self.shadow):
            self.shadow[a] = int_to_bits(data, self.p.cols)
        elif op == Op.COMMIT:
            ok = self._commit(a + 1, b)
        elif op == Op.COUNTER and a < len(Counter):
            self.rdata.append(int(self.counters[a]) % (1 << self.p.counter_width))
        elif op == Op.CLEAR:
            self.counters[:] = 0
            self.executed[Op.CLEAR] += 1
            return                                # its own cycle is not counted
        else:
            ok = False
        if not ok:
            self.counters[Counter.DROPPED] += 1
        self.executed[Op(op) if ok else "dropped"] += 1
        self._busy(1)

    def run(self, words) -> None:
        """Execute these command words in order; the same as `execute` on each, faster: runs of
        ACCs (and LOADs beside them) go through `cim_batch.AccBatch`."""
        words = list(words)
        fmt = self.p.command_format
        low = np.fromiter((w & ((1 << 64) - 1) for w in words), np.uint64, len(words))
        field = {f.name: ((low >> np.uint64(fmt.offset(f.name)))
                          & np.uint64((1 << f.width) - 1)).astype(np.int64).tolist()
                 for f in fmt.fields if f.name != "data"}
        rows, batch = self.p.rows, self._batch()
        for word, op, a, b in zip(words, field["op"], field["a"], field["b"]):
            if batch is not None:
                if op == Op.ACC and a + self.n <= rows and b + self.n <= rows \
                        and batch.add(a, b):
                    continue
                if op == Op.LOAD and a < rows and not batch.touches(a):
                    self.execute(word)
                    continue
                batch.flush()
            self.execute(word)
            if op == Op.COMMIT:
                batch = self._batch()
        if batch is not None:
            batch.flush()

    def _batch(self):
        """A batch for the active configuration, or None where only `execute` is exact."""
        key = (self.n, self.mode.tobytes(), self.pad.tobytes(), self.vlast.tobytes(),
               self.wlast.tobytes())
        if key not in self._views:             # layers switch between a few configurations
            try:
                self._views[key] = LaneView(self)
            except ValueError:
                self._views[key] = None
        view = self._views[key]
        return None if view is None else AccBatch(self, view)


def if_layer(v: np.ndarray, w: np.ndarray, spikes_in, threshold, b_v: int,
             subtract: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Layer-level reference for one integrate-and-fire timestep with wrap-around membranes:
    V += sum of W rows of the input spikes (mod 2^B_V), fire where V >= threshold, reset.
    `v` (neurons,), `w` (inputs, neurons); returns (new V, fired mask)."""
    v = np.asarray(v, dtype=np.int64) + np.asarray(w, dtype=np.int64)[list(spikes_in)].sum(axis=0)
    v = wrap(v, b_v)
    fired = v >= threshold
    v = np.where(fired, wrap(v - threshold, b_v) if subtract else 0, v)
    return v, fired


def wrap(values, bits: int):
    values = np.asarray(values, dtype=np.int64)
    return ((values + (1 << (bits - 1))) % (1 << bits)) - (1 << (bits - 1))


def saturate(values, bits: int):
    return np.clip(values, -(1 << (bits - 1)), (1 << (bits - 1)) - 1)
