"""Everything we learn about a song from one pass over its decoded sound: how long it
really lasts, how loud it is (EBU R128), its true peak, how much of it is sound at all,
and its tempo.

The decoder hands over 16-bit stereo at the file's own sample rate, in pieces; nothing
here keeps more than a few seconds of audio, so a long file costs time but not memory.
The rate is left alone on purpose: resampling to save work removes the treble, which
K-weighting counts, and a bright recording would then read a decibel quieter than it is.
"""
from __future__ import annotations

import math
from functools import cache

import numpy as np

from content import loudness, tempo
from content.sound import SoundAnalysis

CHANNELS = 2
SOUND_FLOOR_DB = -60.0              # a block quieter than this (RMS, dBFS) is silence
OVERSAMPLE = 4                      # BS.1770's true-peak oversampling
PEAK_WINDOW = 64                    # samples around a loud moment that are oversampled
_HALF_TAPS = 8                      # of the interpolating filter, each side


class Analyser:
    """Fed interleaved int16 stereo at `rate`; `finish()` says what it heard."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._block = max(1, rate // 10)      # 100 ms, for "is there sound here"
        self._meter = loudness.Meter(CHANNELS, rate)
        self._onsets = tempo.OnsetEnvelope(rate)
        self._frames = 0
        self._sound_blocks = 0
        self._block_rest = np.zeros(0, dtype=np.float32)
        self._peak = 0.0                  # largest oversampled |sample|, full scale 1.0
        self._finished: SoundAnalysis | None = None

    @property
    def seconds(self) -> float:
        return self._frames / self.rate

    def add(self, samples: np.ndarray) -> None:
        samples = np.asarray(samples, dtype=np.int16).reshape(-1)
        samples = samples[: len(samples) - len(samples) % CHANNELS]
        if not len(samples):
            return
        self._frames += len(samples) // CHANNELS
        self._meter.add(samples)
        # Whole-array operations only: numpy is slow at reducing rows of two.
        mono = samples[0::2].astype(np.float32)
        mono += samples[1::2]
        mono *= 0.5 / 32768.0
        self._onsets.add(mono)
        self._count_sound(mono)
        self._track_peak(samples)

    def _count_sound(self, mono: np.ndarray) -> None:
        x = np.concatenate([self._block_rest, mono]) if len(self._block_rest) else mono
        whole = len(x) - len(x) % self._block
        self._block_rest = x[whole:].copy()
        if whole:
            blocks = x[:whole].reshape(-1, self._block)
            power = np.einsum("ij,ij->i", blocks, blocks) / self._block
            self._sound_blocks += int(np.count_nonzero(power > 10 ** (SOUND_FLOOR_DB / 10)))

    def _track_peak(self, samples: np.ndarray) -> None:
        """The true peak lies between samples near the loudest ones; only moments within
        6 dB of the loudest so far are worth oversampling."""
        high, low = int(samples.argmax()), int(samples.argmin())
        where = high if int(samples[high]) >= -int(samples[low]) else low
        loudest = abs(int(samples[where])) / 32768.0
        if loudest < self._peak / 2 or loudest == 0:
            return
        frame = where // CHANNELS
        start = max(0, frame - PEAK_WINDOW // 2)
        window = samples[start * CHANNELS:(start + PEAK_WINDOW) * CHANNELS].reshape(-1, CHANNELS) / 32768.0
        self._peak = max(self._peak, loudest, oversampled_peak(window))

    def finish(self) -> SoundAnalysis:
        if self._finished is None:
            found = self._onsets.estimate()
            level = self._meter.integrated()
            self._meter.close()
            self._finished = SoundAnalysis(
                seconds=round(self.seconds, 3),
                sound_seconds=round(self._sound_blocks * self._block / self.rate, 1),
                loudness_lufs=None if level is None else round(level, 2),
                peak_db=round(20 * math.log10(self._peak), 2) if self._peak > 0 else None,
                tempo_bpm=found.bpm if found else None,
                tempo_confidence=found.confidence if found else None,
            )
        return self._finished

    def close(self) -> None:
        self._meter.close()


def oversampled_peak(window: np.ndarray) -> float:
    """Largest magnitude of a (frames, channels) window interpolated OVERSAMPLE times with
    a windowed-sinc filter, as BS.1770 (Annex 2) does for true peak; the edges, where the
    filter runs out of samples, are left out."""
    x = np.asarray(window, dtype=np.float64)
    if len(x) <= 2 * _HALF_TAPS:
        return float(np.abs(x).max()) if len(x) else 0.0
    best = float(np.abs(x[_HALF_TAPS:-_HALF_TAPS]).max())
    for taps in _phases():
        for channel in x.T:
            between = np.convolve(channel, taps, mode="valid")
            best = max(best, float(np.abs(between).max()))
    return best


@cache
def _phases() -> list[np.ndarray]:
    k = np.arange(-_HALF_TAPS, _HALF_TAPS)
    out = []
    for p in range(1, OVERSAMPLE):
        t = k + p / OVERSAMPLE
        taps = np.sinc(t) * (0.5 + 0.5 * np.cos(np.pi * t / (_HALF_TAPS + 1)))
        out.append(taps[::-1] / taps.sum())
    return out

