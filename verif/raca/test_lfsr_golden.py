"""The LFSR golden model and polynomial table against slow, independent oracles."""


import numpy as np
import pytest
from cimforge.golden.lfsr import LfsrBankModel, reference_bits
from cimforge.params import ParamError
from cimforge.params.lfsr_bank import LfsrBankParams, lane_state, salt
from cimforge.params.lfsr_polynomials import MAX_LANES, MAX_LENGTH, MIN_LENGTH, polynomials, search
from cimforge.verif import seeds


@pytest.mark.parametrize("length", range(MIN_LENGTH, MAX_LENGTH + 1))
def test_table_is_the_first_primitive_polynomials(length):
    """Re-derive the table: each entry primitive, ascending, none skipped."""
    assert list(polynomials(length)) == search(length, MAX_LANES)


@pytest.mark.parametrize("length", range(MIN_LENGTH, 13))
def test_small_polynomials_have_full_period_by_stepping(length):
    """Independent of the algebra: step every small register until it returns to 1."""
    period = (1 << length) - 1
    for poly in polynomials(length):
        bits = reference_bits(poly, 1, 2 * period)
        assert bits[:period] == bits[period:], f"{poly:#x} does not repeat after {period}"
        windows = {tuple(bits[i:i + length]) for i in range(period)}
        assert len(windows) == period, f"{poly:#x} visits {len(windows)} of {period} states"


def test_table_sizes():
    assert [len(polynomials(n)) for n in (8, 9, 10, 11, 64)] == [16, 48, 60, 64, 64]


@pytest.mark.parametrize("width,lanes,length", [(1, 1, 8), (8, 4, 32), (7, 3, 13),
                                                (64, 2, 64), (13, 16, 61), (5, 1, 9)])
def test_vectorised_model_matches_bit_serial_reference(width, lanes, length):
    rng = seeds.rng("vectorised", width, lanes, length)
    params = LfsrBankParams(width=width, lanes=lanes, length=length)
    model = LfsrBankModel(params)
    for seed in (0, 1, rng.getrandbits(length)):
        words = model.words(seed, 257)
        for lane in range(lanes):
            bits = reference_bits(model.polys[lane], lane_state(seed, lane, length), 257 * width)
            expected = [int("".join(map(str, bits[i * width:(i + 1) * width])), 2)
                        for i in range(257)]
            assert words[:, lane].tolist() == expected


def test_seed_mapping():
    assert salt(0, 32) == 0x9E3779B9                          # top bits of the golden ratio
    assert lane_state(0, 0, 32) == 0x9E3779B9
    assert lane_state(salt(3, 20), 3, 20) == 1                # all-zero state remapped to 1
    assert lane_state(0xFFFF_FFFF_FF, 0, 16) == 0xFFFF ^ 0x9E37   # seed truncated to L bits
    assert len({salt(k, 64) for k in range(64)}) == 64


def test_reset_sequence_is_reset_seed():
    params = LfsrBankParams(reset_seed=0xBEEF)
    model = LfsrBankModel(params)
    assert np.array_equal(model.after_reset(10), model.words(0xBEEF, 10))


@pytest.mark.parametrize("kwargs,fragment", [
    ({"width": 0}, "'width' = 0 is out of range"),
    ({"width": 33, "length": 32}, "must not exceed length"),
    ({"lanes": 17, "length": 8}, "at most 16 lanes"),
    ({"length": 7}, "'length' = 7 is out of range; allowed 8..64"),
    ({"reset_seed": 1 << 40, "length": 32}, "must fit in length"),
    ({"lanes": "4"}, "must be an integer"),
])
def test_bad_parameters_are_rejected(kwargs, fragment):
    with pytest.raises(ParamError, match=fragment.replace("(", r"\(")):
        LfsrBankParams(**kwargs)
