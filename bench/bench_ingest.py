"""How fast do songs go in, how right is the tempo, how even is the loudness? Prints
figures; never fails on one.

1. Per file, a three-minute song in each of mp3, ogg, flac, m4a, wma and wav: the whole
   checked path (copy, hash, what it is, full libvlc decode, loudness, peak, tempo, row),
   with this process and its decoding child pinned to one core. Median wall time per
   format, and the child's CPU seconds. Target: median <= 0.4 s.
2. A folder of 300 three-minute songs (mp3, ogg, m4a, wma, flac) through
   `python -m content import`, which decodes one file per core: wall time.
   Target: <= 60 s on a 2-core machine.
3. Tempo: the labelled set of generated rhythmic tracks (tests/rhythm.py), encoded as MP3
   and measured through the real decoder: share within 4 % (or double/half).
   Target: >= 90 %.
4. Loudness at the kiosk's output: 10 songs whose files' levels span 20 dB, added through
   ingest and played one after another by a real kiosk writing its output to a WAV
   (libvlc's afile, the same audio path as a sound card's): the spread of their measured
   loudness (EBU R128) in that recording. Target: <= 1 LU.

Run in a shared CPU slot: /work/coord/cpu-run .venv/bin/python bench/bench_ingest.py
(`--quick` makes 60 songs instead of 300 for part 2; `--only-kiosk` runs part 4 alone.)
"""
from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from content import db as dbmod  # noqa: E402
from content import library  # noqa: E402
from content.ingest import ingest_file  # noqa: E402
from content.probe import Prober  # noqa: E402
from tests.audio import encode, write_wav  # noqa: E402
from tests.rhythm import close_enough, labelled_set, track  # noqa: E402

SONG_SECONDS = 180
PER_FORMAT = 5
FORMATS = (".mp3", ".ogg", ".flac", ".m4a", ".wma", ".wav")
FOLDER_SONGS = 300
FOLDER_FORMATS = (".mp3", ".ogg", ".m4a", ".wma", ".flac")


def _child_cpu(pid: int | None) -> float:
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _song(folder: Path, ext: str, bpm: float, seed: int) -> Path:
    wav = write_wav(folder / f"src-{seed}.wav", track(bpm, SONG_SECONDS, style=("rock", "waltz", "shuffle")[seed % 3],
                                                      seed=seed, level=0.2 + 0.05 * (seed % 5)))
    if ext == ".wav":
        return wav
    out = encode(wav, folder / f"song-{seed}{ext}")
    wav.unlink()
    return out


def per_file(root: Path) -> None:
    print(f"1. per file: a {SONG_SECONDS // 60}-minute song, {PER_FORMAT} of each format, pinned to one core")
    songs = root / "per-file"
    songs.mkdir()
    made = {ext: [_song(songs, ext, 80 + 13 * i, 100 * k + i) for i in range(PER_FORMAT)]
            for k, ext in enumerate(FORMATS)}
    os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})     # the child inherits it
    db = dbmod.connect(root / "per-file.db")
    mary = library.add_resident(db, "Mary", birth_year=1938)
    medians = []
    try:
        with Prober() as prober:
            prober.probe(made[".wav"][0])                                # start the child once
            for ext, files in made.items():
                walls, cpus = [], []
                for src in files:
                    before, t = _child_cpu(prober.pid), time.perf_counter()
                    result = ingest_file(db, root / "media", src, resident_id=mary.id, prober=prober)
                    walls.append(time.perf_counter() - t)
                    cpus.append(_child_cpu(prober.pid) - before)
                    assert result.status == "added", result.reason
                medians.append(statistics.median(walls))
                print(f"   {ext[1:]:>4}: median {statistics.median(walls):.3f} s/file (max {max(walls):.3f}), "
                      f"decoding child {statistics.median(cpus):.2f} CPU s/file")
    finally:
        os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
        db.close()
    print(f"   median over all formats: {statistics.median(medians):.3f} s/file (target <= 0.4 s)")


