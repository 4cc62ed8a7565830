"""Hub figures: one hub (`python -m content.web --hub`, a real waitress process) with 200
simulated music boxes syncing at their normal rate and 50 families browsing and uploading.

Each simulated box speaks the real protocol over HTTP: it fetches its state (a conditional
GET), holds a waiting poll (/api/box/wait) open, sends a report (plays, now playing) every
few minutes on average, and fetches the state again whenever the poll says it changed.
Families log in, open their relative's page and the home page, and now and then upload a
song. Every few seconds a family red-flags a song; the time until that resident's box has
fetched the state with the flag in it is the red-flag figure (the kiosk then notices within
its one-second library poll and fades the song).

One box (the second family's relative's) is a real one: the real sync agent with its own
library and media folder. On it are measured the time from a family's 5 MB upload until the
song is playable there (row applied, file whole), and from a red flag until its library has it.

Prints figures; targets: p95 family page <= 200 ms, p95 sync request <= 100 ms, red flag to
box p95 <= 10 s, hub RSS <= 300 MB, and the bytes a box downloads in an hour when nothing
changes (goal: a few KB). Run it alone, under the CPU lock:
    flock /work/coord/cpu.lock .venv/bin/python bench/bench_hub.py [--seconds 60]
"""
from __future__ import annotations

import argparse
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from content import accounts, db as dbmod, ingest, library  # noqa: E402
from content.hub import boxes, homes  # noqa: E402
from content.sync import config as box_link  # noqa: E402
from content.sync.agent import Agent, AgentSettings  # noqa: E402
from tests.audio import write_song  # noqa: E402

from benchkit import answers, free_port, memory  # noqa: E402
from hub_clients import PASSWORD, WAIT_S, Family, SimBox  # noqa: E402

BOXES = 200
FAMILIES = 50
HOMES = 10
SONGS = 30                 # distinct audio files, shared out among the residents
SONGS_EACH = 20


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def build(data: Path, tmp: Path) -> dict:
    db = dbmod.connect(data / "library.db")
    rng = random.Random(7)
    audio = []
    for i in range(SONGS):
        path = write_song(tmp / f"song{i}.wav", 200 + 13 * i, 2.0, tags={"title": f"Song {i}", "artist": f"Band {i}"})
        r = ingest.ingest_file(db, data / "media", path, min_seconds=1.0)
        audio.append(r.song_id)
        path.unlink()
    home_list = [homes.add_home(db, f"Home {h}") for h in range(HOMES)]
    residents, creds = [], []
    with dbmod.write(db):
        for n in range(BOXES):
            home = home_list[n % HOMES]
            r = library.add_resident(db, f"Resident {n}", birth_year=1925 + n % 20)
            homes.set_resident_home(db, r.id, home.id)
            for sid in rng.sample(audio, SONGS_EACH):
                library.link_song(db, r.id, sid)
            residents.append(r.id)
    for n in range(BOXES):
        box = boxes.add_box(db, home_list[n % HOMES].id, f"Box {n}")
        boxes.assign(db, box.id, [residents[n]])
        _, cred = boxes.pair(db, boxes.new_pairing_code(db, box.id))
        creds.append((box.id, cred))
    accounts.create_user(db, "staff@bench.example", PASSWORD, "staff")
    families = []
    for f in range(FAMILIES):
        email = f"family{f}@bench.example"
        accounts.create_user(db, email, PASSWORD, "family", resident_ids=[residents[f]])
        families.append((email, residents[f]))
    songs_of = {rid: [r[0] for r in db.execute("SELECT song_id FROM resident_songs WHERE resident_id = ?", [rid])]
                for rid in residents[:FAMILIES]}
    db.close()
    return {"creds": creds, "residents": residents, "families": families, "songs_of": songs_of}


def _raw_get(sock: socket.socket, path: str, credential: str) -> bytes:
    """One keep-alive GET on a plain socket; returns everything the hub sent back."""
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {credential}\r\n"
                 "User-Agent: evergreen-box\r\nAccept: application/json\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
    while len(body) < length:
        body += sock.recv(65536)
    return data[:len(head) + 4] + body


