"""The "Build your own" page stays true to the default config: the wiring table names the
pins the example config uses, on the right header pins, and the commands it gives exist."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "README.md"   # its "Build your own" part
CONFIG = REPO / "deploy" / "kiosk.example.toml"

# BCM GPIO number -> physical pin on the 40-pin header (the same on every 40-pin Pi).
BCM_TO_PIN = {2: 3, 3: 5, 4: 7, 17: 11, 27: 13, 22: 15, 10: 19, 9: 21, 11: 23, 0: 27, 5: 29, 6: 31,
              13: 33, 19: 35, 26: 37, 14: 8, 15: 10, 18: 12, 23: 16, 24: 18, 25: 22, 8: 24, 7: 26,
              1: 28, 12: 32, 16: 36, 20: 38, 21: 40}
GROUND_PINS = {6, 9, 14, 20, 25, 30, 34, 39}


def wiring_rows() -> list[list[str]]:
    text = DOC.read_text()
    section = text[text.index("## Wiring"):text.index("## Install")]
    rows = [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in section.splitlines() if line.startswith("|")]
    header, _rule, *body = rows
    assert header[2].startswith("GPIO") and header[3] == "header pin"
    return body


def test_the_wiring_table_matches_the_default_buttons():
    config = tomllib.loads(CONFIG.read_text())
    wired = {b["gpio"]: b for b in config["buttons"].values() if b.get("gpio", -1) >= 0}
    rows = wiring_rows()
    documented = {}
    for row in rows:
        gpio = int(re.fullmatch(r"GPIO (\d+)", row[2]).group(1))
        pin = int(re.fullmatch(r"pin (\d+)", row[3]).group(1))
        ground = int(re.search(r"pin (\d+)", row[4]).group(1))
        assert BCM_TO_PIN[gpio] == pin, f"GPIO {gpio} is header pin {BCM_TO_PIN[gpio]}, not {pin}"
        assert ground in GROUND_PINS, f"pin {ground} is not a ground pin"
        documented[gpio] = row
    assert set(documented) == set(wired)
    for gpio, button in wired.items():
        what = documented[gpio][1].lower()
        if button.get("hold") == "shutdown":
            seconds = config.get("gestures", {}).get("hold_ms", 10000) / 1000
            assert f"{seconds:.0f} seconds" in what and "power" in what
        else:
            words = {"play": "starts the music", "next": "next song", "volume_up": "volume up",
                     "volume_down": "volume down"}[button["press"]]
            assert words in what, (button, what)


def test_the_staff_shutdown_goes_through_logind_which_the_polkit_rule_allows():
    config = tomllib.loads(CONFIG.read_text())
    assert config["shutdown_command"] == ["systemctl", "poweroff"]
    assert "org.freedesktop.login1.power-off" in (REPO / "deploy/polkit/50-evergreen.rules").read_text()


def test_the_commands_the_page_gives_exist():
    text = DOC.read_text()
    subcommands = set(re.findall(r"evergreen (backup|restore|check|users|kiosk)\b", text))
    assert {"backup", "restore", "check", "users", "kiosk"} <= subcommands
    for option in ("--dry-run", "--uninstall", "--purge"):
        assert option in text and option in (REPO / "deploy/install.sh").read_text()
    for name in ("evergreen-kiosk", "evergreen-admin"):
        assert (REPO / "deploy/systemd" / f"{name}.service").is_file()
    assert "overlayroot=tmpfs:recurse=0" in text
