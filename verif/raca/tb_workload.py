"""cocotb testbench: a trained network on real test images, through the RTL, image by image
against the golden model.

Launcher arguments: `dataset` (mnist | digits), `images` (first n test images), `samples` (T,
or a list: every image runs once per T),
`base_seed`. Measures (`testbench.measure`) `images`: the per-image record, with each
inference's cycles counted at the `busy` port (and the CYCLES register, which must agree).
"""


import cocotb
import numpy as np
from cimforge.golden.raca import (
    Op,
    RacaModel,
    Reg,
    command,
    cycles,
    image_seed,
    program,
    run_commands,
)
from cimforge.raca_workload import load_dataset, load_network
from cimforge.verif.raca.host import DONE, start
from cimforge.verif.testbench import CLOCK_NS, measure
from cocotb.triggers import FallingEdge, RisingEdge
from cocotb.utils import get_sim_time


class BusyWatch:
    """The cycles of every inference, timed at the `busy` port (on its edges only, so no
    Python runs per cycle): the port-level count the CYCLES register is checked against."""

    def __init__(self, dut):
        self.spans = []
        cocotb.start_soon(self._watch(dut))

    async def _watch(self, dut):
        while True:
            await RisingEdge(dut.busy)
            start = get_sim_time(unit="ns")
            await FallingEdge(dut.busy)
            self.spans.append(round((get_sim_time(unit="ns") - start) / CLOCK_NS))


@cocotb.test()
async def test_images(dut):
    params, args, rng, host, noise = await start(dut)
    data = load_dataset(args["dataset"])
    net = load_network(args["dataset"])
    model = RacaModel(params)
    choices = args["samples"] if isinstance(args["samples"], list) else [args["samples"]]
    await host.send(program(params, net))
    watch = BusyWatch(dut)
    record = []
    for k in range(args["images"]):
        x, label = data.x_test[k], int(data.y_test[k])
        seed = image_seed(k, params.lfsr_length, args.get("base_seed", 0))
        for samples in choices:
            result = model.infer(net, x, samples, seed)
            if noise is not None:
                noise.need = result.transfers
            await host.send(run_commands(params, x, samples, seed))
            expected = cycles(params, net, x, result)
            status = await host.wait_done(expected + 200, expected=expected - 20)
            assert status == DONE, f"image {k}: status {status:#x}"
            regs = [Reg.PREDICTION, Reg.CYCLES, Reg.NOISE_WAIT]
            regs += [Reg.COUNT + c for c in range(net.sizes[-1])]
            got = await host.read([command(params, Op.READ_REG, r) for r in regs])
            prediction, busy, waited, counts = got[0], got[1], got[2], got[3:]
            what = f"image {k}, T = {samples}"
            assert counts == list(result.counts), f"{what}: counts {counts}, " \
                                                  f"model {list(result.counts)}"
            assert prediction == result.prediction
            assert busy - waited == expected, f"{what}: {busy} cycles, model {expected}"
            port = watch.spans[-1]
            assert port == busy, f"{what}: busy for {port} cycles at the port, CYCLES {busy}"
            record.append({"image": k, "label": label, "samples": samples,
                           "prediction": prediction, "counts": counts, "cycles": port,
                           "cycles_register": busy})
    for samples in choices:
        rows = [r for r in record if r["samples"] == samples]
        correct = sum(r["prediction"] == r["label"] for r in rows)
        dut._log.info(f"{args['dataset']}: {correct}/{len(rows)} correct at T={samples}, "
                      f"{np.mean([r['cycles'] for r in rows]):.0f} cycles per inference")
    measure("images", record)
