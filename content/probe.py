"""Does our own player really decode this file, for how long, and what does it sound like?

mutagen reads headers; a header can claim four minutes over a few kilobytes, and a file
cut short keeps the header of the whole. So before a file is accepted, libvlc decodes all
of it as fast as it can (a transcode to 16-bit stereo at the file's own rate, written into
a pipe, at a few hundred times real time) and `content.analysis` measures what comes out: its real
length, its loudness and peak, how much of it is silence, and its tempo. Whatever the
container, if VLC's plugins play it, it is a song; that is the same test the kiosk's
player will face.

The decoding runs in a child process (`python -m content.probe_child`) that serves one file at a
time for as long as it is kept, so libvlc and numpy load once. A file that crashes or
hangs libvlc costs that file, never the admin or the import, and the child is bounded by
the kernel, not by trust: a CPU-time limit per file (SIGXCPU ends it), a memory limit, and
no room to write files. The parent also gives up on a child that goes quiet.
"""
from __future__ import annotations

import contextlib
import json
import os
import queue
import selectors
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Iterator

from content.sound import SoundAnalysis

MAX_SECONDS = 3 * 3600           # no song lasts longer; a file that does is refused
CPU_SECONDS = 10.0               # of decoding and measuring per file, at most
MEMORY_BYTES = 2 << 30           # address space of the child (libvlc maps much it never uses)
FILE_BYTES = 1 << 20             # the child has no business writing files
READ_BYTES = 1 << 18             # decoded audio is measured in pieces of this size


class ProbeError(str, Enum):
    """Why a file could not be read to the end; `words` says it to a family member."""

    TOO_SLOW = "too_slow"
    TOO_LONG = "too_long"
    CRASHED = "crashed"

    @property
    def words(self) -> str:
        return {
            ProbeError.TOO_SLOW: "It took too long to read this file; it may be damaged, or far longer than a song.",
            ProbeError.TOO_LONG: "It lasts far longer than a song.",
            ProbeError.CRASHED: "This file made the player stop; it may be damaged.",
        }[self]


@dataclass(frozen=True)
class ProbeResult:
    """What decoding found. `analysis` is None when nothing was decoded at all."""

    analysis: SoundAnalysis | None = None
    audio_tracks: int = 0                   # sound tracks VLC found in the file
    claimed_seconds: float | None = None    # what VLC's demuxer says the file lasts
    error: ProbeError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def decoded_seconds(self) -> float:
        return self.analysis.seconds if self.analysis else 0.0


# ---- the parent -----------------------------------------------------------------------

