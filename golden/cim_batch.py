"""The CIM macro model's fast path: runs of wrap-mode ACCs as integer additions, many at once.

`CimMacroModel.execute` walks every ACC slice by slice and column by column, as the hardware
does. In wrap mode that walk is an integer addition per lane: a lane of N columns whose top
walked slice is e holds, in its non-pad bits (slices 0..e-1 whole, then columns 0..k of slice
e), the integer V' of T = e N + k + 1 bits, slice-major; the ACC adds the operand O' (the
weight rows' bits at the same places, each slice above `wlast` filled with the weight's sign
bit) modulo 2^T. A pad column p of the top slice takes the carry into the sign column k, so
it becomes o_p ^ v_p ^ c_k = r_k ^ (v_p ^ v_k) ^ (o_p ^ o_k): its difference from the sign
column changes by the operand's difference, whatever the carries. So any number of ACCs into
one membrane group is one sum and one XOR per lane, and ACCs into different groups do not
interact as long as none reads a row another one of the batch writes.

In saturate mode the order matters within a group: the batch then adds event by event (across
lanes at once), checking each lane's overflow as the hardware does, at the lane's MSB column
(a pad, where the lane has pads: its old bit, the operand's and the new one are the sign
column's XOR their deviations) and clamping overflowed lanes, which also makes their pads
sign copies again.

`AccBatch` collects such ACCs (and LOADs into rows the batch does not touch) and applies them
with a few numpy operations; anything else (lanes wider than 64 bits or pads
that are not the top columns of their lane, configurations changed by PLANE/COMMIT, FIRE,
STORE, COUNTER, ...) flushes the batch and goes through `execute`. The test
(verif/cim/test_golden.py) runs random command streams, malformed rows and configurations
included, both ways and requires every bit, counter and output to agree.
"""

from typing import NamedTuple

import numpy as np

from ..params.cim_macro import SATURATE_BUBBLES, Counter, Op

MAX_LANE_BITS = 64          # a lane's value must fit an unsigned 64-bit integer


class _Lane(NamedTuple):
    lsb: int
    msb: int
    vlast: int
    top: int            # the top slice the walk reaches: vlast, or n - 1 if that is lower
    wlast: int
    wtop: int           # likewise for the weight
    sign: int           # offset of the top slice's sign column (the pads are above it)
    pads: np.ndarray    # offsets of the pads, if the walk reaches vlast

    @property
    def bits(self) -> int:
        return self.top * (self.msb - self.lsb + 1) + self.sign + 1