def folder(root: Path, count: int) -> None:
    print(f"2. a folder of {count} {SONG_SECONDS // 60}-minute songs through `python -m content import` "
          f"({os.cpu_count()} cores)")
    stick = root / "stick"
    stick.mkdir()
    base = [_song(root, ext, 70 + 9 * i, 1000 + i) for i, ext in enumerate(FOLDER_FORMATS * 2)]
    import mutagen
    for n in range(count):
        src = base[n % len(base)]
        dst = stick / f"{n:03d} - Band {n % 7} - Song {n}{src.suffix}"
        shutil.copy(src, dst)
        f = mutagen.File(str(dst), easy=True)            # a title of its own: new bytes, a new song
        if f.tags is None:
            f.add_tags()
        f["title"] = f"Song {n}"
        f.save()
    data = root / "stick-data"
    env = {**os.environ, "EVERGREEN_DATA": str(data)}
    subprocess.run([sys.executable, "-m", "content", "residents", "add", "Mary"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    t = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "content", "import", "--resident", "Mary", str(stick)],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr.strip()
    print(f"   {wall:.1f} s wall, {wall / count:.3f} s per song ({summary}) (target <= 60 s for 300)")


def tempo(root: Path) -> None:
    tracks = labelled_set(40)
    print(f"3. tempo: {len(tracks)} generated tracks (60-160 BPM; rock, waltz, ballad, shuffle; "
          "some swung, some with quiet intros), as MP3 through the real decoder")
    right = exact = 0
    with Prober() as prober:
        for t in tracks:
            mp3 = encode(write_wav(root / "t.wav", t.render(45.0)), root / "t.mp3")
            found = prober.probe(mp3).analysis
            bpm = found.tempo_bpm if found else None
            right += close_enough(bpm, t.bpm)
            exact += bpm is not None and abs(bpm / t.bpm - 1) <= 0.04
    print(f"   {right}/{len(tracks)} = {right / len(tracks):.0%} within 4 % or at double/half (target >= 90 %); "
          f"{exact}/{len(tracks)} at the very tempo")


def kiosk_loudness(root: Path) -> None:
    import numpy as np

    from content.loudness import integrated_loudness
    from tests.audio import tone
    from tests.test_kiosk_support import config, dominant, read_wav_so_far, start_kiosk

    count, seconds, rate = 10, 6.0, 44100
    print(f"4. loudness at the kiosk's output: {count} songs whose files span 20 dB, played through the kiosk")
    data = root / "kiosk-data"
    (data / "media").mkdir(parents=True)
    db = dbmod.connect(data / "library.db")
    mary = library.add_resident(db, "Mary", birth_year=1938)
    files = []
    for i in range(count):
        freq = 300 + 50 * i
        level = 0.9 * 10 ** (-20 * i / (count - 1) / 20)             # 0 to -20 dB
        t = np.arange(int(seconds * rate)) / rate
        beat = 0.6 + 0.4 * (np.sin(2 * np.pi * 2 * t) > 0)            # a pulse, two beats a second
        samples = (tone(freq, seconds, amplitude=level) * beat).astype(np.float32)
        files.append((freq, integrated_loudness(np.column_stack([samples, samples]), rate)))
        result = ingest_file(db, data / "media", write_wav(root / f"level-{i}.wav", samples), resident_id=mary.id,
                             min_seconds=1)
        assert result.status == "added", result.reason
    db.close()

    class Lib:
        pass
    lib = Lib()
    lib.data = data
    out = root / "kiosk-heard.wav"
    kiosk = start_kiosk(config(lib, audio={"output": "afile", "file": str(out)}, volume={"cap": 100}))
    try:
        kiosk.controller.press("play")
        deadline = time.monotonic() + count * seconds + 30
        while time.monotonic() < deadline:
            time.sleep(0.5)
            if out.exists() and len(read_wav_so_far(out)) > (count * seconds + 0.5) * rate:
                break
    finally:
        kiosk.stop()
    heard = read_wav_so_far(out)
    block = rate // 10
    runs: list[list[int]] = []
    for i in range(0, len(heard) - block, block):
        f = int(round(dominant(heard[i:i + block]) / 50.0) * 50)
        if runs and runs[-1][0] == f:
            runs[-1][2] = i + block
        else:
            runs.append([f, i, i + block])
    levels = {}
    for f, a, b in runs:
        if b - a > 2 * rate and f not in levels:
            part = heard[a + rate // 2:b - rate // 2]
            levels[f] = integrated_loudness(np.column_stack([part, part]), rate)
    file_levels = [lufs for _, lufs in files]
    print(f"   files: {min(file_levels):.1f} to {max(file_levels):.1f} LUFS "
          f"(spread {max(file_levels) - min(file_levels):.1f} LU)")
    print(f"   heard {len(levels)} of {count}: {min(levels.values()):.2f} to {max(levels.values()):.2f} LUFS, "
          f"spread {max(levels.values()) - min(levels.values()):.2f} LU (target <= 1 LU)")


def main() -> None:
    quick = "--quick" in sys.argv
    with tempfile.TemporaryDirectory(prefix="evergreen-bench-ingest-") as tmp:
        root = Path(tmp)
        if "--only-kiosk" in sys.argv:
            kiosk_loudness(root)
            return
        per_file(root)
        folder(root, 60 if quick else FOLDER_SONGS)
        tempo(root)
        kiosk_loudness(root)


if __name__ == "__main__":
    main()
