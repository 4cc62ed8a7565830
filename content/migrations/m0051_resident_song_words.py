"""A resident's own entry for a song owns its words: the title, artist and year that family
or staff gave it (and how the year was decided) move from the shared songs row to
resident_songs, where the note, favourite and flags already are. The songs row keeps only
what the file says (its tags, length, format), so two families who upload the same audio
never see or change each other's names.

Existing libraries are migrated in place: every entry starts with the names and year its
song had, and the year decisions are copied to each entry."""
from content.migrations import run_script


def migrate(db) -> None:
    run_script(
        db,
        """
        ALTER TABLE resident_songs ADD COLUMN title TEXT NOT NULL DEFAULT '';
        ALTER TABLE resident_songs ADD COLUMN artist TEXT NOT NULL DEFAULT '';
        ALTER TABLE resident_songs ADD COLUMN year INTEGER;                 -- the original year, as resolved for this entry
        ALTER TABLE resident_songs ADD COLUMN year_source TEXT;             -- family | catalogue | tag | filename
        ALTER TABLE resident_songs ADD COLUMN year_confidence REAL;         -- 0..100 for catalogue matches
        UPDATE resident_songs SET
            title = (SELECT s.title FROM songs s WHERE s.id = resident_songs.song_id),
            artist = (SELECT s.artist FROM songs s WHERE s.id = resident_songs.song_id),
            year = (SELECT s.year FROM songs s WHERE s.id = resident_songs.song_id),
            year_source = (SELECT s.year_source FROM songs s WHERE s.id = resident_songs.song_id),
            year_confidence = (SELECT s.year_confidence FROM songs s WHERE s.id = resident_songs.song_id);

        CREATE TABLE entry_year_decisions (
            resident_id INTEGER NOT NULL,
            song_id INTEGER NOT NULL,
            basis TEXT NOT NULL,                 -- fingerprint of the entry's names, the file's tag year and name, the catalogue
            catalogue_version TEXT NOT NULL,
            match_title TEXT,                    -- the catalogue song it matched, if any
            match_artist TEXT,
            match_year INTEGER,
            match_score REAL,
            match_sources TEXT,
            decided_at TEXT NOT NULL,
            PRIMARY KEY (resident_id, song_id),
            FOREIGN KEY (resident_id, song_id) REFERENCES resident_songs(resident_id, song_id) ON DELETE CASCADE
        );
        INSERT INTO entry_year_decisions
            SELECT rs.resident_id, d.song_id, d.basis, d.catalogue_version, d.match_title, d.match_artist,
                   d.match_year, d.match_score, d.match_sources, d.decided_at
            FROM song_year_decisions d JOIN resident_songs rs ON rs.song_id = d.song_id;
        DROP TABLE song_year_decisions;

        ALTER TABLE songs DROP COLUMN year;
        ALTER TABLE songs DROP COLUMN year_source;
        ALTER TABLE songs DROP COLUMN year_confidence;
        """,
    )
