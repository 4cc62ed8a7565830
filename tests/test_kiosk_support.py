"""What the kiosk tests share: songs in a real library, a kiosk wired to real
libvlc (amem meter or afile), the fake RPi.GPIO module, and audio analysis.
Holds no tests itself."""
from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import soundfile as sf

FAKE_GPIO = Path(__file__).parent / "fake_gpio"
if str(FAKE_GPIO) not in sys.path:
    sys.path.insert(0, str(FAKE_GPIO))

import RPi.GPIO as GPIO  # noqa: E402  (the fake, from tests/fake_gpio)

from content.ingest import ingest_file  # noqa: E402
from kiosk.app import Kiosk  # noqa: E402
from kiosk.config import KioskConfig, from_dict  # noqa: E402
from tests.pcm import PcmMeter  # noqa: E402
from tests.audio import tag, tone, write_song  # noqa: E402

RATE = 44100
PINS = {"play": 17, "next": 27, "volume_up": 22, "volume_down": 23, "staff": 26}


def add_song(lib, resident, freq: float, seconds: float = 4.0, *, title: str | None = None,
             year: int = 1956, fmt: str = ".wav") -> int:
    """A distinct tone as a song of `resident`, through the real ingest."""
    title = title or f"Tone {int(freq)}"
    src = lib.data.parent / "incoming" / f"{int(freq)}{fmt}"
    write_song(src, freq, seconds, tags={"title": title, "artist": "Test Band", "date": str(year)})
    result = ingest_file(lib.db, lib.media, src, resident_id=resident.id, min_seconds=1)
    assert result.status == "added", result.reason
    return result.song_id


def add_song_with_coda(lib, resident, freq: float, coda_freq: float, seconds: float, coda_s: float) -> int:
    """A song of `resident` whose last `coda_s` seconds are another tone, so the audio says
    whether its end was heard."""
    src = lib.data.parent / "incoming" / f"{int(freq)}-{int(coda_freq)}.wav"
    data = np.concatenate([tone(freq, seconds - coda_s), tone(coda_freq, coda_s)])
    src.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(src), np.column_stack([data, data]), RATE, format="WAV", subtype="PCM_16")
    tag(src, title=f"Tone {int(freq)} and {int(coda_freq)}", artist="Test Band", date="1956")
    result = ingest_file(lib.db, lib.media, src, resident_id=resident.id, min_seconds=1)
    assert result.status == "added", result.reason
    return result.song_id


def stepped_song(path: Path, seconds: int, base: float = 300.0, step: float = 50.0) -> Path:
    """A song whose pitch rises by `step` Hz every second, so the audio says where it is."""
    t = np.arange(RATE) / RATE
    parts = [0.3 * np.sin(2 * np.pi * (base + step * k) * t) for k in range(seconds)]
    data = np.concatenate(parts).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), np.column_stack([data, data]), RATE, format="WAV", subtype="PCM_16")
    return path


def config(lib, **overrides: Any) -> KioskConfig:
    """Test settings: quick fades, the data folder of `lib`, no keyboards."""
    raw: dict[str, Any] = {
        "data_dir": str(lib.data),
        "shutdown_command": [],
        "audio": {"output": "dummy", "file_caching_ms": 300},
        "volume": {"start": 40, "step": 10, "cap": 70, "fade_in_s": 0.2, "fade_out_s": 0.2,
                   "session_fade_out_s": 0.3, "red_flag_fade_s": 0.3},
        "gpio": {"enabled": "off", "ready_led": 5, "playing_led": 6},
        "keyboard": {"devices": "off"},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(raw.get(key), dict):
            raw[key] = {**raw[key], **value}
        else:
            raw[key] = value
    return from_dict(raw)


def start_kiosk(cfg: KioskConfig, meter: PcmMeter | None = None, gpio: Any = None,
                shutdown: Callable | None = None) -> Kiosk:
    kiosk = Kiosk(cfg, pcm=meter, gpio=gpio, keyboard=False, run_shutdown=shutdown)
    kiosk.start()
    return kiosk


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "the condition") -> Any:
    """Poll until `predicate()` is truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def click(pin: int, hold_s: float = 0.25) -> float:
    """A clean press and release on the fake GPIO; returns the release time."""
    GPIO.drive(pin, GPIO.LOW)
    wait_until(time.monotonic() + hold_s)
    GPIO.drive(pin, GPIO.HIGH)
    return time.monotonic()


def wait_until(moment: float) -> None:
    """Let real time reach `moment`: a gesture's own length (a hold, a debounce settling,
    a repeat guard running out), not a guess at how long something takes."""
    while time.monotonic() < moment:
        time.sleep(0.005)


def settled(kiosk: Kiosk, since: float) -> dict[str, Any]:
    """The kiosk's status once every edge up to `since` has had its debounce and tremor
    checks applied. The controller settles gestures after each message it handles, so a
    first status asked once the debounce has run out makes it settle; the second reports."""
    g = kiosk.config.gestures
    wait_until(since + g.debounce_ms / 1000 + 0.01)
    kiosk.controller.status(timeout=10)
    return kiosk.controller.status(timeout=10)


def dominant(samples: np.ndarray) -> float:
    """The strongest frequency in a stretch of mono samples, in Hz."""
    if len(samples) < 1024:
        return 0.0
    window = samples[-8192:].astype(np.float64) * np.hanning(min(len(samples), 8192))
    spectrum = np.abs(np.fft.rfft(window))
    freqs = np.fft.rfftfreq(len(window), 1 / RATE)
    return float(freqs[int(np.argmax(spectrum[1:])) + 1])


def tones_heard(samples: np.ndarray, block: int = 4410, min_blocks: int = 3) -> list[int]:
    """The sequence of distinct tones in the audio (rounded to 10 Hz), silence skipped."""
    out: list[int] = []
    run_f, run_n = None, 0
    for i in range(0, len(samples) - block, block):
        chunk = samples[i:i + block]
        if np.abs(chunk.astype(np.int32)).max() < 30:
            continue
        f = int(round(dominant(chunk) / 10.0) * 10)
        if f == run_f:
            run_n += 1
        else:
            run_f, run_n = f, 1
        if run_n == min_blocks and (not out or out[-1] != f):
            out.append(f)
    return out


def read_wav_so_far(path: Path) -> np.ndarray:
    """Mono samples of a WAV that VLC's afile output may still be writing."""
    raw = path.read_bytes()
    idx = raw.find(b"data")
    if idx < 0:
        return np.zeros(0, dtype=np.int16)
    data = raw[idx + 8:]
    data = data[: len(data) - len(data) % 4]
    return np.frombuffer(data, dtype="<i2").reshape(-1, 2)[:, 0]


def tone_runs(samples: np.ndarray, block: int = 2205) -> list[tuple[int, float]]:
    """(tone in Hz rounded to 10, seconds it lasted) for each stretch of one tone."""
    runs: list[list] = []
    for i in range(0, len(samples) - block, block):
        chunk = samples[i:i + block]
        f = 0 if np.abs(chunk.astype(np.int32)).max() < 5 else int(round(dominant(chunk) / 10.0) * 10)
        if runs and runs[-1][0] == f:
            runs[-1][1] += block / RATE
        else:
            runs.append([f, block / RATE])
    merged: list[list] = []
    for f, seconds in runs:
        if not f:
            continue                                   # a quiet moment inside a song
        if merged and merged[-1][0] == f:
            merged[-1][1] += seconds
        else:
            merged.append([f, seconds])
    return [(f, round(s, 2)) for f, s in merged]
