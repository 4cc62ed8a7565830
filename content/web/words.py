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
YEAR_SOURCE_WORDS = {
    "family": "entered by family or staff",
    "catalogue": "found in the song catalogue",
    "tag": "from the file's details",
    "filename": "guessed from the file name",
    None: "not known yet",
}
