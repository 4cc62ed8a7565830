"""`python -m content.hub.demo HUB_DATA`: a demo care home on a hub library, with the demo
resident and one music box, printing a pairing code for it (for `make run-hub`)."""
from __future__ import annotations

import sys
from pathlib import Path

from content import library
from content.db import connect
from content.demo import DEMO_RESIDENT, ensure_demo
from content.hub import boxes, homes

DEMO_HOME = "Demo Care Home"
DEMO_BOX = "Demo music box"


def prepare(hub_data: Path) -> str:
    """The demo home, resident (with the demo songs) and box; returns a fresh pairing code."""
    db = connect(hub_data / "library.db")
    try:
        ensure_demo(db, hub_data / "media")
        home = next((h for h in homes.all_homes(db) if h.name == DEMO_HOME), None) \
            or homes.add_home(db, DEMO_HOME)
        resident = library.resident_by_name(db, DEMO_RESIDENT)
        homes.set_resident_home(db, resident.id, home.id)
        box = next((b for b in boxes.list_boxes(db) if b.name == DEMO_BOX and not b.revoked), None) \
            or boxes.add_box(db, home.id, DEMO_BOX)
        boxes.assign(db, box.id, [resident.id])
        return boxes.new_pairing_code(db, box.id)
    finally:
        db.close()


if __name__ == "__main__":
    print(prepare(Path(sys.argv[1])))
