"""Validated, frozen parameter objects: one per block, shared by generator, golden model and tests.

Each block's parameters are a frozen dataclass derived from `Params`. Every field carries its
documentation and its allowed range in the field metadata (`param(...)`), so validation, the
CLI's `list` and `--param k=v` parsing all come from one description. Cross-field rules go in
`check()`; parameters whose default is derived from others (0 = "auto") are filled in by
`resolve()` before it. A bad value raises `ParamError` (a `ValueError`) naming the parameter,
the value and what is allowed.
"""

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, ClassVar


class ParamError(ValueError):
    pass


def param(default, doc: str, *, lo=None, hi=None, choices=None):
    """A parameter field: default, one-line doc, and an integer range or a set of choices."""
    return field(default=default, metadata={"doc": doc, "lo": lo, "hi": hi, "choices": choices})


@dataclass(frozen=True)
class Params:
    block: ClassVar[str] = ""

    def __post_init__(self):
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            meta = f.metadata
            if f.type in (int, "int"):
                if isinstance(value, bool) or not isinstance(value, int):
                    raise ParamError(f"{self.block}: parameter '{f.name}' must be an integer, "
                                     f"got {value!r}")
                lo, hi = meta.get("lo"), meta.get("hi")
                if (lo is not None and value < lo) or (hi is not None and value > hi):
                    raise ParamError(f"{self.block}: parameter '{f.name}' = {value} is out of "
                                     f"range; allowed {lo}..{hi}")
            if f.type in (bool, "bool") and not isinstance(value, bool):
                raise ParamError(f"{self.block}: parameter '{f.name}' must be true or false, "
                                 f"got {value!r}")
            choices = meta.get("choices")
            if choices is not None and value not in choices:
                raise ParamError(f"{self.block}: parameter '{f.name}' = {value!r} is not one of "
                                 f"{', '.join(map(str, choices))}")
        self.resolve()
        self.check()

    def resolve(self):
        """Fill in parameters left to be derived (set them with `self.derive(name, value)`)."""

    def derive(self, name: str, value):
        object.__setattr__(self, name, value)   # the dataclass is frozen once constructed

    def check(self):
        """Cross-field rules; raise `self.error(...)`."""

    def error(self, name: str, message: str) -> ParamError:
        return ParamError(f"{self.block}: parameter '{name}' = {getattr(self, name)!r}: {message}")

    @classmethod
    def describe(cls) -> list[dict[str, Any]]:
        """One entry per parameter: name, type, default, range or choices, doc."""
        out = []
        for f in dataclasses.fields(cls):
            meta = f.metadata
            if meta.get("choices") is not None:
                allowed = "|".join(map(str, meta["choices"]))
            elif meta.get("lo") is not None or meta.get("hi") is not None:
                allowed = f"{meta.get('lo', '')}..{meta.get('hi', '')}"
            else:
                allowed = ""
            type_name = f.type if isinstance(f.type, str) else f.type.__name__
            out.append({"name": f.name, "type": type_name, "default": f.default,
                        "allowed": allowed, "doc": meta.get("doc", "")})
        return out

    @classmethod
    def parse(cls, base: "Params | None", assignments: list[str]) -> "Params":
        """Apply `k=v` strings on top of `base` (or the defaults)."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        values = dataclasses.asdict(base) if base is not None else {}
        for assignment in assignments:
            name, sep, text = assignment.partition("=")
            name = name.strip()
            if not sep:
                raise ParamError(f"{cls.block}: '{assignment}' is not of the form name=value")
            if name not in fields:
                raise ParamError(f"{cls.block}: unknown parameter '{name}'; parameters are "
                                 f"{', '.join(fields)}")
            values[name] = _parse_value(cls.block, fields[name], text.strip())
        return cls(**values)

    def formats(self) -> dict:
        """The block's wire formats (`cimforge.params.wire.Format`) by the port that carries
        them; what `<name>.formats.json` lists."""
        return {}

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def as_json(self) -> str:
        return json.dumps({"block": self.block, **self.as_dict()}, sort_keys=True)

    def key(self) -> str:
        """A short stable name for this configuration (used for build directories)."""
        return hashlib.sha1(self.as_json().encode()).hexdigest()[:10]


def _parse_value(block: str, f: dataclasses.Field, text: str):
    kind = f.type if isinstance(f.type, str) else f.type.__name__
    try:
        if kind == "int":
            return int(text, 0)
        if kind == "bool":
            lowered = text.lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
    except ValueError:
        raise ParamError(f"{block}: parameter '{f.name}' expects {kind}, got '{text}'") from None
    return text
