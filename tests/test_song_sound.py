"""Loudness and tempo in the library: stored at ingest, measured later for older songs
(`content analyse`, and the admin when it starts), shown to staff and families as a pace,
corrected by staff."""
from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import time
from pathlib import Path

from content import db as dbmod
from content import sound
from content.ingest import ingest_file
from tests.audio import encode, write_wav
from tests.rhythm import close_enough, track
from tests.test_web_fixtures import world  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent


def rhythm_song(tmp: Path, name: str, bpm: float, level: float = 0.3, ext: str = ".ogg") -> Path:
    wav = write_wav(tmp / f"{name}.wav", track(bpm, 20, style="rock", level=level))
    return encode(wav, tmp / f"{name}{ext}")


def add(lib, resident, path: Path) -> int:
    result = ingest_file(lib.db, lib.media, path, resident_id=resident.id)
    assert result.status == "added", result.reason
    return result.song_id


def forget_measurements(lib) -> None:
    """As a library from before loudness and tempo were measured."""
    with dbmod.write(lib.db):
        lib.db.execute("UPDATE songs SET loudness_lufs = NULL, peak_db = NULL, tempo_bpm = NULL, "
                       "tempo_confidence = NULL, analysed_at = NULL, analysis_version = NULL")


def test_ingest_stores_loudness_peak_and_tempo(lib, mary, tmp_path):
    sid = add(lib, mary, rhythm_song(tmp_path, "lively", 132))
    measured = sound.get(lib.db, sid)
    assert measured.analysed
    assert -30 < measured.loudness_lufs < -5 and -20 < measured.peak_db <= 0.5
    assert close_enough(measured.bpm, 132) and measured.tempo_confidence > 0.3
    assert measured.gain_db() == sound.playback_gain_db(measured.loudness_lufs, measured.peak_db)


