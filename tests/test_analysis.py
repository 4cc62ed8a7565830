"""What ingest measures: loudness (EBU R128) and peak from the real decoder's output, and
tempo on a labelled set of generated rhythmic music."""
from __future__ import annotations

import numpy as np
import pytest

from content import analysis, sound, tempo
from content.loudness import integrated_loudness
from content.probe import Prober
from tests.audio import RATE, encode, write_wav
from tests.rhythm import close_enough, labelled_set, track


@pytest.fixture(scope="module")
def prober():
    with Prober() as p:
        yield p


def sine(freq: float, seconds: float, amplitude: float, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_the_loudness_reference_tone_measures_minus_23(prober, tmp_path):
    """EBU Tech 3341's first case: a 1 kHz stereo sine at -23 dBFS reads -23 LUFS, here
    after a real decode (FLAC, so the file holds exactly that)."""
    wav = write_wav(tmp_path / "ref.wav", sine(1000, 20, 10 ** (-23 / 20)))
    found = prober.probe(encode(wav, tmp_path / "ref.flac")).analysis
    assert found.loudness_lufs == pytest.approx(-23.0, abs=0.1)
    assert found.peak_db == pytest.approx(-23.0, abs=0.1)


def test_the_decoder_adds_no_clicks(prober, tmp_path):
    """A steady tone decoded from a WAV (whose 50 ms blocks do not divide evenly at the
    measuring rate) has no onsets: VLC's default resampler clicked at every block."""
    wav = write_wav(tmp_path / "tone.wav", sine(1000, 20, 0.1))
    assert prober.probe(wav).analysis.tempo_bpm is None


def test_songs_12_db_apart_measure_12_lu_apart(prober, tmp_path):
    music = track(100, 30, style="rock", level=0.5)
    loud = prober.probe(encode(write_wav(tmp_path / "loud.wav", music), tmp_path / "loud.ogg")).analysis
    quiet = prober.probe(encode(write_wav(tmp_path / "quiet.wav", music * 10 ** (-12 / 20)),
                                tmp_path / "quiet.m4a")).analysis
    assert loud.loudness_lufs - quiet.loudness_lufs == pytest.approx(12.0, abs=0.3)


def test_bright_music_reads_its_full_loudness(prober, tmp_path):
    """Cymbals and hi-hats count in K-weighting: measured after decoding, a bright track
    reads what libebur128 reads on the source itself (resampling to save work took a
    decibel off this one)."""
    music = track(120, 30, style="rock", rate=RATE)
    source = write_wav(tmp_path / "bright.wav", music)
    truth = integrated_loudness(np.column_stack([music, music]), RATE)
    found = prober.probe(encode(source, tmp_path / "bright.flac")).analysis
    assert found.loudness_lufs == pytest.approx(truth, abs=0.1)


def test_the_peak_between_samples_is_found():
    """A sine at a quarter of the sample rate, sampled 45 degrees off its crests: every
    sample is 3 dB under the true peak, which the oversampling finds."""
    n = np.arange(RATE)
    x = 0.5 * np.sin(np.pi / 2 * n + np.pi / 4)
    a = analysis.Analyser(RATE)
    a.add((np.column_stack([x, x]).reshape(-1) * 32767).astype(np.int16))
    found = a.finish()
    assert 20 * np.log10(np.abs(x).max()) == pytest.approx(-9.0, abs=0.1)      # what the samples say
    assert found.peak_db == pytest.approx(-6.0, abs=0.2)                        # what is heard


def test_silence_measures_as_nothing():
    a = analysis.Analyser(RATE)
    a.add(np.zeros(RATE * 2 * 10, dtype=np.int16))
    found = a.finish()
    assert (found.seconds, found.sound_seconds, found.loudness_lufs, found.peak_db) == (10.0, 0.0, None, None)


def test_tempo_is_right_on_the_labelled_set():
    """Forty generated tracks, 60-160 BPM, rock, waltz, ballad and shuffle, some swung,
    some with a quiet intro: at least 90 % within 4 % of the truth (or double or half);
    and since the care modes choose by pace, the pace words must be right for most."""
    tracks = labelled_set(40)
    right = same_pace = 0
    misses = []
    for t in tracks:
        pcm = t.render(45.0, rate=RATE)
        a = analysis.Analyser(RATE)
        a.add((np.column_stack([pcm, pcm]).reshape(-1) * 32767).astype(np.int16))
        found = a.finish()
        if close_enough(found.tempo_bpm, t.bpm):
            right += 1
        else:
            misses.append((t, found.tempo_bpm))
        same_pace += sound.TempoBand.of(found.tempo_bpm) is sound.TempoBand.of(t.bpm)
    share = right / len(tracks)
    print(f"tempo: {right}/{len(tracks)} = {share:.0%} within 4 % (or double/half); "
          f"pace words right for {same_pace}/{len(tracks)}; misses: {misses}")
    assert share >= 0.9, misses
    assert same_pace / len(tracks) >= 0.8


def test_the_tempo_comes_through_the_real_decoder(prober, tmp_path):
    music = track(72, 40, style="ballad", intro_s=8.0)
    found = prober.probe(encode(write_wav(tmp_path / "ballad.wav", music), tmp_path / "ballad.mp3")).analysis
    assert close_enough(found.tempo_bpm, 72.0), found
    assert found.tempo_confidence > 0.3


def test_a_held_tone_has_no_tempo():
    a = analysis.Analyser(RATE)
    x = sine(440, 20, 0.3)
    a.add((np.column_stack([x, x]).reshape(-1) * 32767).astype(np.int16))
    assert a.finish().tempo_bpm is None


def test_tempo_words():
    assert [sound.TempoBand.of(b) for b in (None, 62, 79.9, 80, 119, 120, 150)] == [
        None, sound.TempoBand.SLOW, sound.TempoBand.SLOW, sound.TempoBand.STEADY, sound.TempoBand.STEADY, sound.TempoBand.LIVELY,
        sound.TempoBand.LIVELY]


def test_the_playback_gain_reaches_the_target_but_never_lifts_peaks_past_full_scale():
    target = sound.TARGET_LUFS
    assert sound.playback_gain_db(-8.0, -0.1, target) == pytest.approx(target + 8.0)     # loud: turned down
    assert sound.playback_gain_db(-24.0, -12.0, target) == pytest.approx(6.0)            # quiet: raised
    assert sound.playback_gain_db(-24.0, -3.0, target) == pytest.approx(2.0)             # ...only to -1 dBTP
    assert sound.playback_gain_db(-24.0, 0.5, target) == 0.0                             # already clipping
    assert sound.playback_gain_db(None, None, target) == 0.0                             # not measured yet
    assert tempo.PREFERRED == 120.0