class LaneView:
    """The active configuration's lanes as integers: where each value bit lives."""

    def __init__(self, model):
        p, n = model.p, model.n
        self.n = n
        lanes = []
        for lsb in np.flatnonzero(model.lane & (model.lsb_of == np.arange(p.cols))):
            msb = int(model.msb_of[lsb])
            columns = np.arange(lsb, msb + 1)
            vlast, wlast = set(model.vlast[columns]), set(model.wlast[columns])
            if len(vlast) != 1 or len(wlast) != 1:
                raise ValueError("slice limits differ inside a lane")
            vlast, wlast = int(vlast.pop()), int(wlast.pop())
            top = min(vlast, n - 1)
            pads = np.flatnonzero(model.epad[columns]) if top == vlast else np.array([], int)
            sign = len(columns) - 1 - len(pads)        # the sign column's offset
            if len(pads) and pads.tolist() != list(range(sign + 1, len(columns))):
                raise ValueError("pads are not the top columns of their lane")
            width = top * len(columns) + sign + 1
            if width > MAX_LANE_BITS:
                raise ValueError("a lane holds more than 64 bits")
            lanes.append(_Lane(int(lsb), msb, vlast, top, wlast, min(wlast, n - 1), sign, pads))
        if not lanes:
            raise ValueError("no lane")
        count, bits = len(lanes), max(lane.bits for lane in lanes)
        pad_count = max(1, max(len(lane.pads) for lane in lanes))
        # Value bit t of lane l: membrane bit at (row offset v_slice, column col), operand bit
        # at (w_slice, w_col); `used` masks the bits beyond the lane's width.
        self.v_slice = np.zeros((count, bits), np.int64)
        self.col = np.zeros((count, bits), np.int64)
        self.w_slice = np.zeros((count, bits), np.int64)
        self.w_col = np.zeros((count, bits), np.int64)
        self.used = np.zeros((count, bits), bool)
        self.width = np.zeros(count, np.uint64)
        # Pads: column and its slice; the sign column beside them.
        self.pad_col = np.zeros((count, pad_count), np.int64)
        self.pad_used = np.zeros((count, pad_count), bool)
        self.top = np.zeros(count, np.int64)
        self.sign_col = np.zeros(count, np.int64)
        self.pad_w_slice = np.zeros(count, np.int64)
        self.pad_w_from_sign = np.zeros(count, bool)
        self.reached = np.zeros(count, bool)       # the walk reaches the lane's top slice
        self.msb_pad = np.zeros(count, np.int64)   # the MSB column's pad index, if a pad
        self.msb_is_pad = np.zeros(count, bool)
        for index, (lsb, msb, vlast, top, wlast, wtop, sign, pads) in enumerate(lanes):
            width = msb - lsb + 1
            t = np.arange(top * width + sign + 1)
            s, k = t // width, t % width
            above = s > wlast                      # the weight's sign bit, latched at wlast
            self.v_slice[index, t], self.col[index, t] = s, lsb + k
            self.w_slice[index, t] = np.where(above, wtop, s)
            self.w_col[index, t] = np.where(above, msb, lsb + k)
            self.used[index, t] = True
            self.width[index] = len(t)
            self.top[index], self.sign_col[index] = top, lsb + sign
            self.pad_col[index, :len(pads)] = lsb + pads
            self.pad_used[index, :len(pads)] = True
            self.pad_w_slice[index] = min(top, wtop)
            self.pad_w_from_sign[index] = top > wlast
            self.reached[index] = top == vlast
            self.msb_pad[index] = max(0, len(pads) - 1)
            self.msb_is_pad[index] = len(pads) > 0
        self.shift = np.arange(bits, dtype=np.uint64)
        active = sum(int(np.count_nonzero(model.lane & (s <= model.vlast))) for s in range(n))
        self.active_cols, self.idle_cols = active, p.cols * n - active

    def values(self, array, rows, slices, cols):
        """Per row offset in `rows` (R,) the lanes' integers (R, lanes) from bit positions."""
        bits = array[rows[:, None, None] + slices, cols] & self.used
        return (bits.astype(np.uint64) << self.shift).sum(axis=-1, dtype=np.uint64)

    def pad_deviation(self, array, rows, slices, sign_cols):
        """Pad bit XOR the sign column's bit beside it (R, lanes, pads)."""
        slices = np.asarray(slices)
        pads = array[(rows[:, None] + slices)[:, :, None], self.pad_col]
        signs = array[rows[:, None] + slices, sign_cols]
        return (pads ^ signs[:, :, None]) & self.pad_used

    def operand_pad_deviation(self, array, rows):
        """The operand's pad deviation: its bits at the pad columns above `wlast` are all the
        weight's sign, so they deviate by nothing there."""
        slices = np.broadcast_to(self.pad_w_slice, (len(rows), len(self.top)))
        dev = self.pad_deviation(array, rows, slices, self.sign_col)
        return dev & ~self.pad_w_from_sign[:, None]


