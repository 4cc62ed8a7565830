"""How each song's original year was decided, so that a decision is redone when what it
was based on changes (the title, artist, tag year or file name, or the catalogue)."""
from content.migrations import run_script


def migrate(db) -> None:
    run_script(
        db,
        """
        CREATE TABLE song_year_decisions (
            song_id INTEGER PRIMARY KEY REFERENCES songs(id) ON DELETE CASCADE,
            basis TEXT NOT NULL,                 -- fingerprint of the song's names, tag year and the catalogue
            catalogue_version TEXT NOT NULL,
            match_title TEXT,                    -- the catalogue song it matched, if any
            match_artist TEXT,
            match_year INTEGER,
            match_score REAL,
            match_sources TEXT,
            decided_at TEXT NOT NULL
        );
        """,
    )