def idle_bytes_per_hour(port: int, credential: str) -> tuple[int, int]:
    """Bytes one box downloads for an unchanged library: its waiting polls only (the state is
    fetched once at start and never again; the sender sends nothing when nothing plays).
    Measured over a few real polls with a short wait, scaled to the 240 s wait of an hour."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        state = _raw_get(sock, "/api/box/state", credential)
        etag = re.search(rb'(?i)etag: *("[^"]+")', state).group(1).decode()
        polls = 5
        got = sum(len(_raw_get(sock, f"/api/box/wait?etag={etag}&timeout=1", credential)) for _ in range(polls))
    per_poll = got / polls
    return int(per_poll), int(per_poll * 3600 / WAIT_S)


class RealBox:
    """The real sync agent, with its own library, following the hub under load."""

    def __init__(self, data: Path, port: int, box_id: int, credential: str) -> None:
        data.mkdir(parents=True)
        box_link.save(data, box_link.BoxLink(hub=f"http://127.0.0.1:{port}", box_id=box_id, credential=credential))
        self.db = dbmod.connect(data / "library.db")
        self.agent = Agent(AgentSettings(data=data, db_path=data / "library.db", media_dir=data / "media",
                                         socket_path=data / "kiosk.sock", link=box_link.load(data)))

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM resident_songs").fetchone()[0]

    def flagged(self, song_id: int) -> bool:
        row = self.db.execute("SELECT never_play FROM resident_songs WHERE song_id = ?", [song_id]).fetchone()
        return bool(row and row[0])


def until(check, timeout: float) -> float | None:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if check():
            return time.perf_counter() - t0
        time.sleep(0.05)
    return None


def stats_failed(stats: dict) -> bool:
    return bool(stats.get("errors"))


def main() -> int:
    global BOXES, FAMILIES
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--threads", type=int, default=None, help="the hub's waitress threads (default: the hub's own)")
    parser.add_argument("--boxes", type=int, default=None, help=f"simulated boxes (default {BOXES})")
    parser.add_argument("--families", type=int, default=None, help=f"families (default {FAMILIES})")
    args = parser.parse_args()
    BOXES, FAMILIES = args.boxes or BOXES, args.families or FAMILIES
    stats: dict[str, list[float]] = {"errors": []}
    with tempfile.TemporaryDirectory(prefix="bench-hub-") as tmp:
        data = Path(tmp) / "hub"
        print(f"Building a hub library: {BOXES} boxes in {HOMES} homes, {FAMILIES} families ...", flush=True)
        world = build(data, Path(tmp))
        upload = write_song(Path(tmp) / "upload.wav", 500, 30.0)       # about 5 MB
        port = free_port()
        env = {**os.environ, "EVERGREEN_DATA": str(data), "TMPDIR": tmp}
        cmd = [sys.executable, "-m", "content.web", "--hub", "--port", str(port)]
        if args.threads:
            cmd += ["--threads", str(args.threads)]
        log = open(Path(tmp) / "hub.log", "wb")
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        stop = threading.Event()
        try:
            if not answers(port, proc, 60, 0.1):
                print("the hub did not start")
                return 1
            per_poll, per_hour = idle_bytes_per_hour(port, world["creds"][-1][1])
            stats: dict[str, list[float]] = {"page": [], "sync": [], "upload": [], "flag": [], "errors": []}
            rng = random.Random(3)
            sims = [SimBox(port, bid, cred, world["residents"][n], stop, stats, random.Random(n))
                    for n, (bid, cred) in enumerate(world["creds"]) if n != 1]
            real = RealBox(Path(tmp) / "real-box", port, *world["creds"][1])
            real.agent.start()
            threads = []
            for sim in sims:
                for target in (sim.run_waiter, sim.run_sender):
                    t = threading.Thread(target=target, daemon=True)
                    t.start()
                    threads.append(t)
            time.sleep(5)                                 # every box has its state and is waiting
            stats["sync"].clear()
            fams = [Family(port, email, rid, world["songs_of"][rid], upload, stop, stats, random.Random(i))
                    for i, (email, rid) in enumerate(world["families"])]
            # Logged in one after another: they all come from 127.0.0.1 here, and the hub slows
            # many tries at once from one address (families at home each have their own).
            for fam in fams:
                fam.login()
            for fam in fams:
                threading.Thread(target=fam.run, daemon=True).start()
            Path(f"/proc/{proc.pid}/clear_refs").write_text("5")
            t_end = time.monotonic() + args.seconds
            flagger = fams[0]
            flag_conn = Family(port, flagger.email, flagger.rid, flagger.song_ids, upload, stop, stats, rng)
            flag_conn.login()
            flag_conn.get(f"/residents/{flagger.rid}", timed=False)
            box = next(s for s in sims if s.resident_id == flagger.rid)
            until(lambda: real.count() == SONGS_EACH, 60)
            # A new 5 MB song, uploaded by the real box's family, until it is playable there.
            real_family = fams[1]
            before = real.count()
            uploader = Family(port, real_family.email, real_family.rid, [], upload, stop, stats, rng)
            uploader.login()
            uploader.get(f"/residents/{real_family.rid}", timed=False)
            t0 = time.perf_counter()
            uploader.upload()
            new_song = until(lambda: real.count() > before, 120)
            new_song = None if new_song is None else new_song + (time.perf_counter() - t0 - new_song)
            real_flags = []
            for i in range(6):
                sid = real_family.song_ids[i]
                t0 = time.perf_counter()
                uploader.post(f"/residents/{real_family.rid}/songs/{sid}/never-play", {"never_play": "1", "reason": "b"})
                took = until(lambda: real.flagged(sid), 30)
                if took is not None:
                    real_flags.append(time.perf_counter() - t0)
                time.sleep(1.0)
            while time.monotonic() < t_end:
                sid = rng.choice(flagger.song_ids)
                for want in (True, False):          # flag a song, then lift the same flag
                    t0 = time.perf_counter()
                    flag_conn.post(f"/residents/{flagger.rid}/songs/{sid}/never-play",
                                   {"never_play": "1" if want else "0", "reason": "bench"})
                    with box.flag_seen:
                        ok = box.flag_seen.wait_for(lambda: (sid in box.flags) == want, timeout=30)
                    if ok:
                        stats["flag"].append(time.perf_counter() - t0)
                    time.sleep(rng.uniform(2.0, 4.0))
            mem = memory(proc.pid)
            stop.set()
            real.agent.stop()
            real.db.close()
        finally:
            stop.set()
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()
            tail = (Path(tmp) / "hub.log").read_text(errors="replace").splitlines()[-15:]
            if stats_failed(stats):
                print("The hub's log ends:\n  " + "\n  ".join(tail))
    print(f"{BOXES} boxes, {FAMILIES} families, {args.seconds:.0f} s on this machine "
          f"({os.cpu_count()} cores, the simulated boxes and families sharing them with the hub):")
    print(f"family page: {len(stats['page'])} requests, median {pct(stats['page'], 50):.0f} ms, "
          f"p95 {pct(stats['page'], 95):.0f} ms (target <= 200 ms)")
    print(f"sync request (state, report): {len(stats['sync'])} requests, median {pct(stats['sync'], 50):.1f} ms, "
          f"p95 {pct(stats['sync'], 95):.1f} ms (target <= 100 ms)")
    print(f"song upload (5 MB, stored and checked): {len(stats['upload'])} uploads, "
          f"median {pct(stats['upload'], 50):.0f} ms")
    print(f"red flag -> the box has the new state: {len(stats['flag'])} flags, median {pct(stats['flag'], 50):.2f} s, "
          f"p95 {pct(stats['flag'], 95):.2f} s (target <= 10 s; the kiosk then notices within 1 s)")
    print(f"real box: a new 5 MB song playable {new_song:.1f} s after the family's upload began (target <= 60 s)"
          if new_song is not None else "real box: the new song did not arrive within 120 s")
    print(f"real box: red flag in its library: {len(real_flags)} flags, median {pct(real_flags, 50):.2f} s, "
          f"max {max(real_flags or [float('nan')]):.2f} s (the kiosk then fades the song within about 1 s)")
    print(f"hub RSS {mem['VmRSS'] / 1024:.0f} MB, peak {mem['VmHWM'] / 1024:.0f} MB (target <= 300 MB)")
    from collections import Counter as _Counter
    print(f"connection errors seen by the simulated boxes: {len(stats['errors'])} "
          f"{dict(_Counter(stats['errors']))}")
    print(f"unchanged library: {per_poll} bytes a waiting poll (headers and body), "
          f"{per_hour / 1024:.1f} KB a box downloads in an hour (a poll every {WAIT_S} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
