"""Wiring: the kiosk built from its config, its inputs started and stopped in order."""
from __future__ import annotations

import logging
import subprocess
from types import ModuleType
from typing import Any, Callable

from content.db import connect
from kiosk.config import KioskConfig
from kiosk.control_server import ControlServer
from kiosk.controller import Controller
from kiosk.lights import NoLights
from kiosk.gpio import GpioPanel, load_gpio
from kiosk.player import PcmSink, Player
from content.sdnotify import SdNotify

log = logging.getLogger("kiosk")

ARM_TIMEOUT_S = 30.0


def run_command(command: tuple[str, ...]) -> None:
    """Run the configured shutdown command: a fixed list from the config, no shell."""
    subprocess.run(list(command), check=False, timeout=60)


class Kiosk:
    """Everything `python -m kiosk run` starts. Tests build it with an amem PCM meter or
    the fake GPIO module; the appliance with the defaults."""

    def __init__(
        self,
        config: KioskConfig,
        *,
        pcm: PcmSink | None = None,
        gpio: ModuleType | None | str = "auto",
        keyboard: bool = True,
        run_shutdown: Callable[[tuple[str, ...]], None] | None = run_command,
        say: Callable[[str], None] | None = None,
        notifier: SdNotify | None = None,
    ) -> None:
        self.config = config
        self._pcm = pcm
        module = load_gpio(config.gpio.enabled) if gpio == "auto" else gpio
        self.gpio_panel: GpioPanel | None = None
        self.controller = Controller(
            config=config,
            db_factory=lambda: connect(config.db_path),
            player_factory=self._make_player,
            notifier=notifier or SdNotify(),
            run_shutdown=run_shutdown,
            **({"say": say} if say else {}),
        )
        if module is not None:
            self.gpio_panel = GpioPanel(module, config.buttons, self.controller.post,
                                        ready_led=config.gpio.ready_led, playing_led=config.gpio.playing_led)
            self.controller.lights = self.gpio_panel
        else:
            self.controller.lights = NoLights()
        self.keys: Any = None
        if keyboard and config.keyboard.devices != "off":
            try:
                from kiosk.keys import KeyInput

                self.keys = KeyInput(config.keyboard.devices, config.buttons, self.controller.post)
            except ImportError:
                log.info("evdev is not installed: no USB keyboards.")
        self.server = ControlServer(config.socket_path, self.controller)

    def _make_player(self, notify: Callable) -> Player:
        return Player(self.config.audio, self.config.volume.cap, notify, pcm=self._pcm)

    def start(self) -> None:
        """Start everything and return once the kiosk is armed (ready for a press)."""
        self.server.start()
        if self.gpio_panel is not None:
            self.gpio_panel.start()
        self.controller.start()
        while not self.controller.armed.wait(0.1):
            if self.controller.finished.is_set():
                self.close()
                raise RuntimeError(f"The kiosk could not start: {self.controller.error}")
        if self.keys is not None:
            self.keys.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Fade out, save where the music was, and let go of everything."""
        self.controller.quit()
        self.controller.join(timeout)
        self.close()

    def close(self) -> None:
        if self.keys is not None:
            self.keys.close()
            self.keys = None
        self.server.close()
        if self.gpio_panel is not None:
            self.gpio_panel.close()
            self.gpio_panel = None
