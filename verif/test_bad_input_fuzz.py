"""Bad input, in bulk: hundreds of bad CLI invocations (every block's every parameter out of
range, of the wrong type or unknown, bad presets and names, bad run/fpga/bench arguments),
each run in-process through `cimforge.cli.main`. Each must end with a non-zero exit and one
`cimforge: error:` (or argparse usage) line naming the problem: no traceback, no output file,
no silent success. The tally is printed."""

import contextlib
import dataclasses
import io

from cimforge import cli
from cimforge.blocks import BLOCKS
from cimforge.verif import seeds


def bad_generations(rng) -> list[list[str]]:
    cases = []
    for block in BLOCKS.values():
        cases += [["gen", block.name, "--preset", "no-such-preset"],
                  ["gen", block.name, "--param", "no_such_param=1"],
                  ["gen", block.name, "--param", "=3"],
                  ["gen", block.name, "--name", rng.choice(["1abc", "a b", "../x", "a-b", ""])]]
        for f in dataclasses.fields(block.params):
            meta = f.metadata
            if f.type in (int, "int"):
                if meta.get("lo") is not None:
                    cases.append(["gen", block.name, "--param", f"{f.name}={meta['lo'] - 1}"])
                if meta.get("hi") is not None:
                    cases.append(["gen", block.name, "--param", f"{f.name}={meta['hi'] + 1}"])
                cases.append(["gen", block.name, "--param",
                              f"{f.name}={rng.choice(['x', '1.5', '', '0x', 'true'])}"])
            elif f.type in (bool, "bool"):
                cases.append(["gen", block.name, "--param", f"{f.name}=maybe"])
            elif meta.get("choices") is not None:
                cases.append(["gen", block.name, "--param", f"{f.name}=not-a-choice"])
    return cases


def bad_commands(tmp) -> list[list[str]]:
    missing = str(tmp / "missing.npz")
    cases = [["frobnicate"], ["list", "nosuchblock"], ["bench", "--only", "nosuchentry"],
             ["run", missing, "--input", "events.txt"],
             ["fpga", "build", "--board", "nosuchboard", "--design", "raca"],
             ["fpga", "build", "--board", "icebreaker", "--design", "nosuchdesign"],
             ["fpga", "program", "--dry-run", str(tmp / "missing.bin")],
             ["fpga", "program", "--board", "icebreaker", "-o", str(tmp), "--dry-run"],
             ["gen", "raca", "--param", "max_inputs=1", "--param", "max_layers=1",
              "--param", "tile_rows=1024"],
             ["gen", "raca", "--param", "max_hidden=32", "--param", "tile_cols=128"]]
    for mesh in ["0x2", "2x", "axb", "2x2x2", "-1x1", "x"]:
        cases.append(["run", missing, "--input", "e.txt", "--mesh", mesh])
    for option, value in [("--sim", "modelsim"), ("--stationarity", "both")]:
        cases.append(["run", missing, "--input", "e.txt", option, value])
    # NIR: a missing or non-NIR file, and every compile option out of range.
    (tmp / "junk.nir").write_bytes(b"\x89HDF\r\n not really")
    nir_file = str(tmp / "junk.nir")
    cases += [["compile", str(tmp / "missing.nir")], ["compile", nir_file],
              ["run", str(tmp / "missing.nir"), "--input", "e.txt"], ["export", missing]]
    for option, value in [("--b-w", "0"), ("--b-w", "33"), ("--b-w", "4,x"), ("--b-v", "1"),
                          ("--b-v", "65"), ("--reset", "half"), ("--firing", "=="),
                          ("--overflow", "clip"), ("--dt", "0"), ("--dt", "-1"), ("--dt", "nan"),
                          ("--dt", "inf"), ("--dt", "fast"), ("--lif", "approximate")]:
        cases.append(["compile", nir_file, option, value])
    return cases


def test_bad_cli_invocations_are_clear_errors(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    rng = seeds.rng("bad-input-fuzz")
    cases = bad_generations(rng) + bad_commands(tmp_path)
    failures, tally = [], {"exit 2 with a message": 0}
    for argv in cases:
        out, err = io.StringIO(), io.StringIO()
        code = None
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main(argv)
            except SystemExit as exit_:          # argparse's own errors
                code = exit_.code
            except Exception as error:           # noqa: BLE001 - the finding itself
                failures.append(f"{argv}: {type(error).__name__}: {error}")
                continue
        text = err.getvalue()
        if code in (0, None) or "Traceback" in text or "error:" not in text:
            failures.append(f"{argv}: exit {code}, stderr {text[-300:]!r}")
        else:
            tally["exit 2 with a message"] += code == 2
    assert not any(tmp_path.glob("**/*.v")), "a bad invocation wrote Verilog"
    with capsys.disabled():
        print(f"\nbad CLI invocations: {len(cases)} tried, {len(failures)} failures, "
              f"{tally}")
    assert len(cases) >= 200
    assert not failures, "\n".join(failures[:20])


def test_bad_parameter_objects_are_clear_errors():
    """The Python API: every parameter class, every field, out of range or of the wrong type:
    a ValueError (`ParamError`) naming the field, never an object that builds nonsense."""
    rng = seeds.rng("bad-params-fuzz")
    tried, failures = 0, []
    for block in BLOCKS.values():
        base = dataclasses.asdict(block.configure(None))
        for f in dataclasses.fields(block.params):
            meta = f.metadata
            values = []
            if f.type in (int, "int"):
                if meta.get("lo") is not None:
                    values.append(meta["lo"] - 1)
                if meta.get("hi") is not None:
                    values.append(meta["hi"] + 1)
                values.append(rng.choice(["8", 2.5, None, True]))
            elif f.type in (bool, "bool"):
                values += [1, "yes"]
            elif meta.get("choices") is not None:
                values += ["not-a-choice", 3]
            for value in values:
                tried += 1
                try:
                    block.params(**{**base, f.name: value})
                except ValueError as error:
                    if f.name not in str(error):
                        failures.append(f"{block.name}.{f.name}={value!r}: {error}")
                except Exception as error:       # noqa: BLE001 - the finding itself
                    failures.append(f"{block.name}.{f.name}={value!r}: {type(error).__name__}")
                else:
                    failures.append(f"{block.name}.{f.name}={value!r} was accepted")
    print(f"\nbad parameter objects: {tried} tried, {len(failures)} failures")
    assert tried >= 100
    assert not failures, "\n".join(failures[:20])
