"""python-vlc behind a small interface: one output player, our own queue outside it.

Only the controller thread calls this (through `kiosk.playback` and `kiosk.mixer`). VLC's event callbacks only forward a
`PlayerEvent` to the controller's queue: libvlc must not be called from its own handlers.

The output plays one endless stream (`kiosk.stream`) into which songs are written one
after another, each decoded at its own gain (toward one loudness, from its first sample).
So the audio output opens once when the music starts and stays open from song to song:
no gap, no dip and no restart between songs. Next and Previous change the song inside
the same stream.

Loudness has three layers. The song's gain is in its decoded samples. The instance's
software gain is set once to the cap, so no input, race or VLC default can ever sound
louder than the cap. Within that, `set_volume` scales on the same 0-100 scale as the cap,
which is what fades and the volume buttons move. VLC's volume only exists once an audio
output does, and it only holds once that output plays; until then the stream writes
silence, so a starting output is never heard at VLC's default volume.
"""
from __future__ import annotations

import ctypes
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Callable, Protocol

import vlc

from kiosk.config import AudioConfig
from kiosk.stream import RATE, SongDecoder, Stream, StreamNews, decoding_instance


class PlayerEventKind(StrEnum):
    PLAYING = "playing"
    ENDED = "ended"
    ERROR = "error"


@dataclass(frozen=True)
class PlayerEvent:
    """Something VLC reported about the media started with `token`."""

    token: int
    kind: PlayerEventKind
    t: float


_RUNNING = (vlc.State.Opening, vlc.State.Buffering, vlc.State.Playing, vlc.State.Paused)


class PcmSink(Protocol):
    """Receives the PCM VLC would send to a sound card (the amem output)."""

    def on_pcm(self, samples: int, count: int, pts: int) -> None: ...


_NEWS = {StreamNews.BEGAN: PlayerEventKind.PLAYING, StreamNews.FAILED: PlayerEventKind.ERROR,
         StreamNews.LAST: PlayerEventKind.ENDED}


def vlc_args(audio: AudioConfig, cap: int) -> list[str]:
    args = ["--no-video", "--quiet", "--no-xlib", f"--file-caching={int(audio.file_caching_ms)}",
            f"--gain={(cap / 100.0) ** 3:.6f}"]
    if audio.output == "alsa":
        args.append("--aout=alsa")
        if audio.device:
            args.append(f"--alsa-audio-device={audio.device}")
    elif audio.output == "pulse":
        args.append("--aout=pulse")
    elif audio.output == "afile":
        args += ["--aout=afile", f"--audiofile-file={audio.file}"]
    elif audio.output == "dummy":
        args.append("--aout=dummy")
    return args


