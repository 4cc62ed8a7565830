"""Reading a backup file without trusting it: a plain tar (never a compressed one), a
manifest of sane size and shape, members that are plain files of the listed sizes, and
every byte checked against its SHA-256 as it is unpacked."""
from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import tarfile
from pathlib import Path, PurePosixPath
from typing import IO, Any, BinaryIO

from content import media
from content.db import LibraryError
from content.backup import CHUNK, DB_MEMBER, FORMAT, FORMAT_VERSION, MANIFEST, MEDIA_PREFIX

_HEX64 = re.compile(r"[0-9a-f]{64}")


_COMPRESSED = ((b"\x1f\x8b", "gzip"), (b"BZh", "bzip2"), (b"\xfd7zXZ\x00", "xz"), (b"(\xb5/\xfd", "zstd"))


MANIFEST_MAX_BYTES = 64 * 1024 * 1024     # about 300,000 files: far more than any library


def open_backup(backup_file: BinaryIO, label: str) -> tarfile.TarFile:
    """A plain tar, as `backup` writes it. A compressed file is refused before it is
    unpacked: a small one can expand to far more than it says."""
    head = backup_file.read(6)
    backup_file.seek(0)
    for magic, kind in _COMPRESSED:
        if head.startswith(magic):
            raise LibraryError(f"{label} is compressed ({kind}); Evergreen restores the plain .tar file "
                               "that `backup` wrote. Unpack it first.")
    try:
        return tarfile.open(fileobj=backup_file, mode="r:")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise LibraryError(f"{label} is not an Evergreen backup (it cannot be read as one: {exc}).") from None


def read_manifest(tar: tarfile.TarFile, label: str) -> dict[str, Any]:
    try:
        member = tar.getmember(MANIFEST)
    except KeyError:
        raise LibraryError(f"{label} is not an Evergreen backup, or it is incomplete (no manifest).") from None
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise LibraryError(f"The backup file is damaged or cut short ({exc}).") from None
    if member.type not in (tarfile.REGTYPE, tarfile.AREGTYPE) or member.size > MANIFEST_MAX_BYTES:
        raise LibraryError("The backup's manifest is not a plain file of a sensible size.")
    try:
        manifest = json.loads(tar.extractfile(member).read())
    except (ValueError, tarfile.TarError, OSError, EOFError, AttributeError):
        raise LibraryError("The backup's manifest is damaged: it cannot be read.") from None
    return check_manifest(manifest, label)


def check_manifest(manifest: Any, label: str = "The file") -> dict[str, Any]:
    """The manifest as restore relies on it, or one plain sentence saying what is wrong."""
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise LibraryError(f"{label} is not an Evergreen backup.")
    version = manifest.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise LibraryError("The backup's manifest is damaged: its version is not a number.")
    if version > FORMAT_VERSION:
        raise LibraryError("This backup was made by a newer version of Evergreen: update this one first.")
    files, missing = manifest.get("files"), manifest.get("missing", [])
    if not isinstance(files, list) or not isinstance(missing, list):
        raise LibraryError("The backup's manifest is damaged: its list of files cannot be read.")
    names: set[str] = set()
    for entry in files:
        if not (isinstance(entry, dict) and isinstance(entry.get("name"), str)
                and isinstance(entry.get("size"), int) and not isinstance(entry.get("size"), bool)
                and entry["size"] >= 0 and isinstance(entry.get("sha256"), str) and _HEX64.fullmatch(entry["sha256"])):
            raise LibraryError("The backup's manifest is damaged: an entry lacks a name, size or checksum.")
        name = entry["name"]
        if name != DB_MEMBER and not (name.startswith(MEDIA_PREFIX) and media.is_stored_name(name[len(MEDIA_PREFIX):])):
            raise LibraryError(f"The backup lists a file with an unsafe name ({name[:80]!r}).")
        if name in names:
            raise LibraryError(f"The backup lists {name[:80]!r} twice.")
        names.add(name)
    if DB_MEMBER not in names:
        raise LibraryError("The backup has no database in it.")
    if not all(isinstance(m, str) and media.is_stored_name(m) for m in missing):
        raise LibraryError("The backup's manifest is damaged: its list of missing files cannot be read.")
    return {**manifest, "files": files, "missing": missing}


def check_members(tar: tarfile.TarFile, manifest: dict[str, Any]) -> list[tarfile.TarInfo]:
    """Every member a plain file the manifest lists, of the size it lists, each once, and
    nothing listed missing: all from the headers, before a byte is written."""
    expected = {e["name"]: e for e in manifest["files"]}
    seen: dict[str, tarfile.TarInfo] = {}
    try:
        members = tar.getmembers()
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise LibraryError(f"The backup file is damaged or cut short ({exc}).") from None
    for m in members:
        if m.name == MANIFEST:
            continue
        if m.name not in expected or m.name in seen:
            raise LibraryError(f"The backup holds something its manifest does not list ({m.name[:80]!r}).")
        if m.type not in (tarfile.REGTYPE, tarfile.AREGTYPE) or m.issparse():
            raise LibraryError(f"The backup holds {m.name[:80]!r} as something other than a plain file.")
        if m.size != expected[m.name]["size"]:
            raise LibraryError(f"The backup is damaged: {PurePosixPath(m.name).name} is not the size its manifest says.")
        seen[m.name] = m
    lacking = sorted(set(expected) - set(seen))
    if lacking:
        raise LibraryError(f"The backup is incomplete: {len(lacking)} file(s) listed in it are missing, e.g. {lacking[0]}.")
    return list(seen.values())


def extract_verified(tar: tarfile.TarFile, manifest: dict[str, Any], members: list[tarfile.TarInfo],
                      db_out: Path, scratch_fd: int, staged_media: dict[str, str]) -> None:
    """Unpack the database to `db_out` and media into the scratch folder (recorded in
    `staged_media`), each checked against its manifest entry."""
    expected = {e["name"]: e for e in manifest["files"]}
    token = secrets.token_hex(4)
    try:
        for m in members:
            if m.name == DB_MEMBER:
                out = os.open(db_out, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o640)
            else:
                name = m.name[len(MEDIA_PREFIX):]
                part = f"restore-{token}-{name}.part"
                out = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o640, dir_fd=scratch_fd)
                staged_media[name] = part
            _copy_checked(tar.extractfile(m), out, expected[m.name])
    except (tarfile.TarError, EOFError) as exc:
        raise LibraryError(f"The backup file is damaged or cut short ({exc}).") from None
    os.fsync(scratch_fd)


def _copy_checked(fh: IO[bytes] | None, out: int, entry: dict) -> None:
    """Copy exactly the manifest's size, never more, then compare the checksum."""
    with open(out, "wb") as dst:
        if fh is None:
            raise LibraryError(f"The backup's {entry['name']} cannot be read.")
        h = hashlib.sha256()
        left = entry["size"]
        while left > 0:
            chunk = fh.read(min(CHUNK, left))
            if not chunk:
                break
            h.update(chunk)
            left -= len(chunk)
            dst.write(chunk)
        dst.flush()
        os.fsync(dst.fileno())
    if left or h.hexdigest() != entry["sha256"]:
        raise LibraryError(f"The backup is damaged: {PurePosixPath(entry['name']).name} does not match its checksum.")
