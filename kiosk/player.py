"""python-vlc behind a small interface: one MediaPlayer, our own queue outside it.

Only the controller thread calls this (through `kiosk.playback` and `kiosk.mixer`). VLC's event callbacks only forward a
`PlayerEvent` to the controller's queue: libvlc must not be called from its own handlers.

Loudness has two layers. The instance's software gain is set once to the cap, so no
input, race or VLC default can ever sound louder than the cap (VLC's own volume can
briefly read 100 % while an audio output starts). Within that, `set_volume` scales on
the same 0-100 scale as the cap, which is what fades and the volume buttons move.

VLC's volume only exists once an audio output does, a few milliseconds after play(); by
then VLC has already turned a pre-roll of up to a few hundred milliseconds into sound at
its default volume. So every song starts behind an equalizer preamp at -20 dB (applied
from the first sample), taken away once our volume has held for a moment.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Callable, Protocol

import vlc

from kiosk.config import AudioConfig


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


class PcmSink(Protocol):
    """Receives the PCM VLC would send to a sound card (the amem output)."""

    def on_pcm(self, samples: int, count: int, pts: int) -> None: ...


START_GUARD_S = 0.25
GUARD_PREAMP_DB = -20.0

_KINDS = {vlc.State.Playing: PlayerEventKind.PLAYING, vlc.State.Ended: PlayerEventKind.ENDED,
          vlc.State.Error: PlayerEventKind.ERROR}


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
        self._level = 0.0
        self._applied: int | None = None
        self._guard_until: float | None = None

    @property
    def cap(self) -> int:
        return self._cap

    def play(self, path: Path, start_s: float = 0.0) -> int:
        """Start `path` (at `start_s` seconds) at the current level; returns the token that
        this media's events will carry."""
        self._token += 1
        token = self._token
        media = self._instance.media_new_path(str(path))
        if start_s > 0:
            media.add_option(f":start-time={start_s:.2f}")
        # Not media.event_manager(): python-vlc memoizes that for every Media it is asked
        # about and never forgets one, so each song would stay in memory with its callback.
        events = vlc.libvlc_media_event_manager(media)
        events.event_attach(
            vlc.EventType.MediaStateChanged,
            lambda event: self._forward(token, event.u.new_state),
        )
        self._mp.set_media(media)              # the player keeps its own reference
        self._release_media()
        self._media = media
        self._events = events
        self._applied = None
        guard = vlc.AudioEqualizer()
        guard.set_preamp(GUARD_PREAMP_DB)
        self._mp.set_equalizer(guard)
        guard.release()                        # the player keeps a copy of the settings
        self._guard_until = time.monotonic() + START_GUARD_S
        self._mp.play()
        # The audio output appears a few milliseconds after play(); apply our level as soon
        # as it exists so the fade starts from where we say, not from VLC's default.
        deadline = time.monotonic() + 0.05
        while not self.apply_volume() and time.monotonic() < deadline:
            time.sleep(0.001)
        return token

    def _forward(self, token: int, state: object) -> None:
        kind = _KINDS.get(state)  # type: ignore[arg-type]
        if kind:
            self._notify(PlayerEvent(token, kind, time.monotonic()))

    def stop(self) -> None:
        self._token += 1                   # late events of the old media are now stale
        self._mp.stop()
        self._release_media()
        self._applied = None

    def _release_media(self) -> None:
        """Let go of the previous media and its event callback; without this every song
        played would stay in memory."""
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
        if ok and self._guard_until is not None and time.monotonic() >= self._guard_until:
            self._mp.set_equalizer(None)      # our volume holds now: lift the start guard
            self._guard_until = None
        return ok

    @property
    def level(self) -> float:
        return self._level

    def position(self) -> float:
        ms = self._mp.get_time()
        return max(0.0, ms / 1000.0) if ms and ms > 0 else 0.0

    def close(self) -> None:
        try:
            self._mp.stop()
            self._release_media()
            self._mp.release()
            self._instance.release()
        except Exception:  # pragma: no cover - best effort at exit
            pass
