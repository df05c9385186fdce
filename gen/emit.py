"""Verilog emission: one `.v` and its component metadata `.json` per configuration."""

import json
from dataclasses import asdict
from pathlib import Path

from amaranth.back import verilog

from .blocks import get
from .params import Params


def emit(params: Params, out_dir: Path, name: str | None = None) -> Path:
    """Write `<name>.v`, `<name>.json` (component metadata), `<name>.params.json` and, for
    blocks with structured words, `<name>.formats.json` (every field of every `tdata` word:
    offset, width, meaning) into `out_dir`; return the Verilog path. `name` defaults to the
    block name. A block with a register map (RACA) lists it there too, under
    `register_map`."""
    block = get(params.block)
    name = name or block.name
    top = block.build(params)
    text = verilog.convert(top, name=name, emit_src=False)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    verilog_path = out_dir / f"{name}.v"
    verilog_path.write_text(text)
    (out_dir / f"{name}.json").write_text(json.dumps(top.metadata.as_json(), indent=1) + "\n")
    (out_dir / f"{name}.params.json").write_text(params.as_json() + "\n")
    formats = {port: {"format": fmt.name, "width": fmt.size, "fields": fmt.describe()}
               for port, fmt in params.formats().items()}
    registers = getattr(params, "registers", None)
    if registers:
        formats["register_map"] = [{**asdict(r), "label": r.label} for r in registers]
    if formats:
        (out_dir / f"{name}.formats.json").write_text(json.dumps(formats, indent=1) + "\n")
    return verilog_path
