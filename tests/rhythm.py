"""Generated rhythmic music at known tempi, for checking the tempo estimate.

Four styles cover what a care home's library holds: a rock or dance beat (kick on 1 and 3,
snare on 2 and 4, eighth-note hi-hat), a waltz (three beats to the bar), a ballad with no
drums at all (only chords struck on the beat over a sustained pad), and a shuffle (the
off-beat hi-hat late, at two thirds of the beat). Options add a swung off-beat, a quiet
intro of pad alone, and small human timing errors.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STYLES = ("rock", "waltz", "ballad", "shuffle")
_CHORDS = ((220.0, 277.2, 329.6), (196.0, 246.9, 293.7), (174.6, 220.0, 261.6), (196.0, 246.9, 329.6))


@dataclass(frozen=True)
class Track:
    bpm: float
    style: str
    swing: bool
    intro_s: float
    seed: int

    def render(self, seconds: float, rate: int = 44100, level: float = 0.3) -> np.ndarray:
        return track(self.bpm, seconds, style=self.style, swing=self.swing, intro_s=self.intro_s,
                     seed=self.seed, rate=rate, level=level)


def labelled_set(count: int = 40, seed: int = 7) -> list[Track]:
    """`count` tracks with tempi spread over 60-160 BPM: every style, a fifth swung, a
    third with a quiet ten-second intro."""
    rng = np.random.default_rng(seed)
    return [Track(bpm=round(float(rng.uniform(60, 160)), 1), style=STYLES[i % len(STYLES)],
                  swing=i % 5 == 0, intro_s=10.0 if i % 3 == 1 else 0.0, seed=i) for i in range(count)]


def track(bpm: float, seconds: float, *, style: str = "rock", swing: bool = False, intro_s: float = 0.0,
          seed: int = 0, rate: int = 44100, level: float = 0.3) -> np.ndarray:
    """Mono float32 samples, peak `level`."""
    rng = np.random.default_rng(seed)
    n = int(seconds * rate)
    out = np.zeros(n, np.float64)
    beat = 60.0 / bpm
    t = np.arange(int(0.4 * rate)) / rate
    kick = np.sin(2 * np.pi * (45 + 90 * np.exp(-t * 35)) * t) * np.exp(-t * 9)
    snare = rng.standard_normal(len(t)) * np.exp(-t * 22) * 0.45 + np.sin(2 * np.pi * 185 * t) * np.exp(-t * 18) * 0.35
    hat = np.diff(rng.standard_normal(len(t)) * np.exp(-t * 70) * 0.12, prepend=0.0)

    def note(freq: float, length: float, amp: float) -> np.ndarray:
        tt = np.arange(int(length * rate)) / rate
        return amp * np.exp(-tt * 3) * (np.sin(2 * np.pi * freq * tt) + 0.5 * np.sin(4 * np.pi * freq * tt)
                                        + 0.25 * np.sin(6 * np.pi * freq * tt))

    def add(sound: np.ndarray, at_s: float, gain: float = 1.0) -> None:
        at = int(at_s * rate)
        if 0 <= at < n:
            out[at:at + len(sound)] += gain * sound[:n - at]

    per_bar = 3 if style == "waltz" else 4
    off_beat = 2 / 3 if swing or style == "shuffle" else 0.5
    i, at = 0, intro_s
    while at < seconds:
        pos, bar = i % per_bar, i // per_bar
        when = at + rng.normal(0, 0.006)
        chord = _CHORDS[bar % len(_CHORDS)]
        if style in ("rock", "shuffle"):
            add(kick if pos in (0, 2) else snare, when, 1.0 if style == "rock" else 0.9)
            add(hat, when)
            add(hat, when + beat * off_beat, 0.6)
        elif style == "waltz":
            add(kick if pos == 0 else snare, when, 1.0 if pos == 0 else 0.5)
            add(hat, when, 0.7)
        else:  # ballad: no drums
            if pos == 0:
                add(note(chord[0] / 2, beat * per_bar, 0.5), when)
            for freq in chord:
                add(note(freq, beat * 1.2, 0.12), when)
        if style != "ballad" and pos in (0, 2 if per_bar == 4 else 1):
            add(note(chord[0] / 2, beat * 0.9, 0.4), when)
        i += 1
        at += beat
    pad = np.zeros(n)
    bar_s = beat * per_bar
    for b in range(int(seconds / bar_s) + 1):
        s, e = int(b * bar_s * rate), min(n, int((b + 1) * bar_s * rate))
        if s >= n:
            break
        tt = np.arange(s, e) / rate
        for freq in _CHORDS[b % len(_CHORDS)]:
            pad[s:e] += 0.05 * np.sin(2 * np.pi * freq * tt)
    intro = int(intro_s * rate)
    pad[:intro] *= 0.25
    out += pad
    return (out / np.max(np.abs(out)) * level).astype(np.float32)


def close_enough(estimate: float | None, truth: float, tolerance: float = 0.04) -> bool:
    """Within `tolerance` of the true tempo, or of double or half of it (a beat counted in
    halves or in whole bars is still the same music)."""
    if estimate is None:
        return False
    return any(abs(estimate / (truth * k) - 1) <= tolerance for k in (1.0, 2.0, 0.5))
