"""RACA digital control plane: crossbar emulation, stochastic binarized neurons, noisy
winner-takes-all and T-sample voting (contract and model: `cimforge.golden.raca`).

Dataflow of one layer, per column tile (tile_cols neurons at once):

* BIAS: the tile's biases are read; they preset the tile_cols accumulators.
* ACC: the activation memory is scanned scan_width bits at a time (a chunk is loaded into a
  register, one cycle); each active input's weight row (one word: tile_cols weights) is read,
  registered and added to the accumulators, one input per cycle. Inactive inputs cost
  nothing: a chunk with k active inputs takes 1 + max(k, 1) cycles.
* DRAIN: the accumulators shift their exact sums out, one per cycle, through a two-stage
  pipeline (table shift, then clamp for hidden layers) into the pre-activation memory.

After the last tile, SAMPLE reads the table arguments back one neuron per cycle and takes one
noise transfer per neuron into the two-stage neuron pipeline (`RacaNeuron`): hidden decisions
are packed into the next activation buffer (two buffers, ping-pong between layers), output
scores go through a running first-maximum. VOTE counts the winner (a running first-maximum of
the votes gives the prediction); T samples; START is checked (class count) in its own cycle.

Layer 0's inputs do not change between samples, so its pre-activations are computed on the
first sample only and kept (pre-activation memory region 0; later layers use region 1).

Memories: weights (tile_cols x weight_width bits per word), biases, activations and
pre-activations each have one read and one write port, so each maps onto block RAM. Commands
are registered on entry; every path starts and ends at a register or a block RAM port.
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ...params.raca import REG_BITS, RacaParams
from ..common.wire import struct_layout
from .accumulators import TileAccumulators
from .commands import RacaCommands
from .neuron import RacaNeuron
from .registers import RacaRegisters
from .seed_whitener import SeedWhitener
from .votes import VoteTally


class RacaCore(wiring.Component):
    """The RACA control plane: the host port (`RacaCommands`), the register map
    (`RacaRegisters`), the tile datapath (`TileAccumulators`), the neuron pipeline
    (`RacaNeuron`), the vote tally (`VoteTally`) and the sequencer that runs an inference (the
    FSM here, with the memories it addresses).

    Parameters: `params` (`RacaParams`: generation-time maxima; the network is set at run time).

    Attributes:
    * `cmd` (in): commands, `params.command_format` (`Op`); bad ones (unknown ops, addresses
      out of range, register values out of range, a START whose class count is out of range)
      are dropped and counted in the DROPPED register. While an inference runs only NOP and
      READ_REG are taken; the others wait;
    * `rdata` (out): READ_REG and READ_ACT answers, in command order;
    * `noise` (in): one transfer per neuron per sample (`noise_words` words of `noise_bits`);
      the core waits for late noise and counts the cycles (NOISE_WAIT);
    * `seed` (out): the SEED register whitened (`SeedWhitener`), once at every START, for
      the noise source;
    * `busy` (out): an inference is running.
    """

    def __init__(self, params: RacaParams):
        if not isinstance(params, RacaParams):
            raise TypeError(f"RacaCore needs RacaParams, got {type(params).__name__}")
        self.params = params
        super().__init__({
            "cmd": In(stream.Signature(struct_layout(params.command_format))),
            "rdata": Out(stream.Signature(params.rdata_width)),
            "noise": In(stream.Signature(data.ArrayLayout(params.noise_bits,
                                                          params.noise_words))),
            "seed": Out(stream.Signature(params.lfsr_length)),
            "busy": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.params
        tc, tr, sw = p.tile_cols, p.tile_rows, p.scan_width
        tr_bits, sw_bits = (tr - 1).bit_length(), (sw - 1).bit_length()
        size_limit = p.size_limit
        z_region = size_limit if p.max_layers > 1 else 0
        act_base = p.act_base
        act_depth = p.act_depth

        # -- memories --------------------------------------------------------------------------
        m.submodules.weights = weights = Memory(shape=tc * p.weight_width,
                                                depth=p.weight_depth, init=[])
        m.submodules.biases = biases = Memory(shape=tc * p.bias_width, depth=p.bias_depth,
                                              init=[])
        m.submodules.acts = acts = Memory(shape=sw, depth=act_depth, init=[])
        m.submodules.preacts = preacts = Memory(shape=p.acc_width,
                                                depth=z_region + size_limit, init=[])
        w_wr, w_rd = weights.write_port(), weights.read_port()
        b_wr, b_rd = biases.write_port(), biases.read_port()
        a_wr, a_rd = acts.write_port(), acts.read_port()
        z_wr, z_rd = preacts.write_port(), preacts.read_port()

        m.submodules.neuron = neuron = RacaNeuron(p, tag_width=(size_limit - 1).bit_length() or 1)

        # -- host port, register map and vote tally ---------------------------------------------
        m.submodules.commands = commands = RacaCommands(p)
        wiring.connect(m, wiring.flipped(self.cmd), commands.cmd)
        wiring.connect(m, commands.rdata, wiring.flipped(self.rdata))
        m.submodules.registers = regs = RacaRegisters(p)
        wiring.connect(m, commands.registers, regs.bus)
        wiring.connect(m, commands.weight_write, w_wr)
        wiring.connect(m, commands.bias_write, b_wr)
        # The activation memory is shared: the host loads and reads it while the core is idle.
        m.d.comb += [a_wr.addr.eq(commands.act_write.addr), a_wr.data.eq(commands.act_write.data),
                     a_wr.en.eq(commands.act_write.en), a_rd.addr.eq(commands.act_read.addr),
                     commands.act_read.data.eq(a_rd.data)]
        m.submodules.votes = votes = VoteTally(p)
        m.submodules.whitener = whitener = SeedWhitener(p.lfsr_length)
        wiring.connect(m, whitener.whitened, wiring.flipped(self.seed))

        layers, samples, seed, sizes, shifts = (regs.layers, regs.samples, regs.seed, regs.size,
                                                regs.shift)
        cycles = Signal(REG_BITS)
        noise_wait = Signal(REG_BITS)
        done = Signal()
        refused = Signal()
        idle = Signal()
        m.d.comb += [regs.status.eq(Cat(~idle, done, refused)),
                     regs.prediction.eq(votes.prediction), regs.cycles.eq(cycles),
                     regs.noise_wait.eq(noise_wait), regs.dropped.eq(commands.dropped),
                     commands.idle.eq(idle), self.busy.eq(~idle)]
        m.d.comb += [regs.count[c].eq(votes.counts[c]) for c in range(p.max_classes)]
        out_layer_size = sizes[layers]

        # -- sequencer state ---------------------------------------------------------------------
        sample = Signal(len(samples))
        layer = Signal(range(max(2, p.max_layers)))
        n_out = Signal(len(sizes[0]))
        last_layer = Signal()
        shift = Signal(len(shifts[0]))
        row_tiles = Signal(range(p.weight_tiles + 1))
        tile_ptr = Signal(range(p.weight_tiles + 1))
        bias_ptr = Signal(range(p.bias_depth + 1))
        kept_tile_ptr = Signal.like(tile_ptr)       # pointers just past layer 0
        kept_bias_ptr = Signal.like(bias_ptr)
        act_read_base = Signal(range(act_depth + 1))
        act_write_base = Signal(range(act_depth + 1))
        z_base = Signal(range(z_region + 1))

        # Scan: one chunk of scan_width activation bits at a time, from a register.
        chunks = Signal(range(p.max_inputs // sw + 2))
        last_mask = Signal(sw)
        next_chunk = Signal.like(chunks)
        chunk = Signal.like(chunks)                 # index of the chunk in `bits`
        chunk_is_last = Signal()
        chunk_tile = Signal.like(tile_ptr)          # the tile holding the chunk's rows
        bits = Signal(sw)                           # its inputs not yet accumulated
        loading = Signal()                          # the chunk is on a_rd.data this cycle
        w_read = Signal()                           # a weight row is on w_rd.data
        bias_load = Signal()

        left = Signal.like(n_out)                   # neurons of the layer not yet drained
        column = Signal(range(tc))
        z_ptr = Signal(range(z_region + size_limit + 1))
        clamp_hidden = Signal()
        m.submodules.accumulators = accs = TileAccumulators(p, len(z_ptr))
        m.d.comb += [accs.preset.eq(bias_load), accs.biases.eq(b_rd.data),
                     accs.weights_valid.eq(w_read), accs.weights.eq(w_rd.data),
                     accs.drain_addr.eq(z_ptr), accs.shift.eq(shift), accs.clamp.eq(clamp_hidden),
                     z_wr.addr.eq(accs.z_addr), z_wr.data.eq(accs.z), z_wr.en.eq(accs.z_valid)]

        neuron_index = Signal.like(n_out)
        packed = Signal(sw)
        best_score = Signal(signed(neuron.score_width))
        best_class = Signal(range(p.max_classes))

        m.d.comb += [w_rd.en.eq(1), b_rd.en.eq(1), a_rd.en.eq(1), z_rd.en.eq(1)]

        m.d.sync += [w_read.eq(0), bias_load.eq(0)]

        # Sampling: the neuron pipeline's results are packed (hidden) or compared (output).
        m.d.comb += [neuron.z.eq(z_rd.data.as_signed()), neuron.words.eq(self.noise.payload),
                     neuron.tag.eq(neuron_index)]
        done_index = neuron.out_tag
        with m.If(neuron.out_valid):
            with m.If(last_layer):
                with m.If((done_index == 0) | (neuron.score > best_score)):
                    m.d.sync += [best_score.eq(neuron.score), best_class.eq(done_index)]
            with m.Else():
                position = done_index[:sw_bits] if sw_bits else Const(0, 1)
                word = Signal(sw)
                m.d.comb += word.eq(packed | (neuron.fire << position))
                m.d.sync += packed.eq(word)
                with m.If((position == sw - 1) | (done_index == n_out - 1)):
                    m.d.comb += [a_wr.addr.eq(act_write_base + (done_index >> sw_bits)),
                                 a_wr.data.eq(word), a_wr.en.eq(1)]
                    m.d.sync += packed.eq(0)

        with m.If(~idle):
            m.d.sync += cycles.eq(cycles + 1)

        with m.FSM():
            with m.State("IDLE"):
                m.d.comb += idle.eq(1)
                with m.If(commands.start):
                    m.d.sync += [done.eq(0), cycles.eq(0)]
                    m.next = "CHECK"

            with m.State("CHECK"):
                # The class count is the size after the last layer.
                with m.If((out_layer_size < 2) | (out_layer_size > p.max_classes)):
                    m.d.comb += commands.refuse.eq(1)
                    m.d.sync += refused.eq(1)
                    m.next = "IDLE"
                with m.Else():
                    m.d.sync += [refused.eq(0), noise_wait.eq(0), sample.eq(0), layer.eq(0),
                                 tile_ptr.eq(0), bias_ptr.eq(0)]
                    m.d.comb += votes.clear.eq(1)
                    m.next = "SEED"

            with m.State("SEED"):
                m.d.comb += [whitener.raw.valid.eq(1), whitener.raw.payload.eq(seed)]
                with m.If(whitener.raw.ready):
                    m.next = "LAYER"

            with m.State("LAYER"):
                size_in, size_out = sizes[layer], sizes[layer + 1]
                m.d.sync += [
                    n_out.eq(size_out), left.eq(size_out),
                    last_layer.eq(layer == layers - 1), clamp_hidden.eq(layer != layers - 1),
                    shift.eq(shifts[layer]),
                    row_tiles.eq((size_in + tr - 1) >> tr_bits),
                    chunks.eq((size_in + sw - 1) >> sw_bits),
                    last_mask.eq(Mux(size_in[:sw_bits] == 0, (1 << sw) - 1,
                                     (Const(1, sw + 1) << size_in[:sw_bits]) - 1)),
                    act_read_base.eq(Mux(layer == 0, act_base[0],
                                         Mux(layer[0], act_base[1], act_base[2]))),
                    act_write_base.eq(Mux(layer[0], act_base[2], act_base[1])),
                    z_base.eq(Mux(layer == 0, 0, z_region)),
                    z_ptr.eq(Mux(layer == 0, 0, z_region)),
                ]
                with m.If((layer == 0) & (sample != 0)):
                    m.d.sync += [tile_ptr.eq(kept_tile_ptr), bias_ptr.eq(kept_bias_ptr)]
                    m.next = "SAMPLE_START"
                with m.Else():
                    m.next = "BIAS"

            with m.State("BIAS"):
                m.d.comb += b_rd.addr.eq(bias_ptr)
                m.d.sync += [bias_ptr.eq(bias_ptr + 1), bias_load.eq(1), next_chunk.eq(0),
                             bits.eq(0), loading.eq(0)]
                m.next = "ACC"

            with m.State("ACC"):
                with m.If(loading):
                    mask = Mux(chunk_is_last, last_mask, (1 << sw) - 1)
                    m.d.sync += [bits.eq(a_rd.data & mask), loading.eq(0)]
                with m.Else():
                    lowest = Signal(max(1, sw_bits))
                    for k in reversed(range(sw)):
                        with m.If(bits[k]):
                            m.d.comb += lowest.eq(k)
                    remaining = Signal(sw)
                    m.d.comb += remaining.eq(bits & (bits - 1))       # clears the lowest bit
                    row = Cat(lowest[:sw_bits], chunk)[:tr_bits]      # row within the tile
                    m.d.comb += w_rd.addr.eq(Cat(row, chunk_tile))
                    m.d.sync += [w_read.eq(bits != 0), bits.eq(remaining)]
                    with m.If(remaining == 0):
                        with m.If(next_chunk != chunks):
                            m.d.comb += a_rd.addr.eq(act_read_base + next_chunk)
                            m.d.sync += [
                                chunk.eq(next_chunk), next_chunk.eq(next_chunk + 1),
                                chunk_is_last.eq(next_chunk == chunks - 1),
                                chunk_tile.eq(tile_ptr + (next_chunk >> (tr_bits - sw_bits))),
                                loading.eq(1)]
                        with m.Else():
                            m.next = "FLUSH"

            with m.State("FLUSH"):                  # the last weight row is on w_rd.data
                m.next = "FLUSH_ADD"

            with m.State("FLUSH_ADD"):              # ... and is being added
                m.d.sync += [tile_ptr.eq(tile_ptr + row_tiles), column.eq(0)]
                m.next = "DRAIN"

            with m.State("DRAIN"):
                m.d.comb += accs.drain.eq(1)
                m.d.sync += [z_ptr.eq(z_ptr + 1), left.eq(left - 1), column.eq(column + 1)]
                with m.If(left == 1):
                    with m.If((layer == 0) & (sample == 0)):
                        m.d.sync += [kept_tile_ptr.eq(tile_ptr), kept_bias_ptr.eq(bias_ptr)]
                    m.next = "DRAIN_TAIL"
                with m.Elif(column == tc - 1):
                    m.next = "BIAS"

            with m.State("DRAIN_TAIL"):             # the last two writes land
                m.next = "DRAIN_TAIL_2"

            with m.State("DRAIN_TAIL_2"):
                m.next = "SAMPLE_START"

            with m.State("SAMPLE_START"):
                m.d.comb += z_rd.addr.eq(z_base)
                m.d.sync += [neuron_index.eq(0), packed.eq(0)]
                m.next = "SAMPLE"

            with m.State("SAMPLE"):
                with m.If(self.noise.valid):
                    m.d.comb += [self.noise.ready.eq(1), neuron.valid.eq(1),
                                 z_rd.addr.eq(z_base + neuron_index + 1)]
                    m.d.sync += neuron_index.eq(neuron_index + 1)
                    with m.If(neuron_index == n_out - 1):
                        m.next = "SAMPLE_TAIL"
                with m.Else():
                    m.d.comb += z_rd.addr.eq(z_base + neuron_index)
                    m.d.sync += noise_wait.eq(noise_wait + 1)

            with m.State("SAMPLE_TAIL"):            # the neuron pipeline empties
                m.next = "SAMPLE_TAIL_2"

            with m.State("SAMPLE_TAIL_2"):
                m.next = "NEXT"

            with m.State("NEXT"):
                with m.If(~last_layer):
                    m.d.sync += layer.eq(layer + 1)
                    m.next = "LAYER"
                with m.Else():
                    m.d.comb += [votes.vote.eq(1), votes.winner.eq(best_class)]
                    m.next = "VOTE"

            with m.State("VOTE"):                   # the tally counts the vote
                m.d.sync += [layer.eq(0), sample.eq(sample + 1)]
                with m.If(sample == samples - 1):
                    m.d.sync += done.eq(1)
                    m.next = "IDLE"
                with m.Else():
                    m.next = "LAYER"
        return m
