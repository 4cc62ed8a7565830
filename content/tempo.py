"""A song's tempo (beats per minute) from its sound, with how sure we are.

The classic recipe (Scheirer 1998; Ellis 2007; librosa's `beat.tempo`): a spectral-flux
onset envelope, its autocorrelation, and a gentle preference for tempi near 120 BPM on a
log scale, so that a beat is not mistaken for a bar. Written here in plain numpy because
the libraries that do it do not fit the kiosk: aubio has no wheels on PyPI (it needs a
compiler) and Debian's python3-aubio is tied to Debian's numpy; librosa pulls in scipy,
numba and more than a Raspberry Pi Zero's memory can spare. This takes about 20 ms of CPU
for a three-minute song here and keeps only the envelope (about 86 numbers a second).

Feed it mono samples at the song's own rate in pieces as they are decoded, then ask
`estimate()`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WORKING_RATE = 5512.5                 # the envelope is made at about this rate: beats live below it
HOP_SECONDS = 64 / WORKING_RATE       # 11.6 ms: 86 envelope values a second
FRAME_HOPS = 4                        # each spectrum covers four hops (46 ms)
SLOWEST, FASTEST = 40.0, 240.0        # the lags searched; double and half of 60-160 BPM fit
PREFERRED = 120.0                     # centre of the log-normal preference, in BPM
PREFERENCE_OCTAVES = 1.0              # its width
MIN_SECONDS = 6.0                     # a shorter sound has no tempo we would trust
MIN_FLUX = 0.5                        # average onset strength below which nothing beats:
                                      # a held tone scores about 0.2, quiet music 2 or more


@dataclass(frozen=True)
class Tempo:
    bpm: float
    confidence: float                 # 0..1: how strongly the sound repeats at that beat


class OnsetEnvelope:
    """How much new sound starts at each moment (spectral flux of log magnitudes)."""

    def __init__(self, rate: float) -> None:
        self.decimate = max(1, round(rate / WORKING_RATE))
        working = rate / self.decimate
        self.hop = max(8, round(working * HOP_SECONDS))
        self.frame = FRAME_HOPS * self.hop
        self.envelope_rate = working / self.hop
        self._window = np.hanning(self.frame)
        self._pending = np.zeros(0, dtype=np.float64)    # samples not yet decimated
        self._tail = np.zeros(0, dtype=np.float64)       # decimated samples not yet framed
        self._previous: np.ndarray | None = None         # log spectrum of the last frame
        self._parts: list[np.ndarray] = []

    def add(self, mono: np.ndarray) -> None:
        """Mono samples at the rate given at the start, any scale."""
        x = np.concatenate([self._pending, np.asarray(mono, dtype=np.float32)])
        whole = len(x) - len(x) % self.decimate
        self._pending = x[whole:]
        small = x[0:whole:self.decimate].astype(np.float64)      # the mean of each group,
        for k in range(1, self.decimate):                         # without numpy's slow
            small += x[k:whole:self.decimate]                     # short-row reduction
        small /= self.decimate
        y = np.concatenate([self._tail, small])
        hop, frame = self.hop, self.frame
        count = (len(y) - frame) // hop + 1
        if count <= 0:
            self._tail = y
            return
        frames = np.lib.stride_tricks.as_strided(y, (count, frame), (y.strides[0] * hop, y.strides[0]))
        spectra = np.log1p(100.0 * np.abs(np.fft.rfft(frames * self._window, axis=1)))
        before = spectra[:1] if self._previous is None else self._previous[None]
        rises = np.diff(np.vstack([before, spectra]), axis=0)
        self._parts.append(np.maximum(rises, 0.0).sum(axis=1))
        self._previous = spectra[-1]
        self._tail = y[count * hop:]

    def envelope(self) -> np.ndarray:
        return np.concatenate(self._parts) if self._parts else np.zeros(0)

    def estimate(self) -> Tempo | None:
        return estimate(self.envelope(), self.envelope_rate)


def estimate(envelope: np.ndarray, envelope_rate: float) -> Tempo | None:
    """The most likely beat of an onset envelope, or None when there is too little sound
    or nothing in it beats (a held tone, a hum)."""
    env = np.asarray(envelope, dtype=np.float64)
    if len(env) < MIN_SECONDS * envelope_rate or env.mean() < MIN_FLUX:
        return None
    # Keep only what rises above the local level: slow swells and quiet intros weigh less.
    width = int(envelope_rate)
    local = np.convolve(env, np.ones(width) / width, mode="same")
    e = np.maximum(env - local, 0.0)
    e -= e.mean()
    n = len(e)
    spectrum = np.fft.rfft(e, 2 * n)
    ac = np.fft.irfft(spectrum * np.conj(spectrum))[:n]
    if ac[0] <= 0:
        return None
    ac /= ac[0]
    first = int(envelope_rate * 60 / FASTEST)
    last = min(n - 1, int(envelope_rate * 60 / SLOWEST) + 1)
    lags = np.arange(first, last)
    # A beat repeats at two and four beats too (most music groups beats in twos); adding
    # those keeps a strong off-beat or a three-beat figure from winning.
    score = ac[lags].copy()
    for multiple in (2, 4):
        at = lags * multiple
        inside = at < n
        score[inside] += ac[at[inside]] / multiple
    bpm = 60 * envelope_rate / lags
    preference = np.exp(-0.5 * (np.log2(bpm / PREFERRED) / PREFERENCE_OCTAVES) ** 2)
    best = int(lags[int(np.argmax(score * preference))])
    period = _refine(ac, best)
    return Tempo(bpm=round(60 * envelope_rate / period, 1), confidence=round(float(np.clip(ac[best], 0.0, 1.0)), 2))


def _refine(ac: np.ndarray, lag: int) -> float:
    """The beat period to a fraction of an envelope step: each of the first few multiples
    of the lag is located by parabolic interpolation and the periods are averaged."""
    periods = []
    for multiple in (1, 2, 3, 4):
        centre = lag * multiple
        low, high = max(1, centre - multiple), min(len(ac) - 2, centre + multiple)
        if low > high:
            break
        j = low + int(np.argmax(ac[low:high + 1]))
        a, b, c = ac[j - 1], ac[j], ac[j + 1]
        bend = a - 2 * b + c
        offset = 0.5 * (a - c) / bend if bend < 0 else 0.0
        periods.append((j + offset) / multiple)
    return float(np.mean(periods)) if periods else float(lag)
