"""Files that try to cost us: silence, headers that lie about their length, files that take
too long to decode, and special files (pipes, sockets, devices) that would block an import.
Each is answered in plain words, quickly, and leaves nothing behind."""
from __future__ import annotations

import os
import socket
import struct
import subprocess
import sys
import threading
import wave
from pathlib import Path

import numpy as np
import pytest

from content import media
from content.ingest import ingest_file, ingest_many
from content.probe import CPU_SECONDS, FILE_BYTES, MEMORY_BYTES, ProbeError, Prober, ProberPool
from tests.audio import RATE, tone, write_song, write_wav

ROOT = Path(__file__).resolve().parent.parent


def assert_nothing_left(lib):
    assert list(lib.db.query("SELECT * FROM songs")) == []
    assert media.stored_files(lib.media) == [] and media.scratch_files(lib.media) == []


def flac_claiming(src_wav: Path, out: Path, total_samples: int) -> Path:
    """A real FLAC of `src_wav` whose STREAMINFO claims `total_samples` (0: unknown)."""
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(src_wav), "-c:a", "flac", str(out)],
                   check=True)
    data = bytearray(out.read_bytes())
    assert data[:4] == b"fLaC" and data[4] & 0x7F == 0          # STREAMINFO first
    field = struct.unpack(">Q", bytes(data[18:26]))[0]
    field = (field & ~((1 << 36) - 1)) | total_samples
    data[18:26] = struct.pack(">Q", field)
    out.write_bytes(bytes(data))
    return out


# ---- silence -------------------------------------------------------------------------------

def test_forty_seconds_of_silence_is_refused(lib, mary, tmp_path):
    src = write_wav(tmp_path / "quiet.wav", np.zeros(40 * RATE, dtype=np.float32))
    result = ingest_file(lib.db, lib.media, src, resident_id=mary.id)
    assert result.status == "refused"
    assert result.reason.startswith("This file has no sound in it.") and "0:40 of silence" in result.reason
    assert_nothing_left(lib)


def test_near_silence_is_refused_but_a_quiet_song_is_not(lib, mary, tmp_path):
    hiss = np.random.default_rng(1).standard_normal(30 * RATE).astype(np.float32) * 10 ** (-75 / 20)
    refused = ingest_file(lib.db, lib.media, write_wav(tmp_path / "hiss.wav", hiss), resident_id=mary.id)
    assert refused.status == "refused" and refused.reason.startswith("This file has no sound in it.")
    quiet = ingest_file(lib.db, lib.media, write_song(tmp_path / "far away.flac", 440, 20, amplitude=0.01),
                        resident_id=mary.id)                    # -40 dBFS: quiet, but a song
    assert quiet.status == "added", quiet.reason


# ---- lengths that lie ------------------------------------------------------------------------

def test_a_whole_day_of_silence_is_refused_from_its_header_without_decoding(lib, mary, tmp_path):
    """The 2 MB FLAC that once took 31 s to decode: its header is believed before any decoding."""
    src = flac_claiming(write_song(tmp_path / "short.wav", 440, 12), tmp_path / "day.flac", 24 * 3600 * RATE)
    with Prober() as prober:
        result = ingest_file(lib.db, lib.media, src, resident_id=mary.id, prober=prober)
        assert prober.requests == 0
    assert result.status == "refused" and result.reason == "This file says it lasts 24:00:00, far longer than a song."
    assert_nothing_left(lib)


