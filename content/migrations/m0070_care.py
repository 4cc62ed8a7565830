"""The care loop: reactions that can travel between a box and a hub, what they add up to on
each song, the music detective's status, a song's feel (calm or steady beat), and each
resident's times of day.

What the kiosk needs (tallies, status, feel, schedule) sits on residents and resident_songs,
so it reaches a box with the rest of the resident's library; the reaction rows themselves
carry an id that never repeats, so each is counted once wherever it is received.
"""
from content.migrations import run_script


def migrate(db) -> None:
    run_script(
        db,
        """
        ALTER TABLE reactions ADD COLUMN uid TEXT;                   -- never repeats: counted once on box and hub
        UPDATE reactions SET uid = lower(hex(randomblob(16))) WHERE uid IS NULL;
        CREATE UNIQUE INDEX reactions_uid ON reactions(uid);
        ALTER TABLE reactions ADD COLUMN source TEXT NOT NULL DEFAULT 'phone';   -- phone | box | panel | cli | demo
        ALTER TABLE reactions ADD COLUMN by_role TEXT CHECK (by_role IN ('staff', 'family'));
        ALTER TABLE reactions ADD COLUMN note_staff_only INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX reactions_resident_at ON reactions(resident_id, at);
        CREATE INDEX reactions_song ON reactions(song_id);

        ALTER TABLE resident_songs ADD COLUMN reactions_positive INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE resident_songs ADD COLUMN reactions_negative INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE resident_songs ADD COLUMN upset_reviewed_at TEXT;  -- staff kept it after upsets: count from here
        ALTER TABLE resident_songs ADD COLUMN detective TEXT NOT NULL DEFAULT 'trying'
            CHECK (detective IN ('trying', 'keeper', 'dropped'));
        ALTER TABLE resident_songs ADD COLUMN detective_at TEXT;
        ALTER TABLE resident_songs ADD COLUMN detective_by_role TEXT CHECK (detective_by_role IN ('staff', 'family'));
        ALTER TABLE resident_songs ADD COLUMN feel TEXT CHECK (feel IN ('calm', 'steady'));

        ALTER TABLE residents ADD COLUMN schedule TEXT NOT NULL DEFAULT '[]';   -- JSON: [{"mode", "start", "end"}]
        ALTER TABLE residents ADD COLUMN steady_bpm_low INTEGER;
        ALTER TABLE residents ADD COLUMN steady_bpm_high INTEGER;
        ALTER TABLE residents ADD COLUMN pace_bpm INTEGER;
        """
    )
