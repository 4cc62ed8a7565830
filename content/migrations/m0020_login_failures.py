"""Failed logins, kept so that repeated guessing is slowed down (per email and per address)."""
from content.migrations import run_script


def migrate(db) -> None:
    run_script(
        db,
        """
        CREATE TABLE login_failures (
            id INTEGER PRIMARY KEY,
            email TEXT NOT NULL COLLATE NOCASE,
            remote TEXT NOT NULL DEFAULT '',
            at REAL NOT NULL                            -- unix time
        );
        CREATE INDEX login_failures_email ON login_failures(email, at);
        CREATE INDEX login_failures_remote ON login_failures(remote, at);
        """
    )
