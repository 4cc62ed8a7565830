"""Password-reset links (only a hash of each is kept, like invites), and failed tries
counted per email and address together, so that a stranger's guesses slow only the stranger."""
from content.migrations import run_script


def migrate(db) -> None:
    run_script(
        db,
        """
        CREATE TABLE password_resets (
            id INTEGER PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE,            -- sha256 of the link's token
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            created_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            used_at TEXT
        );
        CREATE INDEX password_resets_user ON password_resets(user_id);
        CREATE INDEX login_failures_email_remote ON login_failures(email, remote, at);
        """
    )
