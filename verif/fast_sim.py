"""The fast RTL path: the accelerator's Verilog (`snn_core` or `snn_system`) Verilated with a
C++ driver and no Python in the loop, for runs too long for cocotb (whole test splits). cocotb
stays the verification harness; `cimforge run --sim fast` and the workload bench use this,
and `verif/snn/test_fast_sim.py` holds it to the cocotb path (same spikes, cycles, counters).

The driver reads a program (text, hexadecimal words) and drives it as the cocotb
testbenches `tb_run` / `tb_system_run` do, without gaps and with the outputs always ready:
the load words; then per timestep its words, counting clock cycles from the timestep's first
word until its last end marker (an output word w with w & mask == value) has left; then the
readout's words until as many read-data words have come back. It prints every output word of
the timesteps (`S <stream> <hex>`), each timestep's cycles (`T <cycles>`) and the readout
(`R <hex>`). Built once per configuration into `sim_build/<block>-<key>/fast/`, with -O3.
"""

import hashlib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..tools import setup_verilator
from .harness import _locked, config_dir, emit_once

# Output streams of each block, the one carrying the end markers, and the one the readout
# answers on.
STREAMS = {"snn_core": ("m_axis_spike", "m_axis_rdata"), "snn_system": ("m_axis_out",)}
READOUT = {"snn_core": 1, "snn_system": 0}

DRIVER = r"""
#include "V{top}.h"
#include "verilated.h"
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

typedef std::vector<uint32_t> Word;                       // 32-bit chunks, low first

static Word parse(const char* hex) {{
    Word w; std::string s(hex); int n = s.size();
    for (int end = n; end > 0; end -= 8) {{
        int start = end > 8 ? end - 8 : 0;
        w.push_back((uint32_t)strtoul(s.substr(start, end - start).c_str(), nullptr, 16));
    }}
    return w;
}}
static void show(const Word& w) {{
    int i = w.size() - 1;
    while (i > 0 && w[i] == 0) i--;
    printf("%x", w[i]);
    for (i--; i >= 0; i--) printf("%08x", w[i]);
}}
template <typename T> static void put(T& port, const Word& w) {{
    uint64_t v = 0;
    for (size_t i = 0; i < w.size() && i < 2; i++) v |= (uint64_t)w[i] << (32 * i);
    port = (T)v;
}}
template <std::size_t N> static void put(VlWide<N>& port, const Word& w) {{
    for (std::size_t i = 0; i < N; i++) port[i] = i < w.size() ? w[i] : 0;
}}
template <typename T> static Word get(const T& port) {{
    uint64_t v = (uint64_t)port; return Word{{(uint32_t)v, (uint32_t)(v >> 32)}};
}}
template <std::size_t N> static Word get(const VlWide<N>& port) {{
    Word w; for (std::size_t i = 0; i < N; i++) w.push_back(port[i]); return w;
}}
static bool matches(const Word& w, const Word& mask, const Word& value) {{
    for (size_t i = 0; i < mask.size(); i++)
        if (((i < w.size() ? w[i] : 0) & mask[i]) != (i < value.size() ? value[i] : 0)) return false;
    return true;
}}

static std::vector<Word> read_words(FILE* f, long n) {{
    std::vector<Word> out; char buf[4096];
    for (long i = 0; i < n; i++) {{ if (fscanf(f, "%4095s", buf) != 1) exit(4); out.push_back(parse(buf)); }}
    return out;
}}

int main(int argc, char** argv) {{
    if (argc < 2) {{ fprintf(stderr, "usage: %s PROGRAM\n", argv[0]); return 2; }}
    FILE* f = fopen(argv[1], "r");
    if (!f) {{ perror(argv[1]); return 2; }}
    char mask_hex[4096], value_hex[4096];
    int end_stream, read_stream; long ends, count;
    if (fscanf(f, " end %d %4095s %4095s %ld read %d", &end_stream, mask_hex, value_hex, &ends,
               &read_stream) != 5) return 4;
    Word mask = parse(mask_hex), value = parse(value_hex);
    if (fscanf(f, " load %ld", &count) != 1) return 4;
    std::vector<Word> load = read_words(f, count);
    long steps; if (fscanf(f, " steps %ld", &steps) != 1) return 4;
    std::vector<std::vector<Word>> step_words;
    for (long s = 0; s < steps; s++) {{
        if (fscanf(f, " %ld", &count) != 1) return 4;
        step_words.push_back(read_words(f, count));
    }}
    if (fscanf(f, " reads %ld", &count) != 1) return 4;
    std::vector<Word> reads = read_words(f, count);
    fclose(f);

    VerilatedContext* context = new VerilatedContext;
    V{top}* top = new V{top}{{context}};
    const std::vector<Word>* feeding = nullptr; size_t next = 0;
    std::vector<std::vector<Word>> got({streams});
    auto cycle = [&]() {{
        bool offer = feeding && next < feeding->size();
        top->s_axis_host_tvalid = offer;
        if (offer) put(top->s_axis_host_tdata, (*feeding)[next]);
{ready}
        top->clk = 0; top->eval();
        bool taken = offer && top->s_axis_host_tready;
{collect}
        top->clk = 1; top->eval();
        if (taken) next++;
    }};
    top->rst = 1; for (int i = 0; i < 4; i++) cycle(); top->rst = 0;
    feeding = &load; next = 0;
    while (next < load.size()) cycle();
    for (auto& words : step_words) {{
        feeding = &words; next = 0;
        for (auto& g : got) g.clear();
        long cycles = 0, seen = 0;
        size_t checked = 0;
        while (seen < ends) {{
            cycle(); cycles++;
            if (cycles > 50000000L) {{ fprintf(stderr, "a timestep did not end\n"); return 3; }}
            auto& out = got[end_stream];
            for (; checked < out.size(); checked++) seen += matches(out[checked], mask, value);
        }}
        for (size_t s = 0; s < got.size(); s++)
            for (auto& w : got[s]) {{ printf("S %zu ", s); show(w); printf("\n"); }}
        printf("T %ld\n", cycles);
    }}
    for (auto& g : got) g.clear();
    feeding = &reads; next = 0;
    long waited = 0;
    while (got[read_stream].size() < reads.size()) {{
        cycle();
        if (++waited > 1000000L) {{ fprintf(stderr, "the readout did not come back\n"); return 3; }}
    }}
    for (auto& w : got[read_stream]) {{ printf("R "); show(w); printf("\n"); }}
    top->final(); delete top; delete context;
    return 0;
}}
"""


