"""The kiosk's settings: every key the code reads is documented in the example, the
example is the defaults, and bad files get plain-words errors."""
from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest

from kiosk.config import ButtonConfig, ConfigError, KioskConfig, SECTIONS, from_dict, load

EXAMPLE = Path(__file__).resolve().parent.parent / "deploy" / "kiosk.example.toml"


def _documented_keys() -> set[str]:
    """Keys in the example that have a comment line directly above them or in their table."""
    data = tomllib.loads(EXAMPLE.read_text())
    keys = set()
    for key, value in data.items():
        if isinstance(value, dict) and key != "buttons":
            keys |= {f"{key}.{k}" for k in value}
        elif key == "buttons":
            for table in value.values():
                keys |= {f"buttons.*.{k}" for k in table}
        else:
            keys.add(key)
    return keys


def _code_keys() -> set[str]:
    keys = set()
    for f in dataclasses.fields(KioskConfig):
        if f.name in SECTIONS:
            keys |= {f"{f.name}.{g.name}" for g in dataclasses.fields(SECTIONS[f.name])}
        elif f.name == "buttons":
            keys |= {f"buttons.*.{g.name}" for g in dataclasses.fields(ButtonConfig)}
        else:
            keys.add(f.name)
    return keys


def test_every_key_the_code_reads_is_in_the_example():
    missing = _code_keys() - _documented_keys()
    assert not missing, f"document these keys in deploy/kiosk.example.toml: {sorted(missing)}"


def test_every_key_in_the_example_has_a_comment():
    """A key needs a comment line straight above it; a button's keys are described once,
    in the comment above the buttons."""
    lines = EXAMPLE.read_text().splitlines()
    table = ""
    undocumented = []
    for i, line in enumerate(lines):
        if line.startswith("["):
            table = line
        elif "=" in line and not line.startswith("#"):
            in_button = table.startswith("[buttons.")
            if not (lines[i - 1].startswith("#") or in_button):
                undocumented.append(f"{table} {line.split('=')[0].strip()}")
    assert not undocumented, undocumented


def test_the_example_is_exactly_the_built_in_defaults(tmp_path):
    assert load(EXAMPLE) == KioskConfig()
    assert load(tmp_path / "missing.toml") == KioskConfig()


def test_defaults_follow_the_care_guidance():
    c = KioskConfig()
    assert c.gestures.debounce_ms == 50 and c.gestures.min_press_ms == 150
    assert c.gestures.repeat_guard_ms == 1000 and c.gestures.hold_ms == 10000
    assert c.session.minutes == 30 and c.volume.fade_in_s == 3.0
    assert c.volume.start <= c.volume.cap
    assert c.shutdown_command == ("systemctl", "poweroff")


def test_data_paths_follow_the_data_dir(tmp_path):
    c = from_dict({"data_dir": str(tmp_path)})
    assert c.db_path == tmp_path / "library.db"
    assert c.media_path == tmp_path / "media"
    assert c.socket_path == tmp_path / "kiosk.sock"


@pytest.mark.parametrize("raw, words", [
    ({"volum": {}}, "no setting called 'volum'"),
    ({"volume": {"loudness": 3}}, "no setting called 'loudness'"),
    ({"volume": {"cap": "high"}}, "cap should be a number"),
    ({"volume": {"cap": 150}}, "between 1 and 100"),
    ({"audio": {"output": "speakers"}}, "audio output should be one of"),
    ({"audio": {"output": "afile"}}, "needs a file"),
    ({"buttons": {"big": {"press": "dance"}}}, "'dance' is not something the kiosk can do"),
    ({"buttons": {"big": {"press": "resident"}}}, "needs a value"),
    ({"shutdown_command": "reboot now"}, "should be a list"),
    ({"gestures": {"debounce_ms": -5}}, "cannot be negative"),
])
def test_bad_settings_are_refused_in_plain_words(raw, words):
    with pytest.raises(ConfigError) as err:
        from_dict(raw)
    assert words in str(err.value)


def test_a_file_that_is_not_toml_says_so(tmp_path):
    bad = tmp_path / "kiosk.toml"
    bad.write_text("resident = Mary\n")
    with pytest.raises(ConfigError) as err:
        load(bad)
    assert "not valid TOML" in str(err.value)


def test_buttons_in_a_file_replace_the_defaults():
    c = from_dict({"buttons": {"big": {"gpio": 4, "press": "play", "keys": ["KEY_A"]}}})
    assert list(c.buttons) == ["big"]
    assert c.buttons["big"] == ButtonConfig(4, ("KEY_A",), "play", "")
