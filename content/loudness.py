"""EBU R128 / ITU BS.1770 integrated loudness, measured by libebur128.

libebur128 is the reference implementation used by ffmpeg, GStreamer and most players'
ReplayGain scanners. We load Debian's `libebur128-1` through ctypes rather than a Python
binding: it needs no compiler on a Raspberry Pi, works with every Python version Raspberry
Pi OS ships, and has no numpy ABI of its own to clash with (see the dependency notes).
ctypes releases the GIL while the C code runs, so measuring overlaps with decoding.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import math
from functools import lru_cache

import numpy as np

# From ebur128.h (1.2.x).
_MODE_I = (1 << 2) | (1 << 0)
_MODE_HISTOGRAM = 1 << 6         # constant memory however long the file
_SUCCESS = 0


class LoudnessUnavailable(RuntimeError):
    """libebur128 is not installed."""


@lru_cache(maxsize=1)
def _lib() -> ctypes.CDLL:
    name = ctypes.util.find_library("ebur128") or "libebur128.so.1"
    try:
        lib = ctypes.CDLL(name)
    except OSError as exc:
        raise LoudnessUnavailable(
            "The loudness meter (libebur128) is missing: install the Debian package libebur128-1.") from exc
    lib.ebur128_init.restype = ctypes.c_void_p
    lib.ebur128_init.argtypes = [ctypes.c_uint, ctypes.c_ulong, ctypes.c_int]
    lib.ebur128_add_frames_short.restype = ctypes.c_int
    lib.ebur128_add_frames_short.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
    lib.ebur128_add_frames_float.restype = ctypes.c_int
    lib.ebur128_add_frames_float.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
    lib.ebur128_loudness_global.restype = ctypes.c_int
    lib.ebur128_loudness_global.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_double)]
    lib.ebur128_destroy.restype = None
    lib.ebur128_destroy.argtypes = [ctypes.POINTER(ctypes.c_void_p)]
    return lib


class Meter:
    """Integrated loudness of interleaved frames fed in pieces. Use as a context manager
    (or call close()) so the C state is freed."""

    def __init__(self, channels: int, rate: int) -> None:
        self.channels = channels
        self._lib = _lib()
        self._state = self._lib.ebur128_init(channels, rate, _MODE_I | _MODE_HISTOGRAM)
        if not self._state:
            raise MemoryError("libebur128 could not start")

    def add(self, frames: np.ndarray) -> None:
        """Interleaved int16 or float32 samples (a whole number of frames)."""
        if self._state is None:
            raise ValueError("the meter is closed")
        frames = np.ascontiguousarray(frames)
        count = frames.size // self.channels
        if count == 0:
            return
        if frames.dtype == np.int16:
            status = self._lib.ebur128_add_frames_short(self._state, frames.ctypes.data, count)
        elif frames.dtype == np.float32:
            status = self._lib.ebur128_add_frames_float(self._state, frames.ctypes.data, count)
        else:
            raise TypeError(f"int16 or float32 samples, not {frames.dtype}")
        if status != _SUCCESS:
            raise MemoryError("libebur128 ran out of memory")

    def integrated(self) -> float | None:
        """LUFS, or None for silence (nothing above the absolute gate of -70 LUFS)."""
        if self._state is None:
            raise ValueError("the meter is closed")
        out = ctypes.c_double()
        if self._lib.ebur128_loudness_global(self._state, ctypes.byref(out)) != _SUCCESS:
            return None
        return out.value if math.isfinite(out.value) else None

    def close(self) -> None:
        if self._state is not None:
            state = ctypes.c_void_p(self._state)
            self._lib.ebur128_destroy(ctypes.byref(state))
            self._state = None

    def __enter__(self) -> "Meter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def integrated_loudness(samples: np.ndarray, rate: int) -> float | None:
    """Loudness of a whole (frames, channels) or mono array, in LUFS."""
    data = np.asarray(samples)
    channels = 1 if data.ndim == 1 else data.shape[1]
    if data.dtype not in (np.int16, np.float32):
        data = data.astype(np.float32)
    with Meter(channels, rate) as meter:
        meter.add(data.reshape(-1))
        return meter.integrated()
