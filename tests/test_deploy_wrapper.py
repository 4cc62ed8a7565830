"""The appliance's `evergreen` command, run as root the way staff type `sudo evergreen ...`:
the library work is done as the owner of the library's folder (the service user), so no
file in it ends up root's, and root only opens a backup file outside it."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SERVICE = 65534  # nobody/nogroup, standing in for the service user

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: the command is run with sudo on the "
                                "appliance, and only root can act as another user; test_backup_restore checks "
                                "the same library work run as any user")


@pytest.fixture
def wrapper(open_tmp) -> tuple[Path, Path]:
    """deploy/evergreen with its paths pointed into a temporary appliance, as install.sh does."""
    data = open_tmp / "var" / "lib" / "evergreen"
    data.mkdir(parents=True)
    os.chown(data, SERVICE, SERVICE)
    text = (REPO / "deploy" / "evergreen").read_text()
    text = text.replace("/opt/evergreen/venv/bin/python", sys.executable)
    text = text.replace("/var/lib/evergreen", str(data)).replace("/etc/evergreen", str(open_tmp / "etc"))
    script = open_tmp / "evergreen"
    script.write_text(text)
    script.chmod(0o755)
    return script, data


def run(script: Path, *argv: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}   # the installed venv finds the app by a .pth file
    return subprocess.run([str(script), *argv], input=stdin, capture_output=True, text=True, timeout=120, env=env)


def owners(folder: Path) -> set[tuple[int, int]]:
    return {(p.lstat().st_uid, p.lstat().st_gid) for p in [folder, *folder.rglob("*")]}


def test_sudo_evergreen_works_as_the_library_folders_owner(wrapper, tmp_path):
    script, data = wrapper
    done = run(script, "residents", "add", "Mary", "--birth-year", "1938")
    assert done.returncode == 0, done.stderr
    done = run(script, "users", "add", "--role", "staff", "--email", "sam@home.example", "--password-stdin",
               stdin="a-long-staff-password\n")
    assert done.returncode == 0, done.stderr
    assert owners(data) == {(SERVICE, SERVICE)}
    # backup: root opens the file on the "stick" (a folder only root may write) ...
    stick = tmp_path / "stick"
    stick.mkdir(mode=0o700)
    for side in data.glob("library.db-*"):
        side.unlink()
    done = run(script, "backup", "--to", str(stick / "b.tar"))
    assert done.returncode == 0, done.stderr
    assert (stick / "b.tar").stat().st_uid == 0
    # ... and everything the backup opened in the library was opened by its owner.
    assert owners(data) == {(SERVICE, SERVICE)}
    done = run(script, "restore", "--force", str(stick / "b.tar"))
    assert "in use" not in done.stderr and done.returncode == 0, done.stderr
    assert owners(data) == {(SERVICE, SERVICE)}
    assert "Mary (born 1938)" in run(script, "residents", "list").stdout


def test_a_library_folder_that_is_a_link_is_refused(wrapper, tmp_path):
    script, data = wrapper
    real = data.with_name("elsewhere")
    data.rename(real)
    data.symlink_to(real)
    done = run(script, "residents", "list")
    assert done.returncode == 2 and "is a link" in done.stderr
