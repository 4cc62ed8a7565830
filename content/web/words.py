"""What the pages call the library's codes, in words a family member reads."""
from __future__ import annotations

ENDED_WORDS = {
    "finished": "played to the end",
    "next": "skipped to the next song",
    "previous": "went back a song",
    "stopped": "stopped with the button",
    "error": "could not play",
    "session_end": "session time ended",
    "red_flag": "stopped: marked never play",
    "power_cut": "power went off",
    None: "still playing, or not recorded",
}
YEAR_SOURCE_WORDS = {
    "family": "entered by family or staff",
    "catalogue": "found in the song catalogue",
    "tag": "from the file's details",
    "filename": "guessed from the file name",
    None: "not known yet",
}