class AccBatch:
    """Pending ACCs of one configuration: (weight row, membrane row) pairs whose membrane
    ranges are equal or disjoint and never read as weights within the batch."""

    def __init__(self, model, view: LaneView):
        self.model, self.view, self.n = model, view, view.n
        self.span = (1 << self.n) - 1
        self.w_rows: list[int] = []
        self.v_rows: list[int] = []
        self.groups: set[int] = set()
        self.reads = self.writes = 0          # row bitmasks of the pending ACCs

    def add(self, w_row: int, v_row: int) -> bool:
        """Take a valid ACC; False if it must run on its own (it reads what it writes)."""
        n, span = self.n, self.span
        if (self.writes >> w_row) & span or \
                (v_row not in self.groups and (self.writes >> v_row) & span):
            self.flush()
        if abs(w_row - v_row) < n:
            return False
        self.w_rows.append(w_row)
        self.v_rows.append(v_row)
        if v_row not in self.groups:
            self.groups.add(v_row)
            self.writes |= span << v_row
        self.reads |= span << w_row
        return True

    def touches(self, row: int) -> bool:
        return bool(((self.reads | self.writes) >> row) & 1)

    def flush(self) -> None:
        if not self.w_rows:
            return
        model, view = self.model, self.view
        array = model.array
        w_rows = np.array(self.w_rows, np.int64)
        groups, group_of = np.unique(np.array(self.v_rows, np.int64), return_inverse=True)
        operands, operand_of = np.unique(w_rows, return_inverse=True)
        o = view.values(array, operands, view.w_slice, view.w_col)
        o_dev = view.operand_pad_deviation(array, operands)
        v = view.values(array, groups, view.v_slice, view.col)
        dev = view.pad_deviation(array, groups, view.top, view.sign_col)
        fixups = 0
        if model.saturate:
            fixups = self._saturating(v, dev, o, o_dev, group_of, operand_of)
        else:
            np.add.at(v, group_of, o[operand_of])   # modulo 2^64; bits above a lane's unused
            np.bitwise_xor.at(dev, group_of, o_dev[operand_of])
        # Write the lanes back: value bits, then pads = the new sign bit ^ their deviation.
        bits = ((v[:, :, None] >> view.shift) & np.uint64(1)).astype(np.uint8)
        rows = groups[:, None, None] + view.v_slice
        cols = np.broadcast_to(view.col, rows.shape)
        used = np.broadcast_to(view.used, rows.shape)
        array[rows[used], cols[used]] = bits[used]
        sign = ((v >> (view.width - np.uint64(1))) & np.uint64(1)).astype(np.uint8)
        pad_rows = np.broadcast_to((groups[:, None] + view.top)[:, :, None], dev.shape)
        pad_cols = np.broadcast_to(view.pad_col, dev.shape)
        pad_used = np.broadcast_to(view.pad_used, dev.shape)
        array[pad_rows[pad_used], pad_cols[pad_used]] = (sign[:, :, None] ^ dev)[pad_used]
        count, counters = len(self.w_rows), model.counters
        walks = count + fixups
        bubbles = count * SATURATE_BUBBLES if model.saturate else 0
        counters[Counter.ACC_EVENTS] += count
        counters[Counter.ACC_SLICES] += walks * self.n
        counters[Counter.BUBBLES] += bubbles
        counters[Counter.BUSY] += walks * self.n + bubbles
        counters[Counter.ACTIVE_COLS] += walks * view.active_cols
        counters[Counter.IDLE_COLS] += walks * view.idle_cols
        model.executed[Op.ACC] += count
        self.w_rows, self.v_rows, self.groups = [], [], set()
        self.reads = self.writes = 0

    def _saturating(self, v, dev, o, o_dev, group_of, operand_of) -> int:
        """Saturate mode: each group's ACCs one after another (the k-th ACC of every group at
        once); returns the fix-up walks."""
        view, one = self.view, np.uint64(1)
        sign_at = view.width - one
        lanes = np.arange(len(view.top))
        most = one << sign_at                               # the most negative value's bits
        order = np.argsort(group_of, kind="stable")
        first = np.searchsorted(group_of[order], group_of[order])
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order)) - first         # k: the group's k-th ACC
        fixups = 0
        for k in range(int(rank.max()) + 1):
            events = np.flatnonzero(rank == k)
            g, u = group_of[events], operand_of[events]
            old, operand = v[g], o[u]
            new = old + operand
            v_sign, o_sign = (old >> sign_at) & one, (operand >> sign_at) & one
            n_sign = (new >> sign_at) & one
            v_dev = dev[g][:, lanes, view.msb_pad] & view.msb_is_pad
            o_dev_msb = o_dev[u][:, lanes, view.msb_pad] & view.msb_is_pad
            v_msb = v_sign ^ v_dev
            overflow = view.reached & (v_msb == (o_sign ^ o_dev_msb)) & \
                (n_sign ^ v_dev ^ o_dev_msb != v_msb)
            dev[g] ^= o_dev[u]
            dev[g] &= ~overflow[:, :, None]                 # clamped: pads copy the sign
            v[g] = np.where(overflow, np.where(v_msb == 1, most, most - one), new)
            fixups += int(np.count_nonzero(overflow.any(axis=1)))
        return fixups
