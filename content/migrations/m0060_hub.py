"""Hub and boxes: care homes, staff scoped to homes, music boxes with their pairing codes and
credentials, which residents each box plays for, commands for a box, and what the hub has
already received from each box (idempotent ids). On a box: its outbox, and the media files
its sync agent keeps.

Every library has these tables; a standalone box leaves the hub's ones empty, and staff who
belong to no home see every resident, as before."""
from content.migrations import run_script


def migrate(db) -> None:
    run_script(
        db,
        """
        CREATE TABLE homes (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE COLLATE NOCASE,
            created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))
        );
        ALTER TABLE residents ADD COLUMN home_id INTEGER REFERENCES homes(id) ON DELETE SET NULL;
        CREATE INDEX residents_home ON residents(home_id);

        -- Staff listed here see only these homes; staff listed nowhere see every home.
        CREATE TABLE staff_homes (
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            home_id INTEGER NOT NULL REFERENCES homes(id) ON DELETE CASCADE,
            PRIMARY KEY (user_id, home_id)
        );

        CREATE TABLE boxes (
            id INTEGER PRIMARY KEY,
            home_id INTEGER NOT NULL REFERENCES homes(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            credential_hash TEXT UNIQUE,               -- sha256 of the box's secret; the secret stays on the box
            paired_at TEXT,
            revoked_at TEXT,
            last_seen_at TEXT,
            now_playing TEXT,                           -- JSON: what the box last reported
            now_playing_at TEXT,
            rev INTEGER NOT NULL DEFAULT 0,             -- see sync_counter
            created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
            created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now'))
        );

        CREATE TABLE pairing_codes (
            id INTEGER PRIMARY KEY,
            box_id INTEGER NOT NULL REFERENCES boxes(id) ON DELETE CASCADE,
            code_hash TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            used_at TEXT
        );

        CREATE TABLE box_residents (
            box_id INTEGER NOT NULL REFERENCES boxes(id) ON DELETE CASCADE,
            resident_id INTEGER NOT NULL REFERENCES residents(id) ON DELETE CASCADE,
            PRIMARY KEY (box_id, resident_id)
        );
        CREATE INDEX box_residents_resident ON box_residents(resident_id);

        -- A counter raised by every change a box must hear of; each resident and box is
        -- stamped with it, and a box's state version is the highest stamp among its own.
        CREATE TABLE sync_counter (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL);
        INSERT INTO sync_counter (id, n) VALUES (1, 0);
        CREATE TABLE resident_revs (
            resident_id INTEGER PRIMARY KEY REFERENCES residents(id) ON DELETE CASCADE,
            rev INTEGER NOT NULL
        );

        CREATE TABLE box_commands (
            id INTEGER PRIMARY KEY,
            box_id INTEGER NOT NULL REFERENCES boxes(id) ON DELETE CASCADE,
            action TEXT NOT NULL,
            created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
            created_at TEXT NOT NULL,
            done_at TEXT,
            result TEXT
        );
        CREATE INDEX box_commands_box ON box_commands(box_id, id);

        CREATE TABLE box_receipts (
            uid TEXT PRIMARY KEY,                       -- the box's idempotent id for the item
            box_id INTEGER REFERENCES boxes(id) ON DELETE SET NULL,
            kind TEXT NOT NULL,
            received_at TEXT NOT NULL
        );

        -- On a box: what waits to be sent to the hub, oldest first.
        CREATE TABLE sync_outbox (
            id INTEGER PRIMARY KEY,
            uid TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            payload TEXT NOT NULL,                      -- JSON
            created_at TEXT NOT NULL
        );
        -- On a box: media files its sync agent placed, kept a grace period after the last
        -- song using them went (so a song taken away and given back is not fetched again).
        CREATE TABLE sync_files (
            name TEXT PRIMARY KEY,                      -- <sha256>.<ext> in media/
            placed_at TEXT NOT NULL,
            unused_since TEXT
        );
        CREATE TABLE sync_state (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL                         -- JSON
        );
        """
    )
    from content.hub.revisions import ensure_triggers
    ensure_triggers(db)
