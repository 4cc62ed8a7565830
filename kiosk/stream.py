"""One continuous sound for the output: songs joined end to end, each at its own gain.

libvlc 3 opens and closes its audio output for every media it plays, so a player that
plays song after song stops the sound card between them (a gap, and on some outputs a
click or a dip). Here the output player plays a single endless media, and this module
writes the songs into it one after another, sample after sample.

Each song is decoded by libvlc itself (the same plugins as the output: whatever ingest
accepted plays), through an equalizer whose preamp is the song's gain, so that the gain is
in the samples from the first one. The decoded sound comes through a pipe, which paces the
decoder: it runs only as far ahead as we read.

Who calls what: the output's input thread calls `Stream.read` (VLC's media callbacks);
the kiosk's thread calls `queue`, `replace`, `open_gate` and `close`. Neither ever calls
libvlc from inside libvlc's own callbacks: a decoder that has finished is stopped by a
small thread of its own.
"""
from __future__ import annotations

import collections
import os
import select
import threading
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Callable

import vlc

RATE = 44100
CHANNELS = 2
FRAME = 2 * CHANNELS                 # bytes of one stereo frame of 16-bit samples
WAIT_FOR_NEXT_S = 0.5                # at the end of a song, how long the next one may take to appear
CLOSE_WAIT_S = 2.0                   # how long a decoder may take to stop
WAIT_AFTER_FAILURE_S = 1.0           # for the kiosk's word after a song gave nothing
READ_WAIT_S = 0.05                   # one wait for a decoder's first samples
FIRST_SOUND_S = 5.0                  # a decoder silent this long has nothing to give
GATE_CHUNK = 256 * FRAME             # what is written while the output's volume is not yet set
LEAD_OVER_CACHING_S = 0.2            # how far the stream runs ahead of the output, past VLC's own caching


def wav_header() -> bytes:
    """A WAV header for a stream of unknown length (the sizes say "as long as it goes")."""
    fmt = (1).to_bytes(2, "little") + CHANNELS.to_bytes(2, "little") + RATE.to_bytes(4, "little") \
        + (RATE * FRAME).to_bytes(4, "little") + FRAME.to_bytes(2, "little") + (16).to_bytes(2, "little")
    endless = (0xFFFFFFFF).to_bytes(4, "little")
    return b"RIFF" + endless + b"WAVEfmt " + len(fmt).to_bytes(4, "little") + fmt + b"data" + endless


class StreamNews(StrEnum):
    BEGAN = "began"          # the song's first samples went to the output
    FAILED = "failed"        # the song's file gave no sound at all
    LAST = "last"            # the song ended and nothing followed: the stream ends with it


# libvlc's equalizer (its preamp is the one gain a media player can be given) also takes
# 12 dB off at a flat setting, measured the same from 100 Hz to 12 kHz.
EQUALIZER_OFFSET_DB = -12.0
PREAMP_RANGE_DB = (-20.0, 20.0)


def decoding_instance() -> vlc.Instance:
    """The libvlc instance every song is decoded in (one for the kiosk's life: an instance
    per song would cost about 50 KB that libvlc never gives back)."""
    instance = vlc.Instance("--quiet", "--intf=dummy", "--no-video", "--no-stats", "--no-lua",
                            "--no-metadata-network-access")
    if instance is None:
        raise RuntimeError("libvlc could not start a decoder.")
    return instance


def preamp_for(gain_db: float) -> float:
    """The equalizer preamp that gives `gain_db` (a song is lowered by 32 dB at most and
    raised by 8 dB at most)."""
    low, high = PREAMP_RANGE_DB
    return min(high, max(low, gain_db - EQUALIZER_OFFSET_DB))