class Prober:
    """A child process that decodes and measures files on request; restarted when a file
    ends it. Use as a context manager, or call close(). One request at a time (a lock
    guards it); for several at once use a ProberPool."""

    def __init__(self, *, cpu_seconds: float = CPU_SECONDS, memory_bytes: int = MEMORY_BYTES,
                 max_seconds: float = MAX_SECONDS, nice: int = 0, wall_seconds: float | None = None) -> None:
        self.cpu_seconds = cpu_seconds
        # A child waiting on something (not burning CPU) is given up on after this long.
        self.wall_seconds = wall_seconds if wall_seconds is not None else 2 * cpu_seconds + 10
        self.memory_bytes = memory_bytes
        self.max_seconds = max_seconds
        self.nice = nice
        self.requests = 0                  # files sent to the child, for tests and benchmarks
        self._proc: subprocess.Popen[bytes] | None = None
        self._buffer = b""
        self._lock = threading.Lock()

    def _start(self) -> subprocess.Popen[bytes]:
        if self._proc is None or self._proc.poll() is not None:
            env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "content.probe_child", str(self.cpu_seconds), str(self.memory_bytes), str(self.nice)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                cwd=str(Path(__file__).resolve().parent.parent),
                env=env,
            )
            self._buffer = b""
        return self._proc

    def probe(self, path: str | Path, claimed_seconds: float = 0.0) -> ProbeResult:
        """Decode and measure `path`. `claimed_seconds` (from the file's header) is not
        trusted; it only lets a file that says it is short be given up on sooner."""
        with self._lock:
            self.requests += 1
            proc = self._start()
            assert proc.stdin is not None
            request = {"path": str(path), "max_seconds": self.max_seconds}
            try:
                proc.stdin.write((json.dumps(request) + "\n").encode())
                proc.stdin.flush()
                line = self._readline(proc, self.wall_seconds)
            except OSError:
                line = b""
            if not line:
                return ProbeResult(error=self._ended())
            answer = json.loads(line)
        analysis = SoundAnalysis.from_json(answer["analysis"]) if answer.get("analysis") else None
        error = ProbeError(answer["error"]) if answer.get("error") else None
        return ProbeResult(analysis, int(answer.get("audio_tracks") or 0), answer.get("claimed_seconds"), error)

    def _readline(self, proc: subprocess.Popen[bytes], timeout: float) -> bytes:
        """One line from the child, or b"" when it ends or stays silent past `timeout`."""
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    return b""
                chunk = os.read(fd, 65536)
                if not chunk:
                    return b""
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs (tests read its limits from /proc)."""
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def _ended(self) -> ProbeError:
        """The child died or went quiet: say why, and start afresh next time."""
        proc = self._proc
        self._proc = None
        if proc is None:
            return ProbeError.CRASHED
        if proc.poll() is None:
            proc.kill()
        code = proc.wait()
        return ProbeError.TOO_SLOW if code in (-signal.SIGXCPU, -signal.SIGKILL) else ProbeError.CRASHED

    def close(self) -> None:
        with self._lock:
            proc, self._proc = self._proc, None
            if proc is not None and proc.poll() is None:
                assert proc.stdin is not None
                with contextlib.suppress(OSError):
                    proc.stdin.close()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()

    def __enter__(self) -> "Prober":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def workers() -> int:
    """How many files to decode at once: one per core, but no more than the memory allows
    (each child holds libvlc and numpy, about 60 MB; a Pi Zero 2 W has 512 MB for
    everything)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return max(1, cores)
    return max(1, min(cores, memory // (256 << 20)))


class ProberPool:
    """Several Probers, lent out one at a time to whichever thread asks. With
    `idle_seconds`, children nobody has used for that long are ended (a long-lived admin
    on a 512 MB Pi should not keep them); they start again when next needed."""

    def __init__(self, size: int | None = None, *, idle_seconds: float | None = None, **options: object) -> None:
        self.size = size or workers()
        self.idle_seconds = idle_seconds
        self._free: queue.SimpleQueue[Prober] = queue.SimpleQueue()
        self._all = [Prober(**options) for _ in range(self.size)]  # type: ignore[arg-type]
        self._last_used = {id(p): 0.0 for p in self._all}
        self._timer: threading.Timer | None = None
        self._timer_lock = threading.Lock()
        for p in self._all:
            self._free.put(p)

    @contextlib.contextmanager
    def prober(self) -> Iterator[Prober]:
        p = self._free.get()
        try:
            yield p
        finally:
            self._last_used[id(p)] = time.monotonic()
            self._free.put(p)
            self._arm()

    def _arm(self) -> None:
        if self.idle_seconds is None:
            return
        with self._timer_lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self.idle_seconds, self._end_idle)
            self._timer.daemon = True
            self._timer.start()

    def _end_idle(self) -> None:
        assert self.idle_seconds is not None
        now = time.monotonic()
        idle = []
        while True:
            try:
                idle.append(self._free.get_nowait())
            except queue.Empty:
                break
        for p in idle:
            if now - self._last_used[id(p)] >= self.idle_seconds:
                p.close()
            self._free.put(p)

    @property
    def requests(self) -> int:
        return sum(p.requests for p in self._all)

    def running(self) -> int:
        """Children alive just now."""
        return sum(p.pid is not None for p in self._all)

    def close(self) -> None:
        with self._timer_lock:
            if self._timer is not None:
                self._timer.cancel()
        for p in self._all:
            p.close()

    def __enter__(self) -> "ProberPool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
