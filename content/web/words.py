"""What the pages call the library's codes, in words a family member reads."""
from __future__ import annotations

from content.plays import PlayEnd

ENDED_WORDS = {
    PlayEnd.FINISHED: "played to the end",
    PlayEnd.NEXT: "skipped to the next song",
    PlayEnd.PREVIOUS: "went back a song",
    PlayEnd.STOPPED: "stopped with the button",
    PlayEnd.ERROR: "could not play",
    PlayEnd.SESSION_END: "session time ended",
    PlayEnd.RED_FLAG: "stopped: marked never play",
    PlayEnd.REMOVED: "stopped: taken out of the songs",
    PlayEnd.POWER_CUT: "power went off",
    None: "still playing, or not recorded",
}


def year_sentence(song) -> str:
    """Where a song's year came from, said in a sentence (`song` has year, year_source and
    year_confidence, as a page's rows do)."""
    year, source, sure = song.get("year"), song.get("year_source"), song.get("year_confidence")
    if not year:
        return "The year it came out is not known yet."
    if source == "catalogue":
        how = f" (we are {round(sure)}% sure it is this song)" if sure is not None else ""
        return f"Came out in {year}: from our list of songs{how}."
    if source == "family":
        return f"Came out in {year}: you or the care staff entered it."
    if source == "tag":
        return f"Came out in {year}: from the file's own details, which can give a later year for an old song."
    if source == "filename":
        return f"Came out in {year}: guessed from the file's name."
    return f"Came out in {year}."


def upload_counts(results: list[dict]) -> str:
    """How a batch of songs went, in a few words: "5 added, 1 not added" (the page lists why)."""
    count = {s: sum(1 for r in results if r.get("status") == s) for s in ("added", "duplicate", "refused")}
    said = [f"{count['added']} added"]
    if count["duplicate"]:
        said.append(f"{count['duplicate']} already there")
    if count["refused"]:
        said.append(f"{count['refused']} not added")
    return ", ".join(said)