class SongDecoder:
    """One song, decoded to 16-bit stereo at RATE from `start_s`, at `gain_db`."""

    def __init__(self, instance: vlc.Instance, path: Path, start_s: float, gain_db: float, token: int) -> None:
        self.token = token
        self.path = path
        self.gain_db = gain_db
        self._read, write = os.pipe()
        os.set_blocking(self._read, False)
        self._write: int | None = write
        self._media = instance.media_new_path(str(path))
        self._media.add_option(f":sout=#transcode{{acodec=s16l,channels={CHANNELS},samplerate={RATE},afilter=equalizer}}"
                               f":std{{access=file,mux=raw,dst=/dev/fd/{write}}}")
        self._media.add_option(":no-sout-video")
        self._media.add_option(":no-sout-spu")
        if start_s > 0:
            self._media.add_option(f":start-time={start_s:.2f}")
        self._player = instance.media_player_new()
        # The song's gain, from its first sample: the transcode's equalizer reads its
        # preamp from this media player.
        equalizer = vlc.AudioEqualizer()
        equalizer.set_preamp(preamp_for(gain_db))
        self._player.set_equalizer(equalizer)
        equalizer.release()
        self._player.set_media(self._media)
        self._done = threading.Event()
        self._lock = threading.Lock()
        # Not player.event_manager(): python-vlc memoizes it and would keep every decoder.
        events = vlc.libvlc_media_player_event_manager(self._player)
        self._events = events
        for kind in (vlc.EventType.MediaPlayerEndReached, vlc.EventType.MediaPlayerEncounteredError):
            events.event_attach(kind, lambda _e: self._done.set())
        self._pending = b""
        self.frames = 0                       # frames handed on so far
        self.finished = False                 # every sample has been read
        self._reaper = threading.Thread(target=self._reap, name="song-decoder", daemon=True)
        self._reaper.start()
        self._player.play()

    def _reap(self) -> None:
        """When libvlc has decoded the whole file, stop it and close the pipe's writing
        end, so that reading finds the end of the song."""
        self._done.wait()
        self._finish()

    def _finish(self) -> None:
        with self._lock:
            write, self._write = self._write, None
            if write is None:
                return
        self._player.stop()
        os.close(write)

    def read(self, size: int, timeout: float) -> bytes | None:
        """Up to `size` bytes of whole frames; b"" at the end of the song; None when
        nothing came within `timeout` seconds."""
        if self.finished:
            return b""
        ready, _, _ = select.select([self._read], [], [], timeout)
        if not ready:
            return None
        try:
            data = os.read(self._read, max(FRAME, size - len(self._pending)))
        except BlockingIOError:
            return None
        if not data:
            self.finished = True
            return b""
        data = self._pending + data
        whole = len(data) - len(data) % FRAME
        self._pending = data[whole:]
        self.frames += whole // FRAME
        return data[:whole] if whole else None

    def close(self) -> None:
        """Stop decoding (a song left before its end) and let everything go. The pipe is
        read (and thrown away) while libvlc stops: a decoder blocked on a full pipe would
        otherwise hold its stop up for ever."""
        self._done.set()                                  # the reaper stops libvlc's decoding
        deadline = time.monotonic() + CLOSE_WAIT_S
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self._read], [], [], 0.05)
            if ready:
                try:
                    if not os.read(self._read, 1 << 16):
                        break                             # stopped: the writing end is closed
                except BlockingIOError:
                    pass
        self._reaper.join(timeout=max(0.0, deadline - time.monotonic()))
        os.close(self._read)
        events = self._events
        events.event_detach(vlc.EventType.MediaPlayerEndReached)
        events.event_detach(vlc.EventType.MediaPlayerEncounteredError)
        self._player.release()
        self._media.release()


@dataclass
class Placed:
    """Where a song's samples begin in the stream (frames from the stream's start), and
    how far into the file that was."""

    token: int
    frame: int
    start_s: float


