"""The RACA RTL on distributions and on real data (Icarus and Verilator).

* Statistics: firing frequency vs the sigmoid (or probit) curve, and winner frequencies vs
  softmax, measured from the RTL (tb_raca_stats).
* Trained networks on their test images, image by image against the golden model
  (tb_raca_workload): the digits network on both simulators, the 784-256-10 MNIST network
  (the `mnist` preset, 1024-bit weight words) on Verilator.
"""

import pytest
from cimforge.blocks import get
from cimforge.verif import harness
from cimforge.verif.raca.stimulus import stats_params


@pytest.mark.parametrize("neuron", ["sigmoid", "gauss"])
def test_raca_statistics(sim, neuron):
    harness.run(sim, stats_params(neuron), "cimforge.verif.raca.tb_stats", name="stats",
                args={"inferences": 150, "points": 12, "wta_samples": 3000, "gap": 0.05,
                      "stall": 0.05})


def test_raca_digits(sim):
    harness.run(sim, get("raca").configure("digits"), "cimforge.verif.raca.tb_workload",
                name="digits", args={"dataset": "digits", "images": 12, "samples": 8})


@pytest.mark.parametrize("sim", ["verilator"], indirect=True)
def test_raca_mnist(sim):
    harness.run(sim, get("raca").configure("mnist"), "cimforge.verif.raca.tb_workload",
                name="mnist", args={"dataset": "mnist", "images": 3, "samples": 4, "gap": 0,
                                    "stall": 0})
