"""A simulated board: a board design (the UART bridge and its core, `cimforge.fpga.boards`)
Verilated with a C++ driver that puts its UART behind a pseudo-terminal, so the host library
(`cimforge.fpga.host`) and anything else that opens a serial port talk to it as to the board.

    cimforge sim-board --design raca [--board icebreaker]     # prints the port, Ctrl-C stops

    from cimforge.verif.sim_board import SimBoard
    with SimBoard("raca") as device:                      # "/dev/pts/N"
        bridge = Bridge(open_serial(device))

The design is the board's, bit for bit, but for the UART's divisor: 8 clock cycles per bit
(the pseudo-terminal ignores baud rates), so a byte costs 80 cycles of the simulated clock.
The clock runs freely (a few million cycles per second), so the bridge's timeouts mean what
they mean on the board.
"""

import subprocess
from dataclasses import replace

from ..fpga.boards import BOARDS, DESIGNS, BoardError, bridge_params, platform_for
from .fast_sim import build

CYCLES_PER_BIT = 8

DRIVER = r"""
#include "Vuart_bridge.h"
#include "verilated.h"
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

static const int DIVISOR = {divisor};
static volatile sig_atomic_t stop = 0;
static void on_signal(int) {{ stop = 1; }}

int main() {{
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) || unlockpt(master)) {{ perror("pty"); return 2; }}
    const char* name = ptsname(master);
    // Hold the terminal open in raw mode: no echo, no line editing, and reads of the master
    // do not fail while no client has it open.
    int slave = open(name, O_RDWR | O_NOCTTY);
    struct termios raw;
    if (slave < 0 || tcgetattr(slave, &raw)) {{ perror(name); return 2; }}
    cfmakeraw(&raw);
    tcsetattr(slave, TCSANOW, &raw);
    fcntl(master, F_SETFL, O_NONBLOCK);
    signal(SIGINT, on_signal); signal(SIGTERM, on_signal);
    printf("PTY %s\n", name); fflush(stdout);

    VerilatedContext* context = new VerilatedContext;
    Vuart_bridge* top = new Vuart_bridge{{context}};
    std::deque<unsigned char> to_device;
    int out_bit = -1, out_count = 0; unsigned out_frame = 0;     // host -> device (rx pin)
    int in_bit = -1, in_count = 0; unsigned in_byte = 0;         // device -> host (tx pin)
    int last_tx = 1;
    top->rx = 1;
    top->rst = 1;
    for (int i = 0; i < 4; i++) {{ top->clk = 0; top->eval(); top->clk = 1; top->eval(); }}
    top->rst = 0;
    for (unsigned long cycle = 0; !stop; cycle++) {{
        if ((cycle & 63) == 0) {{
            unsigned char buf[256];
            ssize_t n = read(master, buf, sizeof buf);
            for (ssize_t i = 0; i < n; i++) to_device.push_back(buf[i]);
        }}
        // rx: start bit, 8 data bits LSB first, stop bit, DIVISOR cycles each.
        if (out_bit < 0 && !to_device.empty()) {{
            out_frame = (1u << 9) | ((unsigned)to_device.front() << 1);
            to_device.pop_front();
            out_bit = 0; out_count = 0;
        }}
        top->rx = out_bit < 0 ? 1 : (out_frame >> out_bit) & 1;
        if (out_bit >= 0 && ++out_count == DIVISOR) {{
            out_count = 0;
            if (++out_bit == 10) out_bit = -1;
        }}
        top->clk = 0; top->eval();
        // tx: find the start bit's edge, sample in the middle of every bit.
        int tx = top->tx;
        if (in_bit < 0 && last_tx == 1 && tx == 0) {{ in_bit = 0; in_count = 0; in_byte = 0; }}
        else if (in_bit >= 0 && ++in_count == (in_bit == 0 ? DIVISOR / 2 : DIVISOR)) {{
            in_count = 0;
            if (in_bit == 0 && tx != 0) in_bit = -1;            // a glitch, not a start bit
            else if (in_bit >= 1 && in_bit <= 8) in_byte |= (unsigned)tx << (in_bit - 1);
            if (in_bit == 9) {{
                unsigned char byte = in_byte;
                while (write(master, &byte, 1) < 0 && errno == EAGAIN) usleep(100);
                in_bit = -1;
            }} else if (in_bit >= 0) in_bit++;
        }}
        last_tx = tx;
        top->clk = 1; top->eval();
    }}
    top->final(); delete top; delete context;
    return 0;
}}
"""


class SimBoardError(RuntimeError):
    pass


def design_params(design: str, board: str | None = None):
    """The board design's bridge parameters (`board`: the first board that has the design),
    with the UART at `CYCLES_PER_BIT`."""
    if design not in DESIGNS:
        raise BoardError(f"unknown design '{design}'; designs are {', '.join(DESIGNS)}")
    if board is None:
        families = DESIGNS[design][1]
        board = next(b.name for b in BOARDS.values() if b.family in families)
    clk_hz = int(platform_for(board).default_clk_frequency)
    params = bridge_params(board, design, clk_hz)
    return board, replace(params, baud=clk_hz // CYCLES_PER_BIT)


class SimBoard:
    """The simulated board as a context manager: entering builds it (once per design, about
    a minute) and starts it; the value is the serial device's path. Leaving stops it."""

    def __init__(self, design: str, board: str | None = None):
        self.board, self.params = design_params(design, board)
        self.design = design
        self.process = None

    def start(self) -> str:
        binary = build(self.params, DRIVER.format(divisor=self.params.divisor))
        self.process = subprocess.Popen([str(binary)], stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline().split()
        if len(line) != 2 or line[0] != "PTY":
            self.stop()
            raise SimBoardError(f"the simulated board did not start ({' '.join(line)!r})")
        return line[1]

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc):
        self.stop()