class Stream:
    """The endless media's bytes: a WAV header, then song after song."""

    def __init__(self, first: SongDecoder, start_s: float, notify: Callable[[int, StreamNews], None],
                 caching_s: float = 0.3) -> None:
        self._notify = notify
        # VLC reads a stream as fast as it is given, so the stream paces itself: never more
        # than `_lead` seconds ahead of what the output has played, which is also how long
        # a new song takes to be heard after Next.
        self._lead = caching_s + LEAD_OVER_CACHING_S
        self._caching_frames = int(caching_s * RATE)
        self._opened: tuple[float, float] | None = None    # (frame, when) the music was let through
        self._heard: tuple[float, float] | None = None     # (frame at the output, when), from VLC
        self._lock = threading.Condition()
        self._header = wav_header()
        self._current: SongDecoder | None = first
        self._current_start = start_s
        self._began = False
        self._waiting: collections.deque[tuple[SongDecoder, float]] = collections.deque()
        self._retired: list[SongDecoder] = []
        self._gate = threading.Event()
        self._closed = False
        self._reading: SongDecoder | None = None
        self._since_sound = 0.0
        self.frames = 0                                   # frames written into the stream
        self.ended = False                                # its last song was reported (LAST)
        self.placed: list[Placed] = []

    # ---- the kiosk's side ---------------------------------------------------------------

    def open_gate(self) -> None:
        """The output's volume is set: the music may start (until then it writes silence,
        so a starting output never sounds at VLC's default volume)."""
        with self._lock:
            self._opened = (float(self.frames), time.monotonic())
        self._gate.set()

    def heard(self, ms: int) -> None:
        """Where the output is (VLC's clock, in ms of the stream): a sound card whose clock
        runs faster than ours is never starved."""
        if ms > 0:
            frame = ms * RATE / 1000.0
            with self._lock:
                self._heard = (frame, time.monotonic())
                # Songs the output has gone past are never asked about again: a stream that
                # plays for months must not keep every song it ever played.
                passed = sum(1 for placed in self.placed[1:] if placed.frame <= frame)
                self.placed = self.placed[passed:]

    def _room(self) -> int:
        """Frames the stream may still write now: `_lead` seconds past where the output is
        by our clock since the gate opened, or by VLC's, whichever is further."""
        now = time.monotonic()
        with self._lock:
            marks = [m for m in (self._opened, self._heard) if m is not None]
        if not marks:
            return 0
        played = max(frame + (now - at) * RATE for frame, at in marks)
        return int(played + self._lead * RATE) - self.frames

    def queue(self, decoder: SongDecoder, start_s: float = 0.0) -> bool:
        """`decoder`'s song follows the one playing, with no gap (False: the stream has
        ended, and the decoder is left to the caller)."""
        with self._lock:
            if self._closed:
                return False
            self._waiting.append((decoder, start_s))
            self._lock.notify_all()
            return True

    def replace(self, decoder: SongDecoder, start_s: float) -> bool:
        """`decoder`'s song instead of the one playing (and of any queued), from now
        (False: the stream has ended, and the decoder is left to the caller)."""
        with self._lock:
            if self._closed:
                return False
            if self._current is not None:
                self._retired.append(self._current)
            self._retired += [d for d, _ in self._waiting]
            self._waiting.clear()
            self._current, self._current_start, self._began = decoder, start_s, False
            self._since_sound = 0.0
            self._lock.notify_all()
            return True

    def drop_queued(self) -> None:
        with self._lock:
            self._retired += [d for d, _ in self._waiting]
            self._waiting.clear()

    def take_retired(self) -> list[SongDecoder]:
        """Decoders no longer read from, for the kiosk's thread to close (never the one
        VLC's thread is reading from at this moment)."""
        with self._lock:
            if self._closed and self._current is not None:
                self._retired.append(self._current)
                self._current = None
            retired = [d for d in self._retired if d is not self._reading]
            self._retired = [d for d in self._retired if d is self._reading]
            return retired

    def close(self) -> None:
        """The output is stopping: no more reading (call before stopping the player, so
        that VLC's thread is not left waiting here)."""
        with self._lock:
            self._closed = True
            self.ended = True
            self._retired += [d for d, _ in self._waiting]
            self._waiting.clear()
            self._lock.notify_all()
        self._gate.set()

    # ---- VLC's side (the output's input thread) -----------------------------------------

    def read(self, size: int) -> bytes:
        """The next bytes of the stream; b"" ends it."""
        if self._header:
            out, self._header = self._header[:size], self._header[size:]
            return out
        if not self._gate.is_set():
            # VLC starts its output once it holds its caching's worth: give that much
            # silence at once (the first sound comes out without waiting), then at its pace.
            if self.frames < self._caching_frames or not self._gate.wait(0.005):
                silence = bytes(min(size, GATE_CHUNK) // FRAME * FRAME)
                with self._lock:
                    self.frames += len(silence) // FRAME
                return silence
        while True:
            room = self._room()
            if room <= 0:
                if self._closed:
                    return b""
                time.sleep(min(0.02, -room / RATE + 0.001))
                continue
            size = min(size, max(room, 256) * FRAME)
            with self._lock:
                decoder = None if self._closed else self._current
                self._reading = decoder
                if decoder is None:
                    self._closed = True
            if decoder is None:
                return b""
            data = decoder.read(size, READ_WAIT_S)
            with self._lock:
                self._reading = None
                if decoder is not self._current or self._closed:
                    continue                                 # replaced or stopped meanwhile
                if data:
                    self._since_sound = 0.0
                    began = not self._began
                    if began:
                        self._began = True
                        self.placed.append(Placed(decoder.token, self.frames, self._current_start))
                    self.frames += len(data) // FRAME
            if data:
                if began:
                    self._notify(decoder.token, StreamNews.BEGAN)
                return data
            if data is None:
                self._since_sound += READ_WAIT_S
                if self._since_sound < FIRST_SOUND_S:
                    continue
            # This song is over (or never gave anything): on to the next, if there is one.
            if not self._next(decoder):
                return b""

    def _next(self, ended: SongDecoder) -> bool:
        with self._lock:
            if self._current is not ended:
                return True                                  # replaced meanwhile
            failed = not self._began
            self._retired.append(ended)
            self._current = None
            queued = len(self._waiting)
        if failed:
            self._notify(ended.token, StreamNews.FAILED)
        with self._lock:
            if failed:
                # The kiosk decides what follows a song that gave nothing (the same song
                # from its start, or another): wait for its word before taking the queue.
                self._lock.wait_for(lambda: len(self._waiting) > queued or self._closed or self._current is not None,
                                    timeout=WAIT_AFTER_FAILURE_S)
            elif not self._waiting and not self._closed:
                self._lock.wait_for(lambda: self._waiting or self._closed or self._current is not None,
                                    timeout=WAIT_FOR_NEXT_S)
            if self._closed:
                return False
            if self._current is not None:
                return True                                  # a song replaced the ended one
            if not self._waiting:
                ended_last = not failed
                self._closed = True                          # VLC reads no more after the end
            else:
                self._current, self._current_start = self._waiting.popleft()
                self._began = False
                self._since_sound = 0.0
                return True
        if ended_last:
            self.ended = True
            self._notify(ended.token, StreamNews.LAST)
        return False

    @property
    def token(self) -> int | None:
        """The token of the song being written now."""
        current = self._current
        return current.token if current is not None else (self.placed[-1].token if self.placed else None)

    def playing_at(self, frame: int) -> Placed | None:
        """The song whose samples are at `frame` of the stream."""
        before = [placed for placed in self.placed if placed.frame <= frame]
        return before[-1] if before else None