def test_content_analyse_measures_older_songs_with_a_progress_bar(lib, mary, tmp_path):
    ids = [add(lib, mary, rhythm_song(tmp_path, f"s{i}", 70 + 25 * i)) for i in range(3)]
    forget_measurements(lib)
    assert len(sound.unanalysed(lib.db)) == 3
    # stderr on a terminal, as staff see it; stdout collected.
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "content", "analyse", "--db", str(lib.db_path),
                             "--media", str(lib.media)], cwd=ROOT, stdout=subprocess.PIPE, stderr=follower, text=True)
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    out, _ = proc.communicate(timeout=120)
    os.close(leader)
    assert proc.returncode == 0, out
    assert out.strip() == "3 songs measured."
    assert re.search(rb"\[#+\.*\] [0-3]/3", shown), shown
    for sid, bpm in zip(ids, (70, 95, 120)):
        measured = sound.get(lib.db, sid)
        assert measured.analysed and measured.loudness_lufs is not None
        assert close_enough(measured.bpm, bpm)
    again = subprocess.run([sys.executable, "-m", "content", "analyse", "--db", str(lib.db_path),
                            "--media", str(lib.media)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert again.stdout.strip() == "Every song has been measured already."


def test_a_song_whose_file_is_gone_is_reported_not_measured(lib, mary, tmp_path):
    sid = add(lib, mary, rhythm_song(tmp_path, "gone", 100))
    forget_measurements(lib)
    for f in lib.media.iterdir():
        if f.is_file() and not f.name.startswith("."):
            f.unlink()
    done = subprocess.run([sys.executable, "-m", "content", "analyse", "--db", str(lib.db_path),
                           "--media", str(lib.media)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert f"could not measure song {sid}: its file is missing from the media folder" in done.stdout
    assert not sound.get(lib.db, sid).analysed


def test_the_admin_measures_older_songs_when_it_starts(lib, mary, tmp_path):
    sid = add(lib, mary, rhythm_song(tmp_path, "old", 88))
    forget_measurements(lib)
    env = {**os.environ, "EVERGREEN_DATA": str(lib.data)}
    admin = subprocess.Popen([sys.executable, "-m", "content.web", "--port", "0"], cwd=ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not sound.get(lib.db, sid).analysed:
            time.sleep(0.2)
        measured = sound.get(lib.db, sid)
        assert measured.analysed and close_enough(measured.bpm, 88)
    finally:
        admin.terminate()
        admin.wait(10)


def test_a_persons_tempo_wins_and_survives_measuring_again(lib, mary, tmp_path):
    sid = add(lib, mary, rhythm_song(tmp_path, "fix", 150))
    sound.set_tempo(lib.db, sid, 100.0, user_id=None)
    assert sound.get(lib.db, sid).bpm == 100.0 and sound.get(lib.db, sid).band is sound.TempoBand.STEADY
    done = subprocess.run([sys.executable, "-m", "content", "analyse", "--all", "--db", str(lib.db_path),
                           "--media", str(lib.media)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    after = sound.get(lib.db, sid)
    assert after.bpm == 100.0 and close_enough(after.measured_bpm, 150)
    sound.set_tempo(lib.db, sid, None)
    assert close_enough(sound.get(lib.db, sid).bpm, 150)


def test_staff_see_the_pace_with_its_number_and_families_only_the_words(world, lib, tmp_path):
    sid = add(lib, world.mary, rhythm_song(tmp_path, "Slow Dance", 66))
    bpm = sound.get(lib.db, sid).bpm
    staff_page = world.client(world.staff).get(f"/residents/{world.mary.id}/songs/{sid}").get_data(as_text=True)
    family_page = world.client(world.mary_family).get(f"/residents/{world.mary.id}/songs/{sid}").get_data(as_text=True)
    band = sound.TempoBand.of(bpm).value
    assert f"Tempo: {band} ({round(bpm)} beats a minute)" in staff_page
    assert f"Tempo: {band}</p>" in family_page and "beats a minute" not in family_page


def test_staff_correct_the_tempo_and_families_cannot(world, lib, tmp_path):
    sid = add(lib, world.mary, rhythm_song(tmp_path, "Quickstep", 160))
    url = f"/residents/{world.mary.id}/songs/{sid}"
    family = world.client(world.mary_family)
    family.get(url)
    assert family.post(f"{url}/tempo", {"bpm": "60"}).status_code == 403
    assert sound.get(lib.db, sid).person_bpm is None

    staff = world.client(world.staff)
    staff.get(url)
    bad = staff.post(f"{url}/tempo", {"bpm": "fast"}, follow_redirects=True).get_data(as_text=True)
    assert "Please give the beats a minute as a number" in bad
    silly = staff.post(f"{url}/tempo", {"bpm": "900"}, follow_redirects=True).get_data(as_text=True)
    assert "A tempo is between 30 and 260 beats a minute." in silly
    saved = staff.post(f"{url}/tempo", {"bpm": "80"}, follow_redirects=True).get_data(as_text=True)
    assert "The tempo is saved." in saved and "Tempo: steady (80 beats a minute, set by staff)" in saved
    assert sound.get(lib.db, sid).person_bpm == 80.0
    assert lib.db.execute("SELECT COUNT(*) FROM audit_log WHERE action = 'song.tempo' AND user_id = ?",
                          [world.staff.id]).fetchone()[0] == 1
    staff.post(f"{url}/tempo", {"bpm": ""})
    assert sound.get(lib.db, sid).person_bpm is None


def test_the_calm_mode_chooses_by_the_measured_tempo(lib, mary, tmp_path):
    """Evenings ask for slow songs: the tempo stored for a song is what the queue reads, a
    person's figure wins, and an unsure measurement is not used."""
    import random

    from content import queue
    from content.care.modes import Mode

    def measured(song_id: int, bpm: float, confidence: float) -> None:
        sound.record(lib.db, song_id, sound.SoundAnalysis(20.0, 20.0, -20.0, -3.0, bpm, confidence))

    slow, lively, corrected = (add(lib, mary, rhythm_song(tmp_path, name, 100)) for name in ("a", "b", "c"))
    measured(slow, 66.0, 0.8)
    measured(lively, 126.0, 0.8)
    measured(corrected, 132.0, 0.8)
    sound.set_tempo(lib.db, corrected, 70.0)
    tempi = {c.song_id: c.tempo for c in queue.candidates(lib.db, mary.id)}
    assert tempi == {slow: 66.0, lively: 126.0, corrected: 70.0}
    calm = set(queue.next_songs(lib.db, mary.id, random.Random(1), mode=Mode.CALM))
    assert slow in calm and corrected in calm
    measured(slow, 66.0, 0.1)                              # not sure: not used
    assert sound.get(lib.db, slow).bpm is None
    assert {c.song_id: c.tempo for c in queue.candidates(lib.db, mary.id)}[slow] is None
