"""The presets of the blocks that other blocks are made of (`combined`, `uart_bridge`), by
block name: parameter classes that refer to other blocks look them up here, not in the block
registry (which is built on top of them)."""

from . import aer_mesh, cim_macro, lfsr_bank, raca, snn, snn_system

CORE_PRESETS = {
    "lfsr_bank": lfsr_bank.PRESETS,
    "raca": raca.PRESETS,
    "cim_macro": cim_macro.PRESETS,
    "aer_mesh": aer_mesh.PRESETS,
    "snn_core": snn.PRESETS,
    "snn_system": snn_system.PRESETS,
}
