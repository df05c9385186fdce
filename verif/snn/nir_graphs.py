"""NIR graphs in the shapes exporters write, for the NIR tests and the `nir` benchmark."""

import numpy as np
from cimforge.golden.nir_graph import sequence


def _pool():
    import nir
    two = np.array([2, 2])
    return nir.SumPool2d(kernel_size=two, stride=two, padding=np.array([0, 0]))


def neurons(shape, threshold=1.0, r=1.0, **metadata):
    """An IF node with per-neuron arrays shaped like the layer's output, as exporters write."""
    import nir
    return nir.IF(r=np.broadcast_to(np.asarray(r, float), shape).copy(),
                  v_threshold=np.full(shape, float(threshold)), v_reset=np.zeros(shape),
                  metadata=metadata)


def nmnist_cnn(rng, size: int = 34, channels=(16, 16, 8), hidden: int = 256,
               first_kernel: int = 5, gain: float = 2.0, threshold: float = 0.5):
    """The NIR paper's N-MNIST CNN (2 x size x size -> Conv 2->16 5x5 stride 2 padding 1 -> IF
    -> Conv 16->16 3x3 padding 1 -> IF -> SumPool 2 -> Conv 16->8 3x3 padding 1 -> IF ->
    SumPool 2 -> Flatten -> Linear 128->256 -> IF -> Linear 256->10 -> IF) with random float
    weights (He-style, times `gain`) and small random biases; smaller `size`, `channels`,
    `hidden` and `first_kernel` give the same topology scaled down."""
    import nir
    c0, c1, c2 = channels
    m0 = (size + 2 - first_kernel) // 2 + 1
    m1, m2 = m0 // 2, m0 // 4

    def conv(c_in, c_out, k, stride, m):
        weight = rng.normal(0, gain / np.sqrt(c_in * k * k), (c_out, c_in, k, k))
        return nir.Conv2d(input_shape=(m, m), weight=weight, stride=(stride, stride),
                          padding=(1, 1), dilation=(1, 1), groups=1,
                          bias=rng.normal(0, 0.02, c_out))

    def linear(n_in, n_out):
        return nir.Linear(weight=rng.normal(0, gain / np.sqrt(n_in), (n_out, n_in)))

    return sequence(
        (2, size, size),
        ("conv0", conv(2, c0, first_kernel, 2, size)), ("if0", neurons((c0, m0, m0), threshold)),
        ("conv1", conv(c0, c1, 3, 1, m0)), ("if1", neurons((c1, m0, m0), threshold)),
        ("pool1", _pool()),
        ("conv2", conv(c1, c2, 3, 1, m1)), ("if2", neurons((c2, m1, m1), threshold)),
        ("pool2", _pool()),
        ("flatten", nir.Flatten(input_type={"input": np.array([c2, m2, m2])}, start_dim=0)),
        ("fc1", linear(c2 * m2 * m2, hidden)), ("if3", neurons((hidden,), threshold)),
        ("fc2", linear(hidden, 10)), ("if4", neurons((10,), threshold)))
