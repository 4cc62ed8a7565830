"""The kiosk's settings: one TOML file, every key documented in deploy/kiosk.example.toml.

The dataclasses below are the only way the code reads a setting, so the set of their
fields is the set of keys; a test checks that the example documents every one of them
and that the example's values are these defaults.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from content import paths, tomlfile


class ConfigError(Exception):
    """The config file cannot be used; the message says where and why, in plain words."""


@dataclass(frozen=True)
class AudioConfig:
    output: str = "auto"
    device: str = ""
    file: str = ""
    file_caching_ms: int = 300


@dataclass(frozen=True)
class VolumeConfig:
    start: int = 40
    step: int = 5
    cap: int = 70
    fade_in_s: float = 3.0
    fade_out_s: float = 1.0
    session_fade_out_s: float = 5.0
    red_flag_fade_s: float = 0.3
    change_fade_s: float = 0.5
    quit_fade_s: float = 1.0
    calm_factor: float = 0.85


@dataclass(frozen=True)
class SessionConfig:
    minutes: float = 30.0
    resume_rewind_s: float = 1.0
    save_every_s: float = 2.0
    care_task_minutes: float = 30.0


@dataclass(frozen=True)
class GestureConfig:
    debounce_ms: int = 50
    min_press_ms: int = 150
    repeat_guard_ms: int = 1000
    hold_ms: int = 10000


@dataclass(frozen=True)
class GpioConfig:
    enabled: str = "auto"
    ready_led: int = -1
    playing_led: int = -1


@dataclass(frozen=True)
class KeyboardConfig:
    devices: str | list[str] = "auto"


@dataclass(frozen=True)
class ButtonConfig:
    gpio: int = -1
    keys: tuple[str, ...] = ()
    press: str = ""
    hold: str = ""


def _default_buttons() -> dict[str, ButtonConfig]:
    return {
        "play": ButtonConfig(17, ("KEY_SPACE", "KEY_ENTER", "KEY_KPENTER", "KEY_1"), "play"),
        "next": ButtonConfig(27, ("KEY_RIGHT", "KEY_N", "KEY_2"), "next"),
        "volume_up": ButtonConfig(22, ("KEY_UP", "KEY_VOLUMEUP", "KEY_3"), "volume_up"),
        "volume_down": ButtonConfig(23, ("KEY_DOWN", "KEY_VOLUMEDOWN", "KEY_4"), "volume_down"),
        "staff": ButtonConfig(26, ("KEY_POWER",), "", "shutdown"),
    }


@dataclass(frozen=True)
class KioskConfig:
    resident: str = ""
    data_dir: str = ""
    shutdown_command: tuple[str, ...] = ("systemctl", "poweroff")
    audio: AudioConfig = field(default_factory=AudioConfig)
    volume: VolumeConfig = field(default_factory=VolumeConfig)
    session: SessionConfig = field(default_factory=SessionConfig)
    gestures: GestureConfig = field(default_factory=GestureConfig)
    gpio: GpioConfig = field(default_factory=GpioConfig)
    keyboard: KeyboardConfig = field(default_factory=KeyboardConfig)
    buttons: dict[str, ButtonConfig] = field(default_factory=_default_buttons)

    # Where things live, all derived from data_dir.
    @property
    def data_path(self) -> Path:
        return Path(self.data_dir).absolute() if self.data_dir else paths.data_dir()

    @property
    def db_path(self) -> Path:
        return paths.db_path(self.data_path)

    @property
    def media_path(self) -> Path:
        return paths.media_dir(self.data_path)

    @property
    def socket_path(self) -> Path:
        return paths.socket_path(self.data_path)


SECTIONS = {
    "audio": AudioConfig,
    "volume": VolumeConfig,
    "session": SessionConfig,
    "gestures": GestureConfig,
    "gpio": GpioConfig,
    "keyboard": KeyboardConfig,
}
OUTPUTS = ("auto", "alsa", "pulse", "afile", "dummy")


def load(path: str | Path | None = None) -> KioskConfig:
    """Read the config at `path` (default: content.paths.config_path()); a missing file
    gives the defaults."""
    path = Path(path) if path is not None else paths.config_path()
    raw = tomlfile.read(path, "The kiosk settings file", ConfigError)
    return KioskConfig() if raw is None else from_dict(raw, where=str(path))


def from_dict(raw: dict[str, Any], where: str = "the settings") -> KioskConfig:
    top = {f.name: f for f in dataclasses.fields(KioskConfig)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in top:
            raise ConfigError(f"{where}: there is no setting called '{key}'.")
        if key in SECTIONS:
            values[key] = _section(SECTIONS[key], value, f"{where} [{key}]")
        elif key == "buttons":
            values[key] = _buttons(value, where)
        else:
            values[key] = _value(key, value, _default_of(top[key]), where)
    config = KioskConfig(**values)
    _check(config, where)
    return config


def _default_of(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    return f.default_factory()  # type: ignore[misc]


def _section(cls: type, raw: Any, where: str) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} should be a table of settings.")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values = {}
    for key, value in raw.items():
        if key not in fields:
            raise ConfigError(f"{where}: there is no setting called '{key}'.")
        values[key] = _value(key, value, _default_of(fields[key]), where)
    return cls(**values)


def _buttons(raw: Any, where: str) -> dict[str, ButtonConfig]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: [buttons] should hold one [buttons.NAME] table per button.")
    return {name: _section(ButtonConfig, table, f"{where} [buttons.{name}]") for name, table in raw.items()}


def _value(key: str, value: Any, default: Any, where: str) -> Any:
    """Check a value against the default's type; lists become tuples."""
    if key == "devices":
        if value == "auto" or value == "off" or (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            return value
        raise ConfigError(f"{where}: devices should be \"auto\", \"off\" or a list of device paths.")
    if isinstance(default, tuple):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: {key} should be a list of words in quotes.")
        return tuple(value)
    if isinstance(default, bool) or isinstance(default, str):
        if not isinstance(value, type(default)):
            raise ConfigError(f"{where}: {key} should be text in quotes.")
        return value
    if isinstance(default, (int, float)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: {key} should be a number.")
        if isinstance(default, int) and not isinstance(default, bool) and type(default) is int and value != int(value):
            raise ConfigError(f"{where}: {key} should be a whole number.")
        if value < 0 and key not in ("gpio", "ready_led", "playing_led"):
            raise ConfigError(f"{where}: {key} cannot be negative.")
        return type(default)(value)
    return value


def _check(config: KioskConfig, where: str) -> None:
    if config.audio.output not in OUTPUTS:
        raise ConfigError(f"{where}: audio output should be one of {', '.join(OUTPUTS)}, not '{config.audio.output}'.")
    if config.audio.output == "afile" and not config.audio.file:
        raise ConfigError(f"{where}: audio output \"afile\" needs a file to write to.")
    if not 0 < config.volume.calm_factor <= 1:
        raise ConfigError(f"{where}: calm_factor is a fraction of the cap, more than 0 and at most 1.")
    if not 0 < config.volume.cap <= 100:
        raise ConfigError(f"{where}: the volume cap should be between 1 and 100.")
    if config.volume.start > 100 or config.volume.step > 100:
        raise ConfigError(f"{where}: volume start and step are on a 0-100 scale.")
    if config.gpio.enabled not in ("auto", "on", "off"):
        raise ConfigError(f"{where}: gpio enabled should be \"auto\", \"on\" or \"off\".")
    from kiosk.actions import ActionError, parse_action

    for name, button in config.buttons.items():
        for kind in ("press", "hold"):
            text = getattr(button, kind)
            if text:
                try:
                    parse_action(text)
                except ActionError as exc:
                    raise ConfigError(f"{where} [buttons.{name}] {kind}: {exc}") from None
