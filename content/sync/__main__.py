"""`python -m content.sync`: the box's sync agent, run by the evergreen-sync service once the
box has joined a hub (`evergreen join`)."""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from content import paths
from content.db import LibraryError
from content.sync import config
from content.sync.agent import Agent, AgentSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m content.sync",
                                     description="Keep this music box in step with its hub.")
    parser.add_argument("--wait", type=int, default=None, help="seconds a poll waits at the hub (default 240)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    data = paths.data_dir()
    try:
        link = config.load(data)
    except LibraryError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    if link is None:
        print("This music box has not joined a hub: run `sudo evergreen join https://HUB CODE` first.",
              file=sys.stderr)
        return 2
    settings = AgentSettings(data=data, db_path=paths.db_path(data), media_dir=paths.media_dir(data),
                             socket_path=paths.socket_path(data), link=link)
    if args.wait:
        settings.wait_s = args.wait
    agent = Agent(settings)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    logging.getLogger("evergreen.sync").info("Following the hub at %s as box %s.", link.hub, link.box_id)
    agent.start()
    done.wait()
    agent.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
