"""The child process that decodes for `content.probe.Prober`: one file at a time, for as
long as it is kept, under the kernel's limits (CPU time per file, memory, no files written).
Started as `python -m content.probe_child CPU_SECONDS MEMORY_BYTES NICE`."""
from __future__ import annotations

import json
import os
import resource
import sys
import threading

from content.probe import CPU_SECONDS, FILE_BYTES, MAX_SECONDS, MEMORY_BYTES, READ_BYTES, ProbeError


def _limit_self(memory_bytes: int) -> None:
    """Bounds the kernel enforces on this process, whatever libvlc does."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_BYTES, FILE_BYTES))
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))


def _cpu_used() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _allow_cpu(seconds: float) -> None:
    """The CPU limit counts from the child's start, so each file moves it on: SIGXCPU,
    whose default action ends the process, arrives `seconds` of CPU from now."""
    soft = int(_cpu_used() + seconds) + 1
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


class Decoder:
    """One libvlc instance, decoding file after file into an Analyser."""

    def __init__(self) -> None:
        import vlc  # only the child loads libvlc

        self._vlc = vlc
        self._instance = vlc.Instance("--quiet", "--intf=dummy", "--no-video", "--no-stats", "--no-lua",
                                      "--no-metadata-network-access")
        if self._instance is None:
            raise RuntimeError("libvlc could not start")

    def decode(self, path: str, max_seconds: float) -> dict:
        import numpy as np

        from content.analysis import CHANNELS, Analyser

        vlc = self._vlc
        read_end, write_end = os.pipe()
        too_long = threading.Event()
        measured: list[Analyser] = []

        def pump() -> None:
            """Measure the decoded sound as it arrives (a WAV stream: a header that gives
            the rate, then samples); past max_seconds, keep draining the pipe so VLC never
            blocks on it, but measure no more."""
            pending = b""
            analyser: Analyser | None = None
            frame = 2 * CHANNELS
            while chunk := os.read(read_end, READ_BYTES):
                if too_long.is_set():
                    continue
                pending += chunk
                if analyser is None:
                    header = _wav_header(pending)
                    if header is None:
                        continue
                    rate, start = header
                    analyser = Analyser(rate)
                    measured.append(analyser)
                    pending = pending[start:]
                whole = len(pending) - len(pending) % frame
                analyser.add(np.frombuffer(pending[:whole], dtype=np.int16))
                pending = pending[whole:]
                if analyser.seconds > max_seconds:
                    too_long.set()

        reader = threading.Thread(target=pump, name="probe-pump", daemon=True)
        reader.start()
        media = self._instance.media_new_path(path)
        media.add_option(f":sout=#transcode{{acodec=s16l,channels={CHANNELS}}}"
                         f":std{{access=file,mux=wav,dst=/dev/fd/{write_end}}}")
        media.add_option(":no-sout-video")
        media.add_option(":no-sout-spu")
        player = self._instance.media_player_new()
        player.set_media(media)
        finished = threading.Event()
        events = player.event_manager()
        # Callbacks only set an event: libvlc must not be called from its own callbacks.
        for kind in (vlc.EventType.MediaPlayerEndReached, vlc.EventType.MediaPlayerEncounteredError):
            events.event_attach(kind, lambda _e: finished.set())
        claimed: float | None = None
        try:
            player.play()
            while not finished.wait(0.02):
                length = player.get_length()
                if length and length > 0:
                    claimed = length / 1000.0
                    if claimed > max_seconds:
                        too_long.set()
                if too_long.is_set():
                    break
            tracks = [t for t in (media.tracks_get() or []) if t.type == vlc.TrackType.audio]
        finally:
            player.stop()
            os.close(write_end)
            reader.join()
            os.close(read_end)
            player.release()
            media.release()
        answer: dict = {"audio_tracks": len(tracks), "claimed_seconds": claimed}
        if too_long.is_set():
            answer["error"] = ProbeError.TOO_LONG.value
        for analyser in measured:
            if analyser.seconds > 0:
                answer["analysis"] = analyser.finish().to_json()
            analyser.close()
        return answer


def _wav_header(data: bytes) -> tuple[int, int] | None:
    """(sample rate, where the samples start) from the start of a WAV stream, or None
    until enough of it has arrived. Sizes are not trusted: on a pipe they stay zero."""
    if len(data) < 12:
        return None
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("the decoder did not write a WAV stream")
    at, rate = 12, None
    while len(data) >= at + 8:
        kind, size = data[at:at + 4], int.from_bytes(data[at + 4:at + 8], "little")
        if kind == b"data":
            return (rate, at + 8) if rate else None
        if len(data) < at + 8 + size:
            return None
        if kind == b"fmt ":
            rate = int.from_bytes(data[at + 12:at + 16], "little")
        at += 8 + size + (size & 1)
    return None


def _serve(cpu_seconds: float, memory_bytes: int, nice: int) -> None:
    """Child process: one JSON request per line in, one JSON answer per line out."""
    _limit_self(memory_bytes)
    if nice:
        os.nice(nice)
    decoder = Decoder()
    for line in sys.stdin:
        request = json.loads(line)
        _allow_cpu(cpu_seconds)
        answer = decoder.decode(request["path"], float(request.get("max_seconds", MAX_SECONDS)))
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    _serve(float(sys.argv[1]) if len(sys.argv) > 1 else CPU_SECONDS,
           int(sys.argv[2]) if len(sys.argv) > 2 else MEMORY_BYTES,
           int(sys.argv[3]) if len(sys.argv) > 3 else 0)
