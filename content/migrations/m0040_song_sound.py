"""What a song sounds like: loudness and peak for the kiosk's per-song gain, tempo for the
care modes, and when (and by which version of the measuring) they were measured."""
from content.migrations import run_script


def migrate(db) -> None:
    run_script(
        db,
        """
        ALTER TABLE songs ADD COLUMN loudness_lufs REAL;       -- EBU R128 integrated; NULL: not measured or silent
        ALTER TABLE songs ADD COLUMN peak_db REAL;             -- true peak estimate, dBTP
        ALTER TABLE songs ADD COLUMN tempo_bpm REAL;           -- measured beats per minute
        ALTER TABLE songs ADD COLUMN tempo_confidence REAL;    -- 0..1
        ALTER TABLE songs ADD COLUMN tempo_bpm_person REAL;    -- a person's correction, wins when set
        ALTER TABLE songs ADD COLUMN analysed_at TEXT;         -- NULL: still to be measured
        ALTER TABLE songs ADD COLUMN analysis_version INTEGER;
        CREATE INDEX songs_unanalysed ON songs(analysed_at) WHERE analysed_at IS NULL;
        """,
    )