class Player:
    def __init__(
        self,
        audio: AudioConfig,
        cap: int,
        notify: Callable[[PlayerEvent], None],
        pcm: PcmSink | None = None,
    ) -> None:
        self._cap = max(1, int(cap))
        self._caching_s = audio.file_caching_ms / 1000.0
        self._notify = notify
        self._instance = vlc.Instance(vlc_args(audio, self._cap))
        if self._instance is None:
            raise RuntimeError("libvlc could not start with these audio settings.")
        self._mp = self._instance.media_player_new()
        self._pcm_cb = None
        if pcm is not None:
            # Keep a reference: ctypes callbacks must outlive the player.
            self._pcm_cb = vlc.CallbackDecorators.AudioPlayCb(
                lambda data, samples, count, pts: pcm.on_pcm(samples, count, pts))
            self._mp.audio_set_callbacks(self._pcm_cb, None, None, None, None, None)
            self._mp.audio_set_format("S16N", 44100, 2)
        self._token = 0
        self._media: vlc.Media | None = None
        self._events: vlc.EventManager | None = None
        self._stream: Stream | None = None
        self._decoding: vlc.Instance | None = None          # made when the first song plays
        # ctypes callbacks must outlive every media. A seek callback (which only agrees to
        # stay where it is) is what lets VLC pace the stream in real time: libvlc treats a
        # stream it cannot seek as live and would read it as fast as the output takes it.
        self._read_cb = vlc.CallbackDecorators.MediaReadCb(self._read)
        self._seek_cb = vlc.CallbackDecorators.MediaSeekCb(self._seek)
        self._offset = 0
        self._level = 0.0
        self._applied: int | None = None
        self._gate_waiting = False

    @property
    def cap(self) -> int:
        return self._cap

    def play(self, path: Path, start_s: float = 0.0, gain_db: float = 0.0) -> int:
        """Start `path` (at `start_s` seconds, at `gain_db`) now, instead of whatever
        plays; returns the token that this song's events will carry. While the music
        plays, the output stays open and the new song follows in the same stream."""
        token = self._next_token()
        decoder = SongDecoder(self._decoder_instance(), path, start_s, gain_db, token)
        stream = self._stream
        if stream is None or self._mp.get_state() not in _RUNNING or not stream.replace(decoder, start_s):
            self._start_output(decoder, start_s)
        self.tidy()
        return token

    def queue(self, path: Path, gain_db: float = 0.0) -> int | None:
        """`path` follows the song playing, with no gap; None when nothing is playing."""
        if self._stream is None:
            return None
        token = self._next_token()
        decoder = SongDecoder(self._decoder_instance(), path, 0.0, gain_db, token)
        if not self._stream.queue(decoder):
            decoder.close()
            return None
        return token

    def drop_queued(self) -> None:
        if self._stream is not None:
            self._stream.drop_queued()
            self.tidy()

    def _decoder_instance(self) -> vlc.Instance:
        if self._decoding is None:
            self._decoding = decoding_instance()
        return self._decoding

    def _next_token(self) -> int:
        self._token += 1
        return self._token

    def _start_output(self, decoder: SongDecoder, start_s: float) -> None:
        self._stop_output()
        stream = Stream(decoder, start_s, self._forward, caching_s=self._caching_s)
        media = self._instance.media_new_callbacks(None, self._read_cb, self._seek_cb, None, None)
        self._offset = 0
        # Not media.event_manager(): python-vlc memoizes that for every Media it is asked
        # about and never forgets one, so each start would stay in memory with its callback.
        events = vlc.libvlc_media_event_manager(media)
        events.event_attach(
            vlc.EventType.MediaStateChanged,
            lambda event: self._media_state(stream, event.u.new_state),
        )
        self._stream, self._media, self._events = stream, media, events
        self._mp.set_media(media)              # the player keeps its own reference
        self._applied = None
        self._mp.play()
        self._gate_waiting = True

    @property
    def starting(self) -> bool:
        """The output is starting and the music waits for it (see `tidy`)."""
        return self._gate_waiting

    def _open_gate_when_ready(self) -> None:
        """VLC's output only honours our volume once it has started playing (before that
        it plays its pre-roll at its own level, whatever it was told). So the stream stays
        silent until the output's clock runs and our level is set on it."""
        stream = self._stream
        if stream is None or not self._gate_waiting:
            return
        if self._mp.get_time() > 0 and self.apply_volume():
            self._gate_waiting = False
            stream.open_gate()

    def _read(self, _opaque: object, buffer: object, size: int) -> int:
        """VLC's input thread asks for the stream's next bytes."""
        stream = self._stream
        try:
            data = stream.read(int(size)) if stream is not None else b""
        except Exception:                       # never let an error out into libvlc
            return -1
        ctypes.memmove(buffer, data, len(data))
        self._offset += len(data)
        return len(data)

    def _seek(self, _opaque: object, offset: int) -> int:
        return 0 if offset == self._offset else -1

    def _forward(self, token: int, news: StreamNews) -> None:
        self._notify(PlayerEvent(token, _NEWS[news], time.monotonic()))

    def _media_state(self, stream: Stream, state: object) -> None:
        """The output itself stopped (its stream ends only after its last song, which the
        stream reports): the song being written ends there, and the next one starts a new
        output. Never an error of the song's own, so it is not marked unplayable."""
        if state in (vlc.State.Error, vlc.State.Ended) and not stream.ended:
            token = stream.token
            if token is not None:
                self._notify(PlayerEvent(token, PlayerEventKind.ENDED, time.monotonic()))

    def stop(self) -> None:
        self._token += 1                   # late events of the old songs are now stale
        self._stop_output()
        self._applied = None

    def _stop_output(self) -> None:
        stream = self._stream
        if stream is not None:
            stream.close()                 # VLC's thread stops waiting on the stream
        self._mp.stop()
        self._stream = None
        self._gate_waiting = False
        self._release_media()
        if stream is not None:
            for decoder in stream.take_retired():
                decoder.close()

    def tidy(self) -> None:
        """Close decoders the stream has finished with (the kiosk's thread does libvlc's
        stopping, never VLC's own), and tell the stream where the output is."""
        if self._stream is not None:
            self._open_gate_when_ready()
            self._stream.heard(self._mp.get_time())
            for decoder in self._stream.take_retired():
                decoder.close()

    def _release_media(self) -> None:
        """Let go of the previous media and its event callback; without this every start
        would stay in memory."""
        media, events = self._media, self._events
        self._media = self._events = None
        if media is not None and events is not None:
            events.event_detach(vlc.EventType.MediaStateChanged)
            media.release()

    def set_volume(self, level: float) -> None:
        """Set the level on the cap's 0-100 scale; anything above the cap is the cap."""
        self._level = min(float(self._cap), max(0.0, float(level)))
        self.apply_volume()

    def apply_volume(self) -> bool:
        """(Re)apply the level; VLC forgets it whenever an audio output restarts, so the
        controller calls this on every tick. True when VLC took it."""
        vlc_volume = int(round(100.0 * self._level / self._cap))
        ok = self._mp.audio_set_volume(vlc_volume) == 0
        self._applied = vlc_volume if ok else None
        return ok

    @property
    def level(self) -> float:
        return self._level

    def position(self, token: int | None = None) -> float:
        """Where the song at the output is, in seconds into its file (0 when `token` is
        given and the output is not playing that song)."""
        stream = self._stream
        ms = self._mp.get_time()
        if stream is None or not ms or ms < 0:
            return 0.0
        frame = int(ms * RATE / 1000)
        placed = stream.playing_at(frame)
        if placed is None or (token is not None and placed.token != token):
            return 0.0
        return placed.start_s + max(0, frame - placed.frame) / RATE

    def token_at_output(self) -> int | None:
        """The token of the song the output is playing now (the stream runs ahead of it)."""
        stream = self._stream
        ms = self._mp.get_time()
        if stream is None or not ms or ms < 0:
            return None
        placed = stream.playing_at(int(ms * RATE / 1000))
        return placed.token if placed else None

    def close(self) -> None:
        try:
            self._stop_output()
            self._mp.release()
            if self._decoding is not None:
                self._decoding.release()
            self._instance.release()
        except Exception:  # pragma: no cover - best effort at exit
            pass
