"""Who set a red flag, staff or family: only staff may lift one that staff set. Flags set
before this was kept take their setter from the audit log; where it does not say, the flag
counts as staff's (the safe side for the resident)."""
from content.migrations import run_script


def migrate(db) -> None:
    run_script(
        db,
        """
        ALTER TABLE resident_songs ADD COLUMN never_play_by_role TEXT
            CHECK (never_play_by_role IN ('staff', 'family'));
        UPDATE resident_songs SET never_play_by_role = (
            SELECT u.role FROM audit_log a JOIN users u ON u.id = a.user_id
            WHERE a.action = 'song.flags' AND a.resident_id = resident_songs.resident_id
              AND a.song_id = resident_songs.song_id AND json_extract(a.detail, '$.never_play') = 1
            ORDER BY a.id DESC LIMIT 1)
        WHERE never_play = 1;
        """
    )
