"""Hub mode's wiring: the pages for care homes and music boxes, the boxes' channel, and the
thread that wakes the boxes' waiting polls."""
from __future__ import annotations

from flask import Flask

from content.db import connect
from content.hub.revisions import ensure_triggers
from content.hub.watch import ChangeWatch
from content.web.settings import DEFAULT_HUB_THREADS, PAGE_THREADS


def install(app: Flask) -> None:
    from content.web import box_api, hub_pages

    db = connect(app.config["DB_PATH"])
    try:
        ensure_triggers(db)
    finally:
        db.close()
    threads = int(app.config.get("THREADS") or DEFAULT_HUB_THREADS)
    slots = int(app.config.get("HUB_WAIT_SLOTS") or max(1, threads - PAGE_THREADS))
    db_path = app.config["DB_PATH"]
    app.extensions["evergreen.watch"] = ChangeWatch(lambda: connect(db_path, migrate=False), slots)
    app.register_blueprint(box_api.bp)
    app.register_blueprint(hub_pages.bp)
