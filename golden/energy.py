"""Energy from the counters the hardware keeps: the per-access energies in one place, each with
its source, and the energy of a run on one core by component.

Counted (the golden models keep every one of these counters, equal to the RTL's):
* macro: column operations, `ACTIVE_COLS` (a column that adds or compares in a row
  operation) and `IDLE_COLS` (standby or finished columns), and rows written or read whole by
  `LOADS` and `STORES` (every column once: costed as a column operation each, an assumption);
* operand buffer: rows read and written by the core (`BUFFER_READS`, `BUFFER_WRITES`), each
  `cols` bits;
* mesh (a system): router-to-router link traversals of every flit, from the routers'
  `forwarded_<port>` counters (`SystemResult.mesh`, equal to the RTL's in the system tests),
  each `flit_width` bits.

Not yet counted (the workloads issue): DRAM traffic for a given buffer capacity, and the sweep
over macro counts and input sparsity the FlexSpIM paper's "up to 90 %" was made on.
"""

from dataclasses import asdict, dataclass

from ..params.cim_macro import Counter
from ..params.snn import CoreCounter


@dataclass(frozen=True)
class EnergyParams:
    """Energies in picojoules."""
    # One active column of one row operation. FlexSpIM (Ding et al., 2025) reports 5.7-7.2 pJ
    # per SOP at 8-bit weights and 16-bit membranes; in this macro such a SOP is 16 active
    # column operations (one per membrane bit; `test_energy.py` measures it), so 5.7 / 16.
    column_op: float = 5.7 / 16
    # A standby column is clock-gated: counted, and costed as nothing here (an assumption: the
    # paper's per-SOP figure already averages the array's leakage over its SOPs).
    column_standby: float = 0.0
    # One bit read from or written to the operand buffer (16 x 2 kB SRAM in the paper):
    # Horowitz, "Computing's energy problem", ISSCC 2014, 45 nm: 10 pJ per 64-bit access of an
    # 8 kB SRAM.
    buffer_bit: float = 10 / 64
    # One flit bit over one link: written into and read from the next router's queue. An
    # assumption: costed as two operand-buffer bit accesses (the queues are small register
    # files, so this is on the high side); the wire itself is not counted.
    hop_bit: float = 2 * 10 / 64

    def sources(self) -> dict:
        return asdict(self)


def core_energy(macro_counters, core_counters, cols: int,
                params: EnergyParams = EnergyParams()) -> dict:
    """Energy (pJ) of a run on one core by component, from its counters (indexable by
    `cim_macro.Counter` and `snn.CoreCounter`; a golden `CoreResult`'s `macro` and
    `counters`, or the RTL's readout)."""
    macro = (macro_counters[Counter.ACTIVE_COLS] * params.column_op
             + macro_counters[Counter.IDLE_COLS] * params.column_standby)
    moves = (macro_counters[Counter.LOADS] + macro_counters[Counter.STORES]) * cols \
        * params.column_op
    rows = core_counters[CoreCounter.BUFFER_READS] + core_counters[CoreCounter.BUFFER_WRITES]
    buffer = rows * cols * params.buffer_bit
    return {"macro": float(macro), "macro_moves": float(moves), "buffer": float(buffer),
            "total": float(macro + moves + buffer)}


def system_energy(model, params: EnergyParams = EnergyParams()) -> dict:
    """Energy (pJ) of a run on a system, by component: every core's (`core_energy`, summed)
    and the mesh's, from a `golden.snn_system.SystemModel` after its `run`."""
    cols = model.system.core_params.macro.cols
    total = {"macro": 0.0, "macro_moves": 0.0, "buffer": 0.0}
    for core in model.models.values():
        for part, pj in core_energy(core.macro.counters, core.counters, cols, params).items():
            if part != "total":
                total[part] += pj
    hops = sum(n for (_, port), n in model.mesh.items() if port != "local")
    total["mesh"] = float(hops * model.system.mesh.flit_width * params.hop_bit)
    total["total"] = sum(total.values())
    return total
