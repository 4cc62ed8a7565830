"""The services' sandboxing, measured the way systemd measures it, and the power-off
permission, run as the JavaScript polkit runs: what a compromised service could still do."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
UNITS = sorted((REPO / "deploy" / "systemd").glob("*.service"))
RULE = REPO / "deploy" / "polkit" / "50-evergreen.rules"
OK_EXPOSURE = 4.0          # systemd calls 2.0-4.9 "OK"; the issue asks for 4.0 or less


def exposure(unit: Path, tmp_path: Path) -> tuple[float, str]:
    done = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--no-pager", str(unit)],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+) (\w+)", done.stdout)
    assert found, done.stdout + done.stderr
    return float(found.group(1)), done.stdout


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_each_service_is_sandboxed_to_an_ok_exposure(unit, tmp_path):
    level, report = exposure(unit, tmp_path)
    assert level <= OK_EXPOSURE, f"{unit.name}: exposure {level}\n{report}"


def test_the_exposure_check_notices_a_unit_without_its_sandbox(tmp_path):
    bare = tmp_path / "evergreen-kiosk.service"
    keep = ("[", "Description", "Type", "User", "Group", "ExecStart", "WantedBy")
    bare.write_text("\n".join(line for line in UNITS[1].read_text().splitlines() if line.startswith(keep)) + "\n")
    assert exposure(bare, tmp_path)[0] > OK_EXPOSURE


def test_the_kiosk_has_no_network_and_only_its_sound_gpio_and_input_devices():
    text = (REPO / "deploy" / "systemd" / "evergreen-kiosk.service").read_text()
    assert "\nPrivateNetwork=yes" in text and "\nRestrictAddressFamilies=AF_UNIX\n" in text
    assert "\nDevicePolicy=closed" in text
    allowed = re.findall(r"^DeviceAllow=(.+)$", text, re.M)
    assert sorted(allowed) == ["char-alsa rw", "char-gpiochip rw", "char-input r"]


def polkit_answers(rule: Path, requests: list[tuple[str, str]]) -> list[str | None]:
    """Run the rule file in node with polkit's rule API, and ask it each (user, action)."""
    script = """
const fs = require('fs');
const rules = [];
const polkit = {Result: {YES: 'yes', NO: 'no', AUTH_ADMIN: 'auth_admin', NOT_HANDLED: null},
                addRule: (f) => rules.push(f), log: () => {}};
new Function('polkit', fs.readFileSync(process.argv[1], 'utf8'))(polkit);
const asks = JSON.parse(process.argv[2]);
const answers = asks.map(([user, id]) => {
  for (const rule of rules) {
    const r = rule({id: id, lookup: () => ''}, {user: user, isInGroup: () => false, active: true, local: true});
    if (r !== undefined && r !== null) return r;
  }
  return null;
});
console.log(JSON.stringify(answers));
"""
    done = subprocess.run(["node", "-e", script, str(rule), json.dumps(requests)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_polkit_rule_lets_the_service_user_power_off_and_nothing_else():
    power_off = ["org.freedesktop.login1.power-off", "org.freedesktop.login1.power-off-multiple-sessions"]
    others = ["org.freedesktop.login1.reboot", "org.freedesktop.login1.reboot-multiple-sessions",
              "org.freedesktop.login1.set-wall-message", "org.freedesktop.login1.suspend",
              "org.freedesktop.login1.halt", "org.freedesktop.systemd1.manage-units",
              "org.freedesktop.login1.set-reboot-to-firmware-setup", "org.freedesktop.hostname1.set-hostname"]
    asks = [("evergreen", a) for a in power_off + others] + [("pi", a) for a in power_off]
    answers = polkit_answers(RULE, asks)
    assert answers[:len(power_off)] == ["yes"] * len(power_off)
    assert answers[len(power_off):] == [None] * (len(others) + len(power_off)), dict(zip(asks, answers))
