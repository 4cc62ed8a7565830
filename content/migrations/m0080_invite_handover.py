"""Invites that can be handed over again and cancelled: a per-invite salt from which (with
the admin's secret key) the link is made again for staff, so a link is no longer "shown
only once" and a new tap is not needed for a lost one; a label saying who it is for; and
when and by whom it was cancelled."""
from content.migrations import run_script


def migrate(db) -> None:
    run_script(
        db,
        """
        ALTER TABLE invites ADD COLUMN salt TEXT;
        ALTER TABLE invites ADD COLUMN label TEXT NOT NULL DEFAULT '';
        ALTER TABLE invites ADD COLUMN cancelled_at TEXT;
        ALTER TABLE invites ADD COLUMN cancelled_by INTEGER REFERENCES users(id) ON DELETE SET NULL;
        CREATE INDEX invites_open ON invites(resident_id, used_at, cancelled_at);
        """
    )
