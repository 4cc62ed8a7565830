"""Songs someone will look for: a teenage-years suggestion marked "we'll look for it" by a
family member, or asked for by staff, kept until the song is in the resident's library (or
the mark is taken back), so families see what staff asked for."""
from content.migrations import run_script


def migrate(db) -> None:
    run_script(
        db,
        """
        CREATE TABLE song_wishes (
            id INTEGER PRIMARY KEY,
            resident_id INTEGER NOT NULL REFERENCES residents(id) ON DELETE CASCADE,
            title TEXT NOT NULL,
            artist TEXT NOT NULL DEFAULT '',
            year INTEGER,
            asked_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
            by_role TEXT NOT NULL CHECK (by_role IN ('staff', 'family')),
            asked_at TEXT NOT NULL,
            UNIQUE (resident_id, title, artist)
        );
        """
    )
