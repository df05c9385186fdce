"""The offline event datasets (`cimforge.event_data`): the DVS pixel model against the
arithmetic it states, determinism per sample, the event statistics each set is calibrated
to, and a gesture-like set that is a task (above chance, not solved by a template)."""

import numpy as np
import pytest
from cimforge.event_data import (
    EVENT_DTYPE,
    GESTURES,
    PixelModel,
    digits_events,
    gesture_sample,
    gestures,
    nmnist_like,
    to_counts,
)
from cimforge.verif import seeds


def test_a_log_intensity_step_gives_floor_of_change_over_contrast_events():
    """No mismatch, no noise: a pixel whose log intensity rises by d emits floor(d / C) ON
    events, spread over the step; falling back emits as many OFF events."""
    model = PixelModel(contrast=0.2, mismatch=0.0, noise_hz=0.0, floor=0.0)
    rng = seeds.np_rng("pixel-step")
    levels = rng.uniform(0.05, 1.0, (3, 2))
    frames = np.stack([levels[0], levels[1], levels[0]])[:, None, :]     # (3, 1, 2)
    events = model.events(frames, 1000, rng)
    assert events.dtype == EVENT_DTYPE and np.all(np.diff(events["t"]) >= 0)
    for x in range(2):
        change = np.log(levels[1, x]) - np.log(levels[0, x])
        up = int(np.floor(abs(change) / 0.2))
        mine = events[events["x"] == x]
        first, second = mine[mine["t"] < 1000], mine[mine["t"] >= 1000]
        assert len(first) == up and set(first["p"]) <= {int(change > 0)}
        # back down: the reference moved by up * C, so the way back is that over C (in the
        # model's own float arithmetic, which may land a hair under an integer)
        moved = np.log(levels[0, x]) + np.sign(change) * up * 0.2
        back = int(np.floor(abs(np.log(levels[0, x]) - moved) / 0.2))
        assert len(second) == back and set(second["p"]) <= {int(change < 0)}


def test_background_noise_has_the_stated_rate():
    """A still scene: only background events, noise_hz per pixel per second, half ON."""
    model = PixelModel(noise_hz=5.0)
    frames = np.full((1001, 20, 20), 0.5)                               # 1 s
    events = model.events(frames, 1000, seeds.np_rng("pixel-noise"))
    expected = 5.0 * 400
    assert abs(len(events) - expected) < 5 * np.sqrt(expected), len(events)
    assert abs(events["p"].mean() - 0.5) < 0.1


def test_samples_are_a_function_of_the_seed_and_their_index():
    alone = nmnist_like([7], seed=3).samples[0]
    among = nmnist_like([5, 7, 9], seed=3).samples[1]
    assert np.array_equal(alone, among)
    assert not np.array_equal(alone, nmnist_like([7], seed=4).samples[0])
    assert np.array_equal(gestures(1, seed=2, first=13).samples[0],
                          gestures(3, seed=2, first=12).samples[1])


def test_nmnist_like_matches_n_mnist_statistics():
    """Calibrated to one real N-MNIST sample (4 325 events, ON fraction 0.50): the mean over
    20 digits of every class within 30 %, ON fraction 0.45-0.55, 34 x 34 and 300 ms."""
    data = nmnist_like(range(0, 5000, 250), seed=seeds.session_seed())
    counts = [len(e) for e in data.samples]
    assert 0.7 * 4325 < np.mean(counts) < 1.3 * 4325, np.mean(counts)
    assert 0.45 < np.mean([e["p"].mean() for e in data.samples]) < 0.55
    assert data.sensor == (2, 34, 34) and data.duration_us == 300_000
    assert sorted(set(data.labels.tolist())) == list(range(10))
    for e in data.samples:
        assert e["x"].min() >= 0 and e["x"].max() < 34 and e["t"].max() < 300_000


def test_digits_events_are_the_small_case():
    data = digits_events(range(0, 1797, 180), seed=seeds.session_seed())
    assert data.sensor == (2, 12, 12)
    assert all(100 < len(e) < 2000 for e in data.samples)


def test_counts_keep_every_event_in_its_bin_and_polarity():
    data = digits_events([0, 1])
    for events in data.samples:
        counts = to_counts(events, data.sensor, data.duration_us, bins=10)
        assert counts.shape == (10, 2, 12, 12) and counts.sum() == len(events)
        assert counts[:, 1].sum() == int(events["p"].sum())
        late = events[events["t"] >= 9 * data.duration_us // 10]
        assert counts[9].sum() == len(late)


def test_clockwise_and_counter_clockwise_differ_only_in_direction():
    """Same nuisance draw (same generator state), classes 3 and 4: the same number of
    events to within noise, but not the same events."""
    cw = gesture_sample(3, np.random.default_rng(11))
    ccw = gesture_sample(4, np.random.default_rng(11))
    assert abs(len(cw) - len(ccw)) < 0.25 * len(cw)
    assert not np.array_equal(cw, ccw)


@pytest.mark.parametrize("seed", [1])
def test_the_gesture_like_set_is_a_task(seed):
    """11 balanced classes; a template matcher (nearest class mean of 6 time bins) trained
    on 110 samples beats chance (1/11) on 55 others, but is far from solving it."""
    data = gestures(165, seed=seed)
    assert np.bincount(data.labels).tolist() == [15] * len(GESTURES)
    x = np.array([to_counts(e, data.sensor, data.duration_us, 6).reshape(-1)
                  for e in data.samples], dtype=float)
    train, test = np.arange(110), np.arange(110, 165)
    means = np.array([x[train][data.labels[train] == k].mean(0) for k in range(11)])
    guess = np.argmin(((x[test][:, None] - means) ** 2).sum(-1), axis=1)
    accuracy = (guess == data.labels[test]).mean()
    assert 2 / 11 < accuracy < 0.9, accuracy
