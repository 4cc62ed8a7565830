"""How fast does a USB stick of songs go in? Prints seconds per file for the checked
path (copy + hash + tags + full libvlc decode + row), per format. Never fails on a figure."""
from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from content import db as dbmod  # noqa: E402
from content import library  # noqa: E402
from content.ingest import ingest_file  # noqa: E402
from content.probe import Prober  # noqa: E402
from tests.audio import write_song  # noqa: E402

SONG_SECONDS = 180
PER_FORMAT = 6


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        d = dbmod.connect(root / "library.db")
        mary = library.add_resident(d, "Mary", birth_year=1938)
        print(f"ingest: {PER_FORMAT} files per format, {SONG_SECONDS} s of audio each")
        with Prober() as prober:
            for ext in (".mp3", ".ogg", ".flac", ".wav"):
                times = []
                for i in range(PER_FORMAT):
                    src = write_song(root / "src" / f"{i}{ext}", 200 + 37 * i + len(ext), SONG_SECONDS)
                    t = time.perf_counter()
                    result = ingest_file(d, root / "media", src, resident_id=mary.id, prober=prober)
                    times.append(time.perf_counter() - t)
                    assert result.status == "added", result.reason
                    src.unlink()
                print(f"  {ext[1:]:>4}: median {statistics.median(times) * 1000:.0f} ms/file, "
                      f"max {max(times) * 1000:.0f} ms/file "
                      f"(300 songs ≈ {statistics.median(times) * 300:.0f} s)")


if __name__ == "__main__":
    main()
