"""`content import` on a box in hub mode: the songs go to the hub (the one place songs are
curated), and reach this box, like any other, through the sync agent."""
from __future__ import annotations

from pathlib import Path
from typing import TextIO
from urllib.parse import quote

from content.db import LibraryError
from content.sync.client import HubClient, HubRefused, HubUnreachable
from content.sync.config import BoxLink


def send_songs(link: BoxLink, resident_id: int, files: list[Path], out: TextIO) -> dict[str, int]:
    client = HubClient(link.hub, link.authorization, ca_file=link.ca_file, timeout=600)
    counts = {"added": 0, "duplicate": 0, "refused": 0}
    try:
        for i, f in enumerate(files):
            try:
                size = f.stat().st_size
                with open(f, "rb") as fh:
                    answer = client.call("POST", f"/api/box/songs?resident={resident_id}", raw=fh,  # type: ignore[arg-type]
                                         headers={"Content-Type": "application/octet-stream",
                                                  "Content-Length": str(size),
                                                  "X-File-Name": quote(f.name)[:255]})
            except OSError:
                counts["refused"] += 1
                print(f"refused: {f}: the file could not be read", file=out, flush=True)
                continue
            except (HubUnreachable, HubRefused) as exc:
                if i == 0:
                    raise LibraryError(f"This music box follows the hub at {link.hub}, which cannot take songs just "
                                       "now, so nothing was imported: try again when the box is online, or add "
                                       "the songs on the hub.") from exc
                raise LibraryError(f"The hub stopped answering after {i} of {len(files)} files; "
                                   "run the same import again for the rest.") from exc
            data = answer.json() if answer.body else {}
            if answer.status != 200:
                raise LibraryError(data.get("error") or f"The hub refused the songs (answer {answer.status}).")
            counts[data.get("status", "refused")] = counts.get(data.get("status", "refused"), 0) + 1
            print(data.get("line", ""), file=out, flush=True)
    finally:
        client.close()
    return counts
