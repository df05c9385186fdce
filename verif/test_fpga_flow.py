"""The board flow without a board: a real (small) bitstream build, its report, and the
programming command's error paths. Full place and route of every board and design is in
`make bench` (bench/fpga/)."""

import json

import pytest
from cimforge import cli
from cimforge.fpga import boards, flow


def tiny_bench_design(tmp_path):
    """The `tiny` LFSR bank inside the bench shell, as Verilog: a design that builds in
    seconds."""
    from amaranth.back import verilog
    from cimforge.blocks import get
    from cimforge.fpga.bench_shell import BenchShell
    block = get("lfsr_bank")
    design = tmp_path / "bench_top.v"
    design.write_text(verilog.convert(BenchShell(block.build(block.configure("tiny"))),
                                      name="bench_top", emit_src=False))
    return design


def test_icebreaker_lfsr_bitstream(tmp_path):
    """Synthesis smoke test: the LFSR bank behind the UART bridge on an iCEBreaker."""
    report = boards.build("icebreaker", "lfsr", tmp_path)
    bitstream = tmp_path / "icebreaker-lfsr" / "top.bin"
    assert bitstream.stat().st_size > 100_000                    # a UP5K image is ~104 kB
    assert report["utilisation"]["ICESTORM_LC"][0] > 100
    assert report["fmax_mhz"] and report["met"], report["fmax_mhz"]
    assert json.loads((tmp_path / "icebreaker-lfsr" / "report.json").read_text()) == report
    assert "post-route Fmax" in (tmp_path / "icebreaker-lfsr" / "report.md").read_text()


def test_ulx3s_lfsr_bitstream(tmp_path):
    """The ECP5 board flow, on the smallest design: a ULX3S-25F bitstream that meets its
    25 MHz clock."""
    report = boards.build("ulx3s-25f", "lfsr", tmp_path)
    assert report["synth"] == "synth_ecp5"
    assert (tmp_path / "ulx3s-25f-lfsr" / "top.bit").stat().st_size > 100_000
    assert report["utilisation"]["TRELLIS_COMB"][0] > 100
    assert report["met"], report["fmax_mhz"]


def test_program_dry_run_and_errors(tmp_path, capsys):
    out = str(tmp_path)
    dry_run = ["fpga", "program", "--board", "ulx3s-85f", "--design", "aer", "-o", out,
               "--dry-run"]
    assert cli.main(dry_run) == 2                       # nothing built yet
    assert "no bitstream at" in capsys.readouterr().err
    (tmp_path / "ulx3s-85f-aer").mkdir()
    (tmp_path / "ulx3s-85f-aer" / "top.bit").write_bytes(b"\xff")
    assert cli.main(dry_run) == 0
    assert capsys.readouterr().out.split() == [
        "openFPGALoader", "-b", "ulx3s", "-m", f"{out}/ulx3s-85f-aer/top.bit"]
    assert cli.main(["fpga", "program", "--board", "icebreaker", "-o", out]) == 2
    assert "no bitstream" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        cli.main(["fpga", "build", "--board", "de10-nano"])
    assert exit_.value.code == 2
    with pytest.raises(boards.BoardError, match="designs are"):
        boards.bridge_params("icebreaker", "gpu", 12_000_000)
    with pytest.raises(boards.BoardError, match="design 'snn' has no ice40 version"):
        boards.bridge_params("icebreaker", "snn", 12_000_000)


def test_combined_design_exposes_every_core():
    from amaranth.hdl import Fragment
    from cimforge.blocks import get
    from cimforge.hdl.host.uart_bridge import stream_ports
    core = get("combined").core(get("combined").configure("ecp5"))
    inputs, outputs = stream_ports(core)
    assert "raca_cmd" in inputs and "lfsr_bank_seed" in inputs and "cim_macro_cmd" in inputs
    assert "aer_mesh_inject_1_1" in inputs and "aer_mesh_eject_0_0" in outputs
    assert "raca_rdata" in outputs and "lfsr_bank_noise" in outputs
    Fragment.get(core, None)          # and it elaborates


