"""`python -m kiosk run | press BUTTON | status`, each with `--config PATH`.

`run` is what the Pi's service and `make run` start. `press` and `status` find the
running kiosk's socket from the same config, so they always talk to the right one.
"""
from __future__ import annotations

import argparse
import faulthandler
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Sequence

from content import control, paths
from content.db import LibraryError
from kiosk.config import ConfigError, KioskConfig, load


STOP_TIMEOUT_S = 8.0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m kiosk", description="Evergreen's music kiosk.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, default=None, metavar="PATH",
                        help=f"the kiosk's settings (default: {paths.config_path()})")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    sub.add_parser("run", parents=[common], help="run the kiosk (in the foreground)")
    press = sub.add_parser("press", parents=[common], help="press a button on the running kiosk")
    press.add_argument("button", help="a button name from the settings, or an action such as play, next, volume_up, resident:Mary")
    sub.add_parser("status", parents=[common], help="print the running kiosk's state as JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = load(args.config)
    except ConfigError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    if args.command == "run":
        return run(config)
    try:
        if args.command == "press":
            answer = control.press(config.socket_path, args.button)
            if not answer.get("ok"):
                print(f"Error: {answer.get('error', 'the kiosk refused.')}", file=sys.stderr)
                return 1
            return 0
        answer = control.status(config.socket_path)
        if not answer.get("ok"):
            print(f"Error: {answer.get('error', 'the kiosk refused.')}", file=sys.stderr)
            return 1
        print(json.dumps(answer["status"], indent=2))
        return 0
    except control.KioskUnreachable as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1


def run(config: KioskConfig) -> int:
    from kiosk.app import Kiosk, run_command
    from kiosk.control_server import AlreadyRunning
    from kiosk.terminal import HELP, TerminalInput

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    interactive = TerminalInput.available(sys.stdin)

    def say(line: str) -> None:
        print(line, flush=True)

    def pretend_shutdown(command: tuple[str, ...]) -> None:
        say(f"(In a terminal the staff hold only quits the kiosk; on the appliance it runs: {' '.join(command)})")

    done = threading.Event()
    try:
        # In a terminal the terminal reads the keys; reading every keyboard through evdev
        # as well would act on each key twice. Listed devices (an arcade encoder) still count.
        keyboards = not (interactive and config.keyboard.devices == "auto")
        kiosk = Kiosk(config, keyboard=keyboards, run_shutdown=pretend_shutdown if interactive else run_command,
                      say=say if interactive else None)
    except Exception as exc:  # libvlc or GPIO cannot start: say so in one sentence
        print(f"Error: the kiosk cannot start: {exc}", file=sys.stderr)
        return 2

    def on_signal(signum: int, frame: object) -> None:
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        kiosk.start()
    except (AlreadyRunning, LibraryError, RuntimeError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    terminal = None
    if interactive:
        terminal = TerminalInput(sys.stdin, lambda action: kiosk.controller.press(action, "terminal"), done.set)
        terminal.start()
        say(HELP)
    try:
        while not done.is_set() and not kiosk.controller.finished.is_set():
            done.wait(0.2)
    finally:
        kiosk.stop(timeout=STOP_TIMEOUT_S)
        if terminal is not None:
            terminal.close()
    if not kiosk.controller.finished.is_set():
        # Stuck (most likely inside libvlc): say where, and leave so the service restarts us.
        print("Error: the kiosk did not stop in time; these are its threads:", file=sys.stderr)
        faulthandler.dump_traceback(all_threads=True)
        sys.stderr.flush()
        os._exit(1)
    if kiosk.controller.error is not None:
        return 1
    return 0
