"""Matching messy names against the catalogue, beets-style: tables of messy input and the
song it must find, "A is closer than B", and a floor on the labelled set."""
from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from content.era import catalogue as era_catalogue
from content.era.catalogue import Entry, from_entries
from content.era.match import Matcher, default_matcher
from content.era.normalise import normalise, normalise_artist, normalise_title, split_parts

LABELLED = Path(__file__).parent / "data" / "era_labelled.csv"


@pytest.mark.parametrize("messy, clean", [
    ("03 - Édith Piaf — La Vie En Rose (Remastered 2005).flac", "edith piaf la vie en rose"),
    ("01_-_The_Beatles_-_Hey_Jude.mp3", "beatles hey jude"),
    ("Vera Lynn - We'll Meet Again [Live]", "vera lynn well meet again"),
    ("Bing Crosby feat. The Andrews Sisters - Pistol Packin' Mama", "bing crosby pistol packin mama"),
    ("Simon & Garfunkel - Mrs. Robinson (Mono)", "simon and garfunkel mrs robinson"),
    ("Hey Jude - Beatles - 2009 Remaster", "hey jude beatles"),
    ("Frank Sinatra - My Way (Live At Madison Square Garden 1974)", "frank sinatra my way"),
    ("Paul McCartney - Live and Let Die", "paul mccartney live and let die"),   # "Live" in a title stays
    ("(I've Got a Gal In) Kalamazoo", "ive got a gal in kalamazoo"),          # so does a title's own bracket
    ("Nena - 99 Luftballons", "nena 99 luftballons"),
    ("1999", "1999"),
    ("36-24-36", "36 24 36"),
    ("Glenn Miller and his Orchestra - In the Mood", "glenn miller in the mood"),
    ("SHE LOVES YOU (2009 REMASTER)", "she loves you"),
    ("Hey Jude - Live", "hey jude"),
    ("The Corrs - Radio", "corrs radio"),                                      # a one-word title stays
    ("Shu Rah - Single Vesrion", "shu rah"),                                   # a misspelt note goes
])
def test_normalise(messy, clean):
    assert normalise(messy) == clean


def test_swapped_fields_and_separators_give_parts():
    assert split_parts("Hey_Jude_-_The_Beatles.mp3") == ["hey jude", "beatles"]
    assert split_parts("A1. Jailhouse Rock – Elvis Presley") == ["jailhouse rock", "elvis presley"]


def test_catalogue_names_normalise_like_queries():
    assert normalise_artist("Glenn Miller & His Orchestra") == "glenn miller"
    assert normalise_artist("The Drifters Featuring Clyde McPhatter And Bill Pinkney") == "drifters"
    assert normalise_artist("Ernie Fields & Orch.") == "ernie fields"
    assert normalise_title("Fools Rush In (Where Angels Fear To Tread)") == (
        "fools rush in where angels fear to tread", "fools rush in")


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return default_matcher()


@pytest.mark.parametrize("messy, title, artist", [
    ("01 - The Beatles - Hey Jude (Remastered 2009).mp3", "Hey Jude", "The Beatles"),
    ("03_-_vera_lynn_-_well_meet_again.mp3", "We'll Meet Again", "Vera Lynn"),
    ("White Christmas - Bing Crosby", "White Christmas", "Bing Crosby"),
    ("the drifters white christmas", "White Christmas", "The Drifters Featuring Clyde McPhatter And Bill Pinkney"),
    ("Glen Miller - Moonlight Serenade", "Moonlight serenade", "Glenn Miller"),           # typo in the artist
    ("Elvis Presley - Heartbreak Hotle", "Heartbreak Hotel", "Elvis Presley"),            # letters swapped
    ("Chattanooga Choo Choo - Glenn Miller & His Orchestra [Mono]", "Chattanooga Choo Choo",
     "Glenn Miller & His Orchestra"),
    ("MILORD - ÉDITH PIAF", "Milord", "Edith Piaf"),
    ("Édith Piaf – Non, je ne regrette rien", "Non Je Ne Regrette Rien", "Edith Piaf"),
    ("Doris Day - Que Sera Sera", "Que sera sera (whatever will be will be)", "Doris Day"),
    ("Fools Rush In - Brook Benton", "Fools Rush In (Where Angels Fear To Tread)", "Brook Benton"),
])
def test_messy_names_find_their_song(matcher, messy, title, artist):
    found = matcher.match(messy)
    assert found is not None, messy
    assert (found.title, found.artist) == (title, artist)


def test_a_title_alone_finds_the_earliest_recording(matcher):
    found = matcher.match("White Christmas")
    assert found is not None and found.year == 1940        # the standard, before Crosby (1942) and the Drifters (1960)


def test_artist_and_title_given_separately(matcher):
    found = matcher.match_pair("Louis Armstrong", "What a Wonderful World (Remastered)")
    assert found is not None and (found.title, found.year) == ("What a Wonderful World", 1967)
    found = matcher.match_pair("", "Moonlight Serenade")
    assert found is not None and found.artist == "Glenn Miller"