def test_a_wav_header_claiming_four_hours_is_refused_without_decoding(lib, mary, tmp_path):
    src = tmp_path / "long.wav"
    with wave.open(str(src), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(np.zeros(RATE * 2, dtype=np.int16).tobytes())
    data = bytearray(src.read_bytes())
    claimed = 4 * 3600 * RATE * 4
    data[40:44] = struct.pack("<I", claimed)                 # the data chunk's size
    src.write_bytes(bytes(data))
    with Prober() as prober:
        result = ingest_file(lib.db, lib.media, src, resident_id=mary.id, prober=prober)
        assert prober.requests == 0
    assert result.status == "refused" and "says it lasts 4:00:00" in result.reason


def test_a_file_that_hides_its_length_is_stopped_at_the_limit(lib, mary, tmp_path):
    """No length in the header: the decoder itself stops once the sound passes the limit."""
    src = flac_claiming(write_song(tmp_path / "s.wav", 440, 40), tmp_path / "endless.flac", 0)
    with Prober(max_seconds=25) as prober:
        result = ingest_file(lib.db, lib.media, src, resident_id=mary.id, prober=prober)
    assert result.status == "refused" and result.reason == ProbeError.TOO_LONG.words
    assert_nothing_left(lib)


# ---- the decoder child's bounds --------------------------------------------------------------

def test_a_file_that_needs_too_much_decoding_is_stopped_by_the_cpu_limit(lib, mary, tmp_path):
    """Twenty minutes of sound in a small FLAC; with a one-second budget the kernel ends the
    child, the file is refused, and the next file is read by a fresh child."""
    long = tmp_path / "long.flac"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i",
                    "sine=frequency=440:sample_rate=44100:duration=1200", "-ac", "2", "-c:a", "flac", str(long)],
                   check=True)
    with Prober(cpu_seconds=1) as prober:
        result = ingest_file(lib.db, lib.media, long, resident_id=mary.id, prober=prober)
        assert result.status == "refused" and result.reason == ProbeError.TOO_SLOW.words
        assert_nothing_left(lib)
        after = ingest_file(lib.db, lib.media, write_song(tmp_path / "next.ogg", 330, 11), resident_id=mary.id,
                            prober=prober)
        assert after.status == "added", after.reason


def test_a_child_that_blocks_is_given_up_on(tmp_path):
    """A decoder waiting forever (here on a named pipe nobody writes) uses no CPU, so the
    CPU limit cannot end it: the parent's own deadline does."""
    fifo = tmp_path / "stuck.mp3"
    os.mkfifo(fifo)
    with Prober(wall_seconds=3) as prober:
        result = prober.probe(fifo)
        assert result.error is ProbeError.TOO_SLOW
        assert prober.pid is None                          # the stuck child is gone


def _limits(pid: int) -> dict[str, str]:
    lines = Path(f"/proc/{pid}/limits").read_text().splitlines()[1:]
    return {line[:26].strip(): line[26:47].strip() for line in lines}


def test_the_decoder_child_runs_under_kernel_limits(tmp_path):
    with Prober() as prober:
        assert prober.probe(write_song(tmp_path / "a.ogg", 440, 11)).ok
        limits = _limits(prober.pid)
    assert limits["Max address space"] == str(MEMORY_BYTES)
    assert limits["Max file size"] == str(FILE_BYTES)
    assert limits["Max core file size"] == "0"
    cpu_limit = int(limits["Max cpu time"])
    assert 0 < cpu_limit <= CPU_SECONDS + 30                  # seconds used so far + this file's budget


# ---- special files -------------------------------------------------------------------------

def special_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "stick"
    write_song(folder / "01 - Vera Lynn - We'll Meet Again.ogg", 440, 11)
    os.mkfifo(folder / "02 - a pipe.mp3")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(folder / "03 - a socket.mp3"))
    os.symlink("/dev/zero", folder / "04 - endless zeros.mp3")
    write_song(folder / "05 - Glenn Miller - In the Mood.flac", 523, 11)
    return folder


