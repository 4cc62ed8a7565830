"""The era engine: a song's original year, the resident's era, and what to play next.

- `catalogue` — the bundled reference catalogue (data/songs.csv, see data/NOTICE).
- `normalise` — messy names to comparable words.
- `match` — finding a name in the catalogue, with a confidence.
- `years` — deciding and storing each song's original year.
- `weights` — how much a song's year matters for a resident's age.
- `suggestions` — catalogue songs from a resident's teenage years not in their library.
- `names` — which part of an "A - B" file name is the title, decided by the catalogue.
"""
