"""The lists the admin's pages show: one page of a resident's songs with how often each
played, and a resident's listening history."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from content.text import search_words


@dataclass(frozen=True)
class SongPage:
    rows: list[dict[str, Any]]
    total: int
    page: int
    pages: int


def resident_song_page(db: sqlite_utils.Database, resident_id: int, *, query: str = "", page: int = 1,
                       page_size: int = 100) -> SongPage:
    """One page of a resident's songs, with how often and when each was last played for them.
    A search is cut to SEARCH_MAX letters: SQLite refuses a LIKE pattern over 50,000 bytes."""
    where = "rs.resident_id = :rid"
    params: dict[str, Any] = {"rid": resident_id}
    query = search_words(query)
    if query:
        where += " AND (rs.title LIKE :q OR rs.artist LIKE :q OR CAST(rs.year AS TEXT) = :y)"
        params.update(q=f"%{query}%", y=query)
    total = next(db.query(f"SELECT COUNT(*) AS n FROM resident_songs rs JOIN songs s ON s.id = rs.song_id WHERE {where}",
                          params))["n"]
    pages = max(1, -(-total // page_size))
    page = min(max(1, page), pages)
    params.update(limit=page_size, offset=(page - 1) * page_size)
    # Page first, then count plays for just these songs (through the plays_song index):
    # aggregating every play of a busy resident on each view is what made the page slow.
    rows = [dict(r) for r in db.query(
        f"""
        WITH page AS MATERIALIZED (
            SELECT s.id, s.sha256, s.ext, rs.title, rs.artist, rs.year, rs.year_source, rs.year_confidence,
                   s.duration, s.unplayable, rs.favourite, rs.never_play, rs.never_play_reason, rs.never_play_by_role, rs.note,
                   rs.detective, rs.feel
            FROM resident_songs rs JOIN songs s ON s.id = rs.song_id
            WHERE {where}
            ORDER BY rs.never_play, rs.artist COLLATE NOCASE, rs.title COLLATE NOCASE
            LIMIT :limit OFFSET :offset
        )
        SELECT page.*,
               (SELECT COUNT(*) FROM plays p WHERE p.song_id = page.id AND +p.resident_id = :rid) AS plays,
               (SELECT MAX(started_at) FROM plays p WHERE p.song_id = page.id AND +p.resident_id = :rid) AS last_played
        FROM page
        """, params)]
    return SongPage(rows=rows, total=total, page=page, pages=pages)


def recent_plays(db: sqlite_utils.Database, resident_id: int, limit: int = 50) -> list[dict[str, Any]]:
    return [dict(r) for r in db.query(
        """
        SELECT p.started_at, p.ended_at, p.seconds_heard, p.ended_how, COALESCE(rs.title, s.title) AS title,
               COALESCE(rs.artist, s.artist) AS artist, s.id AS song_id
        FROM plays p LEFT JOIN songs s ON s.id = p.song_id
        LEFT JOIN resident_songs rs ON rs.song_id = p.song_id AND rs.resident_id = p.resident_id
        WHERE p.resident_id = ? ORDER BY p.started_at DESC LIMIT ?
        """, [resident_id, limit])]


def resident_song(db: sqlite_utils.Database, resident_id: int, song_id: int) -> dict[str, Any] | None:
    """A song with this resident's own entry for it (the entry's title, artist and year;
    the file's own as file_title and file_artist), or None when they do not have it."""
    rows = list(db.query(
        "SELECT s.id, s.sha256, s.ext, s.format, s.album, s.tag_year, s.duration, s.size_bytes, s.original_name, "
        "s.unplayable, s.unplayable_reason, s.added_at, s.title AS file_title, s.artist AS file_artist, "
        "rs.title, rs.artist, rs.year, rs.year_source, rs.year_confidence, "
        "rs.favourite, rs.never_play, rs.never_play_reason, rs.never_play_by_role, rs.note, rs.added_by, rs.detective, rs.feel "
        "FROM resident_songs rs JOIN songs s ON s.id = rs.song_id WHERE rs.resident_id = ? AND rs.song_id = ?",
        [resident_id, song_id]))
    return rows[0] if rows else None


def song_counts(db: sqlite_utils.Database) -> dict[int, int]:
    """resident id → how many songs they have."""
    return {r["resident_id"]: r["n"] for r in db.query(
        "SELECT resident_id, COUNT(*) AS n FROM resident_songs GROUP BY resident_id")}


def titles_stamp(db: sqlite_utils.Database, resident_id: int) -> str:
    """Changes when a song is added to or taken from the resident, or renamed (a favourite
    or a red flag does not change it): what cached suggestions depend on."""
    titles = db.execute(
        "SELECT group_concat(rs.song_id || ':' || rs.title, char(31)) FROM resident_songs rs "
        "WHERE rs.resident_id = ?", [resident_id]).fetchone()[0] or ""
    return hashlib.sha256(titles.encode()).hexdigest()
