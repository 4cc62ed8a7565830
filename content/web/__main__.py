"""`python -m content.web [--host H] [--port P]`: serve the admin with waitress.

127.0.0.1:8080 by default (a laptop under `make run`); the Raspberry Pi's service passes
--host 0.0.0.0 so phones on the care home's network can reach it.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from pathlib import Path

from content import analyse, paths
from content.db import LibraryError, connect
from content.era import years
from content.sync import config as box_link
from content.web import create_app
from content.web.front_door import make_server
from content.web.settings import DEFAULT_HUB_THREADS, DEFAULT_MAX_UPLOAD_MB


def refresh_years(db_path: Path) -> None:
    """Redo song years decided under an older catalogue or older names (after an update).
    Quick when nothing changed; runs beside the server so the first page is not kept waiting."""
    log = logging.getLogger("evergreen.admin")
    try:
        db = connect(db_path)
        try:
            changed = years.resolve_stale(db)
        finally:
            db.close()
        log.info("Song years checked against the catalogue: %d updated.", len(changed))
    except Exception:  # a failure here must never stop the admin
        log.exception("Could not refresh song years")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m content.web", description="Evergreen's family and staff admin.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    parser.add_argument("--threads", type=int, default=None,
                        help=f"worker threads (default 4; {DEFAULT_HUB_THREADS} on a hub, where boxes wait on them)")
    parser.add_argument("--hub", action="store_true", default=os.environ.get("EVERGREEN_HUB") == "1",
                        help="run as a hub: care homes, music boxes and their channel (or EVERGREEN_HUB=1)")
    parser.add_argument("--public-url", default=os.environ.get("EVERGREEN_PUBLIC_URL", ""), metavar="URL",
                        help="the address people open, e.g. https://music.example.org, over the admin settings' "
                             "public_url: links are made from it, and under https cookies are Secure, HSTS is "
                             "sent and only this host is answered (or EVERGREEN_PUBLIC_URL)")
    parser.add_argument("--behind-proxy", action="store_true", default=os.environ.get("EVERGREEN_BEHIND_PROXY") == "1",
                        help="a proxy of ours on this machine (the hub's Caddy) passes requests on: take the "
                             "person's address from the one X-Forwarded-For entry it adds, so a stranger's "
                             "wrong passwords slow only that stranger (or EVERGREEN_BEHIND_PROXY=1); never "
                             "use it when the admin can be reached without the proxy")
    parser.add_argument("--max-upload-mb", type=int, default=DEFAULT_MAX_UPLOAD_MB,
                        help=f"the largest song file a family can send (default {DEFAULT_MAX_UPLOAD_MB})")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    threads = args.threads or (DEFAULT_HUB_THREADS if args.hub else 4)
    try:
        link = box_link.load(paths.data_dir())
        if link is not None and not args.hub:
            print(f"This music box follows the hub at {link.hub}: residents and songs are curated there, "
                  "so this box's own admin is off.", file=sys.stderr)
            return 3
        settings = {"MAX_UPLOAD_BYTES": args.max_upload_mb * 1024 * 1024, "HUB": args.hub, "THREADS": threads,
                    "BEHIND_PROXY": args.behind_proxy}
        if args.public_url:
            settings["PUBLIC_URL"] = args.public_url   # else the admin settings file's public_url
        app = create_app(settings)
    except LibraryError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    threading.Thread(target=refresh_years, args=(app.config["DB_PATH"],), name="refresh-years", daemon=True).start()
    # Songs added before loudness and tempo were measured are measured now, one at a time.
    stop_measuring = threading.Event()
    threading.Thread(target=analyse.in_background, args=(app.config["DB_PATH"], app.config["MEDIA_DIR"], stop_measuring),
                     name="measure-songs", daemon=True).start()
    server = make_server(app, args.host, args.port, threads)
    # The port actually bound (with --port 0 the system picks one; tests read it from here).
    shown = "localhost" if args.host in ("127.0.0.1", "0.0.0.0") else args.host
    logging.getLogger("evergreen.admin").info(
        "%s for the library in %s: open http://%s:%s/", "Hub" if args.hub else "Admin", paths.data_dir(), shown,
        server.effective_port)
    if app.config.get("PUBLIC_URL"):
        logging.getLogger("evergreen.admin").info("Public address: %s", app.config["PUBLIC_URL"])
    logging.getLogger("waitress").info("Serving on http://%s:%s", args.host, server.effective_port)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        stop_measuring.set()
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
