"""The core tables: residents, songs and what they mean to whom, plays, people, settings."""
from content.migrations import run_script


def migrate(db) -> None:
    run_script(
        db,
        """
        CREATE TABLE residents (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE COLLATE NOCASE,   -- preferred name, shown and used by the kiosk
            full_name TEXT,
            birth_year INTEGER,
            photo TEXT,                                 -- media file name of a photo, if any
            volume_cap INTEGER,                         -- NULL: the kiosk's default
            start_volume INTEGER,
            session_minutes INTEGER,
            created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))
        );

        CREATE TABLE songs (
            id INTEGER PRIMARY KEY,
            sha256 TEXT NOT NULL UNIQUE,
            ext TEXT NOT NULL,                          -- the real format's extension: media/<sha256>.<ext>
            format TEXT NOT NULL,                       -- mp3, ogg, flac, wav, m4a, opus
            title TEXT NOT NULL,
            artist TEXT NOT NULL DEFAULT '',
            album TEXT NOT NULL DEFAULT '',
            tag_year INTEGER,                           -- the year the file's tag gives
            year INTEGER,                               -- the original year, as resolved
            year_source TEXT,                           -- family | catalogue | tag | filename
            year_confidence REAL,                       -- 0..100 for catalogue matches
            duration REAL NOT NULL,                     -- seconds
            size_bytes INTEGER NOT NULL,
            original_name TEXT NOT NULL DEFAULT '',
            unplayable INTEGER NOT NULL DEFAULT 0,
            unplayable_reason TEXT,
            added_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))
        );

        CREATE TABLE resident_songs (
            resident_id INTEGER NOT NULL REFERENCES residents(id) ON DELETE CASCADE,
            song_id INTEGER NOT NULL REFERENCES songs(id) ON DELETE CASCADE,
            favourite INTEGER NOT NULL DEFAULT 0,
            never_play INTEGER NOT NULL DEFAULT 0,
            never_play_reason TEXT,
            note TEXT NOT NULL DEFAULT '',              -- why this song matters
            position INTEGER,
            added_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
            added_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')),
            PRIMARY KEY (resident_id, song_id)
        );
        CREATE INDEX resident_songs_song ON resident_songs(song_id);

        CREATE TABLE plays (
            id INTEGER PRIMARY KEY,
            resident_id INTEGER REFERENCES residents(id) ON DELETE CASCADE,
            song_id INTEGER REFERENCES songs(id) ON DELETE SET NULL,
            started_at TEXT NOT NULL,
            ended_at TEXT,
            seconds_heard REAL NOT NULL DEFAULT 0,
            ended_how TEXT                              -- finished | next | previous | stopped | error | session_end | red_flag | power_cut
        );
        CREATE INDEX plays_resident_started ON plays(resident_id, started_at);
        CREATE INDEX plays_song ON plays(song_id);

        CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            email TEXT NOT NULL UNIQUE COLLATE NOCASE,
            display_name TEXT NOT NULL DEFAULT '',
            role TEXT NOT NULL CHECK (role IN ('staff', 'family')),
            password_hash TEXT NOT NULL,
            disabled INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))
        );

        CREATE TABLE user_residents (
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            resident_id INTEGER NOT NULL REFERENCES residents(id) ON DELETE CASCADE,
            PRIMARY KEY (user_id, resident_id)
        );

        CREATE TABLE invites (
            id INTEGER PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE,            -- sha256 of the link's token; the token itself is never stored
            resident_id INTEGER NOT NULL REFERENCES residents(id) ON DELETE CASCADE,
            created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            used_at TEXT,
            used_by INTEGER REFERENCES users(id) ON DELETE SET NULL
        );

        CREATE TABLE reactions (
            id INTEGER PRIMARY KEY,
            resident_id INTEGER NOT NULL REFERENCES residents(id) ON DELETE CASCADE,
            song_id INTEGER REFERENCES songs(id) ON DELETE SET NULL,
            play_id INTEGER REFERENCES plays(id) ON DELETE SET NULL,
            user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
            at TEXT NOT NULL,
            reaction TEXT NOT NULL,
            note TEXT NOT NULL DEFAULT ''
        );

        CREATE TABLE settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL                         -- JSON
        );

        CREATE TABLE kiosk_state (
            key TEXT PRIMARY KEY,                       -- the kiosk's own state, kept across restarts
            value TEXT NOT NULL                         -- JSON
        );

        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
            user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
            action TEXT NOT NULL,
            resident_id INTEGER REFERENCES residents(id) ON DELETE SET NULL,
            song_id INTEGER REFERENCES songs(id) ON DELETE SET NULL,
            detail TEXT NOT NULL DEFAULT '{}'           -- JSON
        );
        CREATE INDEX audit_log_at ON audit_log(at);
        """
    )
