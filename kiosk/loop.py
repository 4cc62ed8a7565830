"""The kiosk's one thread: an inbox that any thread may post to, and a loop that sleeps
until a message arrives or the next moment something is due.

GPIO and evdev callbacks, the terminal, the control socket and VLC's own events only ever
call `post()` (libvlc must not be called from its own event handlers). The controller
(`kiosk.controller`) fills in what happens: arming, each message, each tick.
"""
from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from typing import Any, Callable

log = logging.getLogger("kiosk")


@dataclass(frozen=True)
class Quit:
    pass


@dataclass(frozen=True)
class LibraryChanged:
    pass


@dataclass(frozen=True)
class StatusRequest:
    reply: "queue.Queue[dict[str, Any]]"


class Loop:
    """Subclasses provide `_arm()`, `_handle(message)`, `_tick(now)`, `_next_due(now)`
    and `_close()`, all run in the loop's thread, and set `_done` to leave."""

    clock: Callable[[], float]

    def _start_loop(self) -> None:
        self._inbox: queue.Queue[Any] = queue.Queue()
        self.armed = threading.Event()
        self.finished = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None
        self._done = False

    # ---- called from any thread -------------------------------------------------------

    def post(self, message: Any) -> None:
        self._inbox.put(message)

    def library_changed(self) -> None:
        self.post(LibraryChanged())

    def quit(self) -> None:
        self.post(Quit())

    def status(self, timeout: float = 2.0) -> dict[str, Any]:
        reply: queue.Queue[dict[str, Any]] = queue.Queue()
        self.post(StatusRequest(reply))
        return reply.get(timeout=timeout)

    def start(self) -> threading.Thread:
        self._thread = threading.Thread(target=self.run, name="kiosk-controller", daemon=True)
        self._thread.start()
        return self._thread

    def join(self, timeout: float | None = None) -> bool:
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return self.finished.wait(timeout)

    # ---- the loop ---------------------------------------------------------------------

    def run(self) -> None:
        try:
            self._arm()
            self.armed.set()
            while not self._done:
                now = self.clock()
                try:
                    message = self._inbox.get(timeout=max(0.0, self._next_due(now) - now))
                except queue.Empty:
                    message = None
                if message is not None:
                    self._handle(message)
                self._tick(self.clock())
        except BaseException as exc:  # the service restarts us; say why first
            self.error = exc
            log.exception("The kiosk controller stopped on an error")
            raise
        finally:
            self._close()
            self.finished.set()

    def _arm(self) -> None:
        raise NotImplementedError

    def _handle(self, message: Any) -> None:
        raise NotImplementedError

    def _tick(self, now: float) -> None:
        raise NotImplementedError

    def _next_due(self, now: float) -> float:
        raise NotImplementedError

    def _close(self) -> None:
        raise NotImplementedError