def test_build_is_reused_only_for_the_same_netlist(tmp_path, monkeypatch):
    """A finished build is reused for the same Verilog, target and seed; any change builds
    again (the tools are made to fail to show whether they ran)."""
    design = tiny_bench_design(tmp_path)
    first = flow.build(design, "bench_top", "ice40-up5k", tmp_path / "out")
    assert first.lut4 > 10 and first.fmax_mhz > 0

    def tools_ran(cmd, cwd, log, timeout_s=None):
        raise flow.FlowError(f"{cmd[0]} ran")
    monkeypatch.setattr(flow, "_run", tools_ran)
    again = flow.build(design, "bench_top", "ice40-up5k", tmp_path / "out")
    assert again == first
    stamp = (tmp_path / "out" / "build.json").read_text()
    original = design.read_text()
    for change, edit in (({"seed": 2}, ""), ({"freq_mhz": 30}, ""), ({}, "// changed\n")):
        (tmp_path / "out" / "build.json").write_text(stamp)
        design.write_text(original + edit)
        with pytest.raises(flow.FlowError, match="ran"):
            flow.build(design, "bench_top", "ice40-up5k", tmp_path / "out", **change)


def test_ecp5_falls_back_to_classic_abc(tmp_path, monkeypatch):
    """When yosys' ABC9 mapping dies (YoWASP's does on some big netlists), the ECP5 flow maps
    with the classic ABC instead: real tools, on a small design, with the first synthesis made
    to fail the way ABC9 does."""
    design = tiny_bench_design(tmp_path)
    real_run, scripts = flow._run, []

    def abc9_dies(cmd, cwd, log, timeout_s=None):
        scripts.append(cmd[-1])
        if log == "yosys.log" and "map_luts" not in cmd[-1]:
            raise flow.FlowError("ERROR: Assert `GetSize(conn.first) == GetSize(conn.second)'")
        return real_run(cmd, cwd, log, timeout_s)
    monkeypatch.setattr(flow, "_run", abc9_dies)
    report = flow.build(design, "bench_top", "ecp5-25f", tmp_path / "out")
    assert report.synth == flow.CLASSIC_ABC_NAME
    assert "abc -lut 4:7" in scripts[1] and len(scripts) == 3        # yosys twice, nextpnr
    assert report.lut4 > 10 and report.ff > 10 and report.fmax_mhz > 50


def test_place_and_route_past_its_time_limit_is_a_flow_error(tmp_path):
    """A build whose place and route runs out of time fails with one readable error (real
    tools; a limit far too short for any design) and is not taken for a finished build."""
    design = tiny_bench_design(tmp_path)
    with pytest.raises(flow.FlowError, match=r"nextpnr-ice40 did not finish in [\d.e-]+ min"):
        flow.build(design, "bench_top", "ice40-up5k", tmp_path / "out", pnr_timeout_s=0.05)
    assert not (tmp_path / "out" / "build.json").exists()


def test_a_design_larger_than_the_part_stops_before_placement(tmp_path, monkeypatch):
    """More logic than the part holds is reported as DoesNotFit right after synthesis (real
    yosys; the part made tiny), without running the placer, and remembered for the netlist."""
    design = tiny_bench_design(tmp_path)
    tiny = dict(flow.TARGETS["ice40-up5k"], logic=("ICESTORM_LC", 5, {"SB_LUT4": 1}))
    monkeypatch.setitem(flow.TARGETS, "ice40-up5k", tiny)
    with pytest.raises(flow.DoesNotFit, match=r"ICESTORM_LC \d+/5") as too_big:
        flow.build(design, "bench_top", "ice40-up5k", tmp_path / "out")
    assert too_big.value.usage["ICESTORM_LC"][1] == 5
    assert not (tmp_path / "out" / "nextpnr.log").exists()
    with pytest.raises(flow.DoesNotFit):                    # the cached verdict
        flow.build(design, "bench_top", "ice40-up5k", tmp_path / "out")
