"""Does our own player really decode this file, and for how long?

mutagen reads headers; a header can claim four minutes over a few kilobytes, and a file
cut short keeps the header of the whole. So before a file is accepted, libvlc decodes
all of it as fast as it can (a transcode to 8 kHz mono PCM, which runs at many times real
time: 0.3 s for a four-minute MP3 on a 2-core x86 machine) and we count the seconds that
came out.

The decode runs in a child process (`python -m content.probe`), one per batch of files:
a file that crashes or hangs libvlc then costs that file, not the admin or the import.
"""
from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

PCM_RATE = 8000          # Hz, mono, 16-bit: 16 kB per second of audio in the scratch file
WAV_HEADER = 44


FULL = "the disk is full"
ROOM_LEFT_BYTES = 256 * 1024     # less than this free after decoding: the scratch file was cut by a full disk


@dataclass(frozen=True)
class ProbeResult:
    decoded_seconds: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def storage_full(self) -> bool:
        return self.error == FULL


class ScratchFull(Exception):
    """The decoded audio could not all be written: the scratch folder's disk is full."""


def _room_left(folder: str) -> int:
    st = os.statvfs(folder)
    return st.f_bavail * st.f_frsize


def decode_seconds(path: str, scratch_dir: str, timeout: float) -> float:
    """Decode `path` with libvlc as fast as possible; return the seconds of audio produced."""
    import vlc  # imported here: only the child process loads libvlc

    out = os.path.join(scratch_dir, "decoded.wav")
    if os.path.exists(out):
        os.remove(out)
    instance = vlc.Instance("--quiet", "--intf=dummy", "--no-video", "--no-stats", "--no-lua")
    try:
        media = instance.media_new_path(path)
        media.add_option(
            f":sout=#transcode{{acodec=s16l,channels=1,samplerate={PCM_RATE}}}"
            f":std{{access=file,mux=wav,dst={out}}}"
        )
        media.add_option(":no-sout-video")
        player = instance.media_player_new()
        player.set_media(media)
        finished = threading.Event()
        events = player.event_manager()
        # Callbacks only set an event: libvlc must not be called from its own callbacks.
        for kind in (vlc.EventType.MediaPlayerEndReached, vlc.EventType.MediaPlayerEncounteredError):
            events.event_attach(kind, lambda _e: finished.set())
        player.play()
        completed = finished.wait(timeout)
        player.stop()
        player.release()
        media.release()
        if not completed:
            raise TimeoutError
    finally:
        instance.release()
    full = _room_left(scratch_dir) < ROOM_LEFT_BYTES
    if not os.path.exists(out):
        if full:
            raise ScratchFull
        return 0.0
    size = os.path.getsize(out)
    os.remove(out)
    if full:
        raise ScratchFull       # the decode stopped where the disk did, not where the song does
    return max(0.0, (size - WAV_HEADER) / 2 / PCM_RATE)


def _serve() -> None:
    """Child process: read one JSON request per line, answer one JSON line."""
    with tempfile.TemporaryDirectory(prefix="evergreen-probe-") as scratch:
        for line in sys.stdin:
            req = json.loads(line)
            try:
                seconds = decode_seconds(req["path"], scratch, req["timeout"])
                answer = {"decoded_seconds": seconds}
            except TimeoutError:
                answer = {"error": "timeout"}
            except (ScratchFull, OSError) as exc:
                if isinstance(exc, OSError) and exc.errno not in (errno.ENOSPC, errno.EDQUOT):
                    raise
                answer = {"error": "full"}
            sys.stdout.write(json.dumps(answer) + "\n")
            sys.stdout.flush()


class Prober:
    """A child process that decodes files on request; restarted if a file kills it.

    Use as a context manager, or call close(). Not shared between threads: give each
    thread its own, or guard it with a lock.
    """

    def __init__(self) -> None:
        self._proc: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()

    def _start(self) -> subprocess.Popen[str]:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "content.probe"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                cwd=str(Path(__file__).resolve().parent.parent),
            )
        return self._proc

    def probe(self, path: str | Path, claimed_seconds: float) -> ProbeResult:
        timeout = 20.0 + claimed_seconds / 10
        with self._lock:
            proc = self._start()
            assert proc.stdin is not None and proc.stdout is not None
            try:
                proc.stdin.write(json.dumps({"path": str(path), "timeout": timeout}) + "\n")
                proc.stdin.flush()
                line = _readline(proc, timeout + 10)
            except (BrokenPipeError, OSError):
                line = ""
            if not line:
                self._kill()
                return ProbeResult(0.0, "the player stopped while reading this file")
            answer = json.loads(line)
            if answer.get("error") == "full":
                return ProbeResult(0.0, FULL)
            if "error" in answer:
                self._kill()
                return ProbeResult(0.0, "the player took too long to read this file")
            return ProbeResult(float(answer["decoded_seconds"]))

    def _kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None

    def close(self) -> None:
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                assert self._proc.stdin is not None
                self._proc.stdin.close()
                try:
                    self._proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait()
            self._proc = None

    def __enter__(self) -> "Prober":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _readline(proc: subprocess.Popen[str], timeout: float) -> str:
    """Read one line from the child, giving up after `timeout` seconds."""
    result: list[str] = []
    reader = threading.Thread(target=lambda: result.append(proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(timeout)
    return result[0] if result else ""


if __name__ == "__main__":
    _serve()
