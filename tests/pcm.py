"""A PCM meter for the amem output: what the resident would hear, as numbers.

Used by the loudness tests and the latency benchmark; VLC's software volume and gain are
applied to these samples, unlike the afile output.
"""
from __future__ import annotations

import ctypes
import threading
import time
from dataclasses import dataclass, field

import numpy as np


@dataclass
class PcmMeter:
    """Counts frames and keeps (time, peak) per block delivered by VLC."""

    keep_audio: bool = False      # keep the samples (mono) for frequency analysis
    frames: int = 0
    first_frame_at: float | None = None
    blocks: list[tuple[float, int]] = field(default_factory=list)
    chunks: list[tuple[float, np.ndarray]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _armed: threading.Event = field(default_factory=threading.Event)

    def on_pcm(self, samples: int, count: int, pts: int) -> None:
        now = time.monotonic()
        peak = 0
        if count:
            data = np.ctypeslib.as_array(ctypes.cast(samples, ctypes.POINTER(ctypes.c_int16)), shape=(count * 2,))
            peak = int(np.abs(data.astype(np.int32)).max())
            if self.keep_audio:
                mono = data.reshape(-1, 2)[:, 0].copy()
        with self._lock:
            self.frames += count
            if self.first_frame_at is None and count:
                self.first_frame_at = now
                self._armed.set()
            self.blocks.append((now, peak))
            if self.keep_audio and count:
                self.chunks.append((now, mono))

    def reset(self) -> None:
        with self._lock:
            self.frames = 0
            self.first_frame_at = None
            self.blocks.clear()
            self.chunks.clear()
            self._armed.clear()

    def wait_first_frame(self, timeout: float) -> float | None:
        self._armed.wait(timeout)
        return self.first_frame_at

    def peak_since(self, t: float) -> int:
        with self._lock:
            return max((p for at, p in self.blocks if at >= t), default=0)

    def audio_since(self, t: float = 0.0) -> np.ndarray:
        with self._lock:
            parts = [c for at, c in self.chunks if at >= t]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)

    def peak(self) -> int:
        with self._lock:
            return max((p for _, p in self.blocks), default=0)
