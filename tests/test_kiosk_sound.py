"""What comes out of the kiosk, recorded on the real output path (libvlc writing the
sound card's stream to a WAV, `afile`): every song at one loudness, a quiet song never
raised into clipping, and one song flowing into the next with no gap, no dip and no
restart of the output."""
from __future__ import annotations

import numpy as np
import pytest

from content.ingest import ingest_file
from content.loudness import integrated_loudness
from tests.audio import tone, write_wav
from tests.test_kiosk_support import RATE, config, dominant, read_wav_so_far, start_kiosk, wait_for

SONG_S = 3.0
WINDOW = RATE // 100                       # 10 ms


@pytest.fixture
def kiosks():
    started = []

    def make(cfg):
        k = start_kiosk(cfg)
        started.append(k)
        return k

    yield make
    for k in started:
        k.stop()


def add(lib, resident, path, samples) -> int:
    write_wav(path, samples)
    result = ingest_file(lib.db, lib.media, path, resident_id=resident.id, min_seconds=1)
    assert result.status == "added", result.reason
    return result.song_id


def record(lib, kiosks, tmp_path, seconds: float) -> np.ndarray:
    """Press Play and record what the output writes, from its first sound on."""
    out = tmp_path / "heard.wav"
    k = kiosks(config(lib, audio={"output": "afile", "file": str(out)}, volume={"cap": 100}))
    k.controller.press("play")

    def sound() -> np.ndarray:
        if not out.exists():
            return np.zeros(0, dtype=np.int16)
        samples = read_wav_so_far(out)
        loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > 30)
        return samples[loud[0]:] if len(loud) else samples[:0]

    wait_for(lambda: len(sound()) > seconds * RATE, timeout=seconds + 15, what=f"{seconds} s of sound")
    return sound()[: int(seconds * RATE)]


def windows_db(samples: np.ndarray) -> np.ndarray:
    n = len(samples) // WINDOW
    blocks = samples[: n * WINDOW].astype(np.float64).reshape(n, WINDOW) / 32768
    return 20 * np.log10(np.sqrt((blocks ** 2).mean(axis=1)) + 1e-9)


def segments(samples: np.ndarray) -> list[tuple[int, int, int]]:
    """(tone in Hz rounded to 10, first sample, end) for each stretch of one tone."""
    block = RATE // 20
    found: list[list[int]] = []
    for i in range(0, len(samples) - block + 1, block):
        f = int(round(dominant(samples[i:i + block]) / 10.0) * 10)
        if found and found[-1][0] == f:
            found[-1][2] = i + block
        else:
            found.append([f, i, i + block])
    return [tuple(s) for s in found if s[2] - s[1] >= 2 * block]


def test_songs_twelve_db_apart_come_out_within_one_lu(lib, mary, kiosks, tmp_path):
    loud = tone(440, SONG_S, amplitude=0.5)
    quiet = tone(660, SONG_S, amplitude=0.5 / 4)              # 12 dB under the other
    assert integrated_loudness(loud, RATE) - integrated_loudness(quiet, RATE) > 11.5
    add(lib, mary, tmp_path / "loud.wav", loud)
    add(lib, mary, tmp_path / "quiet.wav", quiet)
    heard = record(lib, kiosks, tmp_path, 2 * SONG_S)
    parts = {f: heard[a + RATE // 4:b - RATE // 4] for f, a, b in segments(heard)[:2]}
    assert set(parts) == {440, 660}, segments(heard)
    # The recording keeps one channel; the songs are the same on both.
    levels = {f: integrated_loudness(np.column_stack([part, part]), RATE) for f, part in parts.items()}
    assert abs(levels[440] - levels[660]) <= 1.0, levels
    assert abs(levels[440] - (-18.0)) <= 1.0, "both at the target level, -18 LUFS"


def test_a_quiet_song_with_loud_peaks_is_not_raised_into_clipping(lib, mary, kiosks, tmp_path):
    quiet = tone(440, SONG_S, amplitude=0.05)
    quiet[RATE // 2::RATE // 2] = 0.95                        # a click every half second
    add(lib, mary, tmp_path / "clicks.wav", quiet)
    heard = record(lib, kiosks, tmp_path, SONG_S - 0.3)
    assert np.abs(heard.astype(np.int32)).max() <= 0.97 * 32768, "the clicks are not pushed past full scale"
    assert np.abs(heard.astype(np.int32)).max() >= 0.85 * 32768, "and they are still there"


def test_one_song_flows_into_the_next_with_no_gap_no_dip_and_no_restart(lib, mary, kiosks, tmp_path):
    add(lib, mary, tmp_path / "a.wav", tone(440, SONG_S, amplitude=0.5))
    add(lib, mary, tmp_path / "b.wav", tone(660, SONG_S, amplitude=0.5 / 4))
    heard = record(lib, kiosks, tmp_path, 2 * SONG_S - 0.4)
    first, second = segments(heard)[:2]
    # The first song is whole in the recording: the output was not restarted (which
    # would have started the file again) when the second began.
    assert abs((first[2] - first[1]) / RATE - SONG_S) <= 0.15, segments(heard)
    change = second[1]
    around = heard[max(0, change - RATE):change + RATE]
    levels = windows_db(around)
    silent = levels < -60
    longest, run = 0, 0
    for quiet in silent:
        run = run + 1 if quiet else 0
        longest = max(longest, run)
    assert longest * 10 <= 50, f"{longest * 10} ms of silence at the song change"
    # Every window is one song or the other at its own (steady) level: no dip between.
    steady = [np.median(windows_db(heard[first[1]:first[2]])), np.median(windows_db(heard[second[1]:second[2]]))]
    off = [w for w in levels if min(abs(w - s) for s in steady) > 1.5]
    assert len(off) <= 2, (len(off), steady, sorted(off)[:5])
