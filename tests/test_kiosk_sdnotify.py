"""systemd notifications: sent as datagrams, and never blocking when nobody reads them."""
from __future__ import annotations

import socket

from content.sdnotify import SdNotify


def test_ready_and_watchdog_arrive_and_a_full_queue_does_not_block(tmp_path):
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as reader:
        reader.bind(str(path))
        reader.settimeout(2)
        notify = SdNotify(str(path))
        assert notify.ready() and notify.watchdog()
        assert reader.recv(64) == b"READY=1" and reader.recv(64) == b"WATCHDOG=1"
        # Nobody reads any more: the kernel's short queue fills, and sending just fails.
        results = [notify.watchdog() for _ in range(500)]
        assert results[0] is True and results[-1] is False


def test_without_systemd_nothing_is_sent():
    notify = SdNotify("")
    assert not notify.enabled and notify.ready() is False