@pytest.mark.parametrize("junk", [
    "Voice memo 004", "Track 07", "Grandma's 90th birthday singalong", "New recording 17",
    "Zzyzx quarbleton - Flimwick dorrity", "", "   ", "01 - .mp3",
])
def test_no_match_rather_than_a_guess(matcher, junk):
    assert matcher.match(junk) is None


def closer(query: str, a: Entry, b: Entry) -> bool:
    """A is closer than B: in a catalogue of just the two, the matcher picks A."""
    found = Matcher(from_entries([b, a]), threshold=0).best(query)
    return found is not None and (found.title, found.artist) == (a.title, a.artist)


@pytest.mark.parametrize("query, a, b", [
    ("beatles hey jude", Entry("Hey Jude", "The Beatles", 1968, ""), Entry("Hey Jude", "Wilson Pickett", 1969, "")),
    ("hey jude - wilson pickett", Entry("Hey Jude", "Wilson Pickett", 1969, ""),
     Entry("Hey Jude", "The Beatles", 1968, "")),
    ("she loves you", Entry("She Loves You", "The Beatles", 1964, ""), Entry("She Loves Me", "The Beatles", 1964, "")),
    ("love me tender elvis", Entry("Love Me Tender", "Elvis Presley", 1956, ""),
     Entry("Love Me", "Elvis Presley", 1956, "")),
    ("Sinatra - Strangers in the nite", Entry("Strangers In The Night", "Frank Sinatra", 1966, ""),
     Entry("Strangers In The Night", "Bert Kaempfert", 1966, "")),
    ("moon river andy williams", Entry("Moon River", "Andy Williams", 1962, ""),
     Entry("Blue Moon", "Andy Williams", 1961, "")),
])
def test_a_is_closer_than_b(query, a, b):
    assert closer(query, a, b)


def test_a_swapped_name_is_as_good_as_the_right_way_round(matcher):
    right = matcher.match("Dean Martin - Volare")
    swapped = matcher.match("Volare - Dean Martin")
    assert right is not None and swapped is not None and right.index == swapped.index


def test_accuracy_floor_on_the_labelled_set(matcher):
    rows = list(csv.DictReader(open(LABELLED, encoding="utf-8")))
    assert len(rows) >= 200
    key = lambda title, artist: (normalise_title(title)[0], normalise_artist(artist))  # noqa: E731
    right = wrong = false_matches = 0
    for r in rows:
        found = matcher.match(r["query"])
        if r["kind"] == "none":
            false_matches += found is not None
        elif found is not None and (key(found.title, found.artist) == key(r["title"], r["artist"]) or (
                # a bare title may rightly find that title by an earlier artist
                r["kind"] == "title" and set(normalise_title(found.title)) & set(normalise_title(r["title"])))):
            right += 1
        else:
            wrong += 1
    assert right / (right + wrong) >= 0.95
    assert false_matches == 0


def test_the_prepared_catalogue_is_read_instead_of_the_csv_and_follows_it(tmp_path):
    csv_path = tmp_path / "songs.csv"
    shutil.copy(era_catalogue.CATALOGUE_CSV, csv_path)
    first = era_catalogue.load(csv_path)                       # prepares it
    prepared = era_catalogue.prepared_path(csv_path)
    assert prepared.exists() and len(first) > 25_000
    # Mark the prepared form so that a load which re-read the CSV would not show the mark.
    payload = json.loads(prepared.read_text(encoding="utf-8"))
    payload["rows"][0][0] = "Read From The Prepared File"
    prepared.write_text(json.dumps(payload), encoding="utf-8")
    before = prepared.stat()
    again = era_catalogue.load(csv_path)
    assert again.entries[0].title == "Read From The Prepared File"
    assert again.entries[1:] == first.entries[1:] and again.version == first.version
    after = prepared.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)   # not rewritten
    with open(csv_path, "a", encoding="utf-8") as f:
        f.write("A Brand New Song,Nobody Yet,1951,test\n")
    edited = era_catalogue.load(csv_path)                      # the CSV changed: not read through the old form
    assert edited.version != first.version and edited.entries[-1].title == "A Brand New Song"
    assert edited.entries[0].title == first.entries[0].title


LOAD_AND_COUNT = (
    "import sys; sys.path.insert(0, sys.argv[1]);"
    "from pathlib import Path; from content.era import catalogue;"
    "print(len(catalogue.load(Path(sys.argv[2]))))"
)


def test_a_read_only_install_still_loads():
    """The hardened service cannot write beside the app. Root ignores folder modes, so as
    root the load runs in a child that has dropped to the unprivileged `nobody` user."""
    repo = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as outer:
        os.chmod(outer, 0o755)                 # reachable by the unprivileged child
        folder = Path(outer) / "ro"
        folder.mkdir()
        shutil.copy(era_catalogue.CATALOGUE_CSV, folder / "songs.csv")
        os.chmod(folder / "songs.csv", 0o644)
        folder.chmod(0o555)
        command = [sys.executable, "-c", LOAD_AND_COUNT, str(repo), str(folder / "songs.csv")]
        if os.geteuid() == 0:
            command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=120,
                                  env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
            assert done.returncode == 0, done.stderr
            assert int(done.stdout.strip()) > 25_000
            assert sorted(p.name for p in folder.iterdir()) == ["songs.csv"]   # nothing written
        finally:
            folder.chmod(0o755)