def test_special_files_are_skipped_and_never_block_an_import(lib, mary, tmp_path):
    folder = special_folder(tmp_path)
    done = subprocess.run([sys.executable, "-m", "content", "import", "--resident", "Mary", str(folder),
                           "--db", str(lib.db_path), "--media", str(lib.media)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    lines = done.stdout.splitlines()
    assert lines[0].startswith("added: Vera Lynn – We'll Meet Again"), done.stdout + done.stderr
    assert lines[1:4] == [
        "refused: 02 - a pipe.mp3: This is a named pipe, not a file, so it was skipped.",
        "refused: 03 - a socket.mp3: This is a socket, not a file, so it was skipped.",
        "refused: 04 - endless zeros.mp3: This is a device, not a file, so it was skipped.",
    ]
    assert lines[4].startswith("added: Glenn Miller – In the Mood")
    assert "2 added, 0 already there, 3 refused for Mary." in done.stdout


def test_a_pipe_swapped_in_after_the_check_still_does_not_block(lib, mary, tmp_path, monkeypatch):
    """Between looking at a name and opening it, a plain file can become a pipe; the open
    itself never waits, and what was opened is checked again."""
    from content import ingest

    fifo = tmp_path / "swapped.mp3"
    os.mkfifo(fifo)
    monkeypatch.setattr(ingest, "special_file", lambda path: None)     # the first look saw a plain file
    result = ingest_file(lib.db, lib.media, fifo, resident_id=mary.id)
    assert result.status == "refused" and "not a plain file" in result.reason


# ---- a whole stick at once -----------------------------------------------------------------

def test_a_folder_is_decoded_in_parallel_and_reported_in_order(lib, mary, tmp_path, monkeypatch):
    files = [write_song(tmp_path / f"{i:02d} - Band - Song {i}.ogg", 300 + 40 * i, 11) for i in range(6)]
    files.insert(3, tmp_path / "missing.mp3")
    busy, most, lock = [0], [0], threading.Lock()
    real_probe = Prober.probe

    def counted(self, *args, **kwargs):
        with lock:
            busy[0] += 1
            most[0] = max(most[0], busy[0])
        try:
            return real_probe(self, *args, **kwargs)
        finally:
            with lock:
                busy[0] -= 1

    monkeypatch.setattr(Prober, "probe", counted)
    seen = []
    with ProberPool(2) as pool:
        results = ingest_many(lib.db, lib.media, files, pool=pool, resident_id=mary.id,
                              on_result=lambda path, result: seen.append(path.name))
    assert seen == [f.name for f in files]
    assert [r.status for r in results] == ["added"] * 3 + ["refused"] + ["added"] * 3
    assert [r.title for r in results if r.status == "added"] == [f"Song {i}" for i in range(6)]
    assert most[0] == 2                                       # two files were decoding at once
    assert media.scratch_files(lib.media) == []


def _import_as_ordinary_user(data: Path, paths: list[Path]) -> tuple[int, str]:
    """`content import` in a forked child that is an ordinary user when we are root (root
    reads everything); returns its exit code and everything it printed."""
    import pwd
    import traceback

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:                                              # the child
        code = 99
        try:
            sys.stdout = sys.stderr = open(write_end, "w", closefd=False)
            from content import cli, ingest  # noqa: F401  (loaded while the interpreter's files are readable)
            cli.build_parser()
            if os.geteuid() == 0:
                nobody = pwd.getpwnam("nobody")
                for root, dirs, files in os.walk(data):
                    for name in [root, *[os.path.join(root, f) for f in dirs + files]]:
                        os.lchown(name, nobody.pw_uid, nobody.pw_gid)
                os.setgroups([])
                os.setgid(nobody.pw_gid)
                os.setuid(nobody.pw_uid)
            code = cli.main(["import", "--resident", "Mary", "--db", str(data / "library.db"),
                         "--media", str(data / "media"), *map(str, paths)])
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    os.close(write_end)
    out = b""
    while chunk := os.read(read_end, 65536):
        out += chunk
    os.close(read_end)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out.decode()


def test_unreadable_files_and_folders_are_skipped_in_plain_words(open_tmp):
    """A file or folder the import may not read (a stick from another computer) is one
    plain sentence each, never a traceback."""
    from content import db as dbmod, library

    data = open_tmp / "data"
    (data / "media").mkdir(parents=True)
    database = dbmod.connect(data / "library.db")
    library.add_resident(database, "Mary", birth_year=1938)
    database.close()
    stick = open_tmp / "stick"
    stick.mkdir()
    secret = write_song(stick / "02 - Band - Secret.ogg", 523, 11)
    locked = stick / "locked"
    locked.mkdir()
    inner = write_song(locked / "03 - Band - Hidden.ogg", 660, 11)
    os.chmod(secret, 0)
    os.chmod(locked, 0)
    code, said = _import_as_ordinary_user(data, [stick])
    assert "Traceback" not in said, said
    assert said.splitlines() == [
        "refused: locked: This folder could not be opened, so the songs in it were skipped.",
        "refused: 02 - Band - Secret.ogg: The file could not be read.",
        "0 added, 0 already there, 2 refused for Mary.",
    ], said
    assert code == 1
    # A file named inside a folder that cannot be opened: one sentence too.
    code, said = _import_as_ordinary_user(data, [inner])
    assert "Traceback" not in said, said
    assert said.splitlines()[0] == "refused: 03 - Band - Hidden.ogg: The file could not be read.", said