class FastSimError(RuntimeError):
    pass


def _driver(block: str) -> str:
    streams = STREAMS[block]
    ready = "\n".join(f"        top->{s}_tready = 1;" for s in streams)
    collect = "\n".join(f"        if (top->{s}_tvalid) got[{i}].push_back(get(top->{s}_tdata));"
                        for i, s in enumerate(streams))
    return DRIVER.format(top=block, streams=len(streams), ready=ready, collect=collect)


def build(params, driver: str | None = None) -> Path:
    """The configuration's fast model (built on first use, under a lock): with this module's
    driver, or with C++ source `driver` (e.g. `cimforge.verif.sim_board`'s)."""
    verilog = emit_once(params)
    source = driver or _driver(params.block)
    directory = config_dir(params) / (
        "fast" if driver is None else f"driver-{hashlib.sha1(source.encode()).hexdigest()[:8]}")
    binary = directory / f"V{params.block}"
    with _locked(directory):
        if not binary.exists():
            setup_verilator()
            (directory / "driver.cpp").write_text(source)
            command = ["verilator", "--cc", "--exe", "--build", "-O3", "-Wno-fatal",
                       "--x-assign", "fast", "--x-initial", "fast", "--top-module",
                       params.block, "-Mdir", str(directory / "obj"), "-o", str(binary),
                       "-j", "2", "-CFLAGS", "-march=native",
                       # verilated.mk compiles the model -Os; -O3 runs it faster. (Its empty
                       # precompiled-header flag breaks designs split into several files.)
                       "-MAKEFLAGS", "OPT_FAST=-O3 OPT_SLOW=-O1 OPT_GLOBAL=-O2 "
                                     "CFG_CXXFLAGS_PCH_I=-include",
                       str(verilog), str(directory / "driver.cpp")]
            done = subprocess.run(command, capture_output=True, text=True,
                                  env={**os.environ})
            if done.returncode or not binary.exists():
                raise FastSimError(f"building the fast model failed:\n{done.stderr[-3000:]}")
    return binary


@dataclass
class FastRun:
    outputs: list          # per timestep, per output stream, the words
    cycles: list           # per timestep
    readout: list          # the read-data words


def run(params, load, steps, reads, end_stream: int, end_mask: int, end_value: int,
        ends: int, work: Path) -> FastRun:
    binary = build(params)
    program = work / "program.txt"
    lines = [f"end {end_stream} {end_mask:x} {end_value:x} {ends} read {READOUT[params.block]}",
             f"load {len(load)}", *(f"{w:x}" for w in load), f"steps {len(steps)}"]
    for words in steps:
        lines += [str(len(words)), *(f"{w:x}" for w in words)]
    lines += [f"reads {len(reads)}", *(f"{w:x}" for w in reads)]
    program.write_text("\n".join(lines) + "\n")
    done = subprocess.run([str(binary), str(program)], capture_output=True, text=True)
    if done.returncode:
        raise FastSimError(f"the fast model stopped (status {done.returncode}): "
                           f"{done.stderr.strip()[-500:]}")
    outputs, current, cycles, readout = [], [[] for _ in STREAMS[params.block]], [], []
    for line in done.stdout.splitlines():
        kind, *rest = line.split()
        if kind == "S":
            current[int(rest[0])].append(int(rest[1], 16))
        elif kind == "T":
            outputs.append(current)
            current = [[] for _ in STREAMS[params.block]]
            cycles.append(int(rest[0]))
        elif kind == "R":
            readout.append(int(rest[0], 16))
    return FastRun(outputs, cycles, readout)
