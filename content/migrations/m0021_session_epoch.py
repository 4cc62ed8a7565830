"""A counter per account that is part of every session's stamp: raising it ends all of that
account's sessions (logging out, or a lost phone), since a signed cookie cannot be recalled."""
from content.migrations import run_script


def migrate(db) -> None:
    run_script(
        db,
        """
        ALTER TABLE users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;
        """
    )
