"""Layer descriptors: what the mapper packs is what the plan and the network say, field by
field (read back through the one format definition), and a layer too large for the core's
descriptor fields is refused by name."""

import numpy as np
import pytest
from cimforge.golden.network import Conv2d, Flatten, Linear, Network, Neurons, SumPool2d
from cimforge.mapper import MappingError, descriptors, map_network
from cimforge.params.cim_macro import Op
from cimforge.params.snn import SnnCoreParams
from cimforge.verif import seeds
from cimforge.verif.snn.stimulus import random_network

CORE = SnnCoreParams(rows=2048, cols=32, max_slices=16, max_lane=8, buffer_rows=8192)


@pytest.mark.parametrize("kind", ["fc", "conv"])
@pytest.mark.parametrize("stationarity", ["ws", "os"])
def test_descriptor_fields_read_back(kind, stationarity):
    rng = seeds.np_rng("descriptors", kind, stationarity)
    net = random_network(rng, kind)
    mapping = map_network(net, CORE.macro, stationarity, CORE.buffer_rows)
    for plan, config, word in zip(mapping.plans, mapping.configs,
                                  descriptors(net, mapping, CORE)):
        fields = CORE.descriptor_format.unpack(word)
        layer, shape_out = net.layers[plan.layer], net.shapes[plan.layer]
        assert fields["conv"] == isinstance(layer, Conv2d)
        assert fields["os"] == (stationarity == "os")
        assert (fields["lanes"], fields["groups"], fields["chunk"], fields["s_v"]) == \
            (plan.lanes, plan.groups, plan.chunk, plan.s_v)
        assert fields["channels"] == shape_out[0]
        assert fields["weight_rows"] == plan.weight_rows
        assert fields["has_bias"] == (layer.bias is not None)
        if isinstance(layer, Conv2d):
            assert (fields["kh"], fields["stride_y"], fields["pad_x"], fields["out_w"]) == \
                (layer.weight.shape[2], layer.stride[0], layer.padding[1], shape_out[2])
        # The steps the controller walks by, in rows.
        kh, kw = layer.weight.shape[2:] if isinstance(layer, Conv2d) else (1, 1)
        assert fields["total_rows"] == plan.groups * plan.s_v
        assert fields["line_rows"] == fields["out_w"] * plan.channel_groups * plan.s_v
        assert fields["group_weights"] == net.shape_in(plan.layer)[0] * kh * kw * plan.s_w
        # The layer's PLANE data waits in the buffer, in plane order.
        planes = [cmd[3] for cmd in config.commands(CORE.macro) if cmd[0] == Op.PLANE]
        assert [mapping.buffer_image[fields["buffer_planes"] + i]
                for i in range(len(planes))] == planes


def test_pooling_after_a_layer_is_in_its_descriptor():
    """Pooling and flattening are done by the layer that sends the events: its spikes leave
    pooled, and flat when the next layer is linear (or there is none)."""
    net = Network((1, 8, 8), [
        Conv2d(np.ones((2, 1, 3, 3), int), Neurons(3, 2, 8), padding=1),
        SumPool2d(2), SumPool2d((1, 2)), Flatten(),
        Linear(np.ones((3, 2 * 4 * 2), int), Neurons(3, 2, 8))])
    mapping = map_network(net, CORE.macro, "ws", CORE.buffer_rows)
    words = descriptors(net, mapping, CORE)
    fields = [CORE.descriptor_format.unpack(w) for w in words]
    assert [(f["pool_y"], f["pool_x"], f["flat"]) for f in fields] == [(2, 4, 1), (1, 1, 1)]
    assert [(f["pooled_w"], f["out_positions"]) for f in fields] == [(2, 8), (1, 1)]
    # A linear layer is held as a 1 x 1 convolution on a 1 x 1 map.
    assert [fields[1][k] for k in ("kh", "kw", "out_h", "out_w", "stride_y")] == [1] * 5


def test_a_convolution_feeding_a_convolution_sends_coordinates():
    net = Network((1, 6, 6), [
        Conv2d(np.ones((2, 1, 3, 3), int), Neurons(3, 2, 8), padding=1), SumPool2d(3),
        Conv2d(np.ones((2, 2, 1, 1), int), Neurons(3, 2, 8))])
    mapping = map_network(net, CORE.macro, "ws", CORE.buffer_rows)
    first, last = (CORE.descriptor_format.unpack(w) for w in descriptors(net, mapping, CORE))
    assert (first["flat"], first["pool_y"], first["pooled_w"]) == (0, 3, 2)
    assert (last["flat"], last["out_positions"]) == (1, 4)


def test_a_layer_wider_than_the_core_is_refused():
    net = Network((4,), [Linear(np.ones((40, 4), int), Neurons(3, 2, 8))])
    core = SnnCoreParams(rows=256, cols=32, max_slices=8, max_lane=8, max_channels=16)
    mapping = map_network(net, core.macro, "ws", core.buffer_rows)
    with pytest.raises(MappingError, match="layer 0: does not fit this core's descriptor: "
                                           ".*channels = 40 does not fit"):
        descriptors(net, mapping, core)
