"""Finding a messy song name in the reference catalogue.

Comparing every query with every catalogue row is what makes fuzzy matching slow, so the
matcher works in three steps:

1. an exact lookup on normalised words in any order ("hey jude beatles" = "beatles hey jude");
2. a blocking index from words to rows, so only rows that share a rare word with the query
   are scored — a misspelt word is looked up through its one-letter deletions (the SymSpell
   trick), so "Beatels" still finds "Beatles";
3. rapidfuzz scores on that shortlist: the whole string with words sorted (token sort), the
   title alone, and "artist – title" split both ways round (swapped fields are common).

Below `threshold` the answer is "no match": a wrong year is worse than none, because a
person can still enter the right one.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Sequence

from rapidfuzz import fuzz

from content.era.catalogue import Catalogue, bundled
from content.era.normalise import normalise_artist, split_parts, normalise_title

DEFAULT_THRESHOLD = 80.0
TITLE_ONLY_FACTOR = 0.92   # a title alone is good evidence, but not as good as title and artist
CONTAINED_FACTOR = 0.9    # the whole "artist title" inside a longer one-part name
ARTISTLESS_FACTOR = 0.88  # "Artist - Title" against a catalogue row that has no artist
ARTIST_SHARE = 0.35        # in an artist/title pair, how much the artist counts
SHORTLIST = 40             # rows scored in full per query
RARE_WORDS = 4             # how many of a query's rarest words pick the shortlist
MIN_FUZZY_WORD = 4         # shorter words are only looked up exactly


@dataclass(frozen=True)
class Match:
    """A catalogue song and how sure the matcher is (0–100)."""

    title: str
    artist: str
    year: int
    score: float
    source: str
    index: int                 # the row in the catalogue


def _sorted_words(text: str) -> str:
    return " ".join(sorted(text.split()))


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


class Matcher:
    """Matches song names against one catalogue. Build once and share: it is read-only."""

    def __init__(self, catalogue: Catalogue, *, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.catalogue = catalogue
        self.threshold = threshold
        cat = catalogue
        self._full = [f"{a} {t}".strip() for a, t in zip(cat.artists, cat.titles)]
        self._sorted_full = [_sorted_words(f) for f in self._full]
        self._sorted_short = [
            _sorted_words(f"{a} {s}") if s != t else sf
            for a, t, s, sf in zip(cat.artists, cat.titles, cat.short_titles, self._sorted_full)
        ]
        exact: dict[str, list[int]] = defaultdict(list)
        by_title: dict[str, list[int]] = defaultdict(list)
        postings: dict[str, list[int]] = defaultdict(list)
        for i, (a, t, s) in enumerate(zip(cat.artists, cat.titles, cat.short_titles)):
            exact[self._sorted_full[i]].append(i)
            if self._sorted_short[i] != self._sorted_full[i]:
                exact[self._sorted_short[i]].append(i)
            by_title[_sorted_words(t)].append(i)
            if s != t:
                by_title[_sorted_words(s)].append(i)
            for word in set(f"{a} {t}".split()):
                postings[word].append(i)
        self._exact = dict(exact)
        self._by_title = dict(by_title)
        self._postings = dict(postings)
        self._delete_index: dict[str, list[str]] | None = None   # built on first misspelling

    # -- public -------------------------------------------------------------------------

    def match(self, text: str) -> Match | None:
        """The catalogue song `text` names (a file name, a tag line, "artist - title"),
        or None when nothing is close enough to trust."""
        found = self.best(text)
        return found if found is not None and found.score >= self.threshold else None

    def match_pair(self, artist: str, title: str) -> Match | None:
        """Like match() when artist and title are known separately (from tags)."""
        found = self.best_pair(artist, title)
        return found if found is not None and found.score >= self.threshold else None

    def match_many(self, texts: Iterable[str]) -> list[Match | None]:
        return [self.match(t) for t in texts]

    def best(self, text: str) -> Match | None:
        """The closest catalogue song whatever its score (None only when nothing shares a word)."""
        parts = split_parts(text)
        if not parts:
            return None
        pairs = _pairs(parts)
        return self._best(parts, pairs)

    def best_pair(self, artist: str, title: str) -> Match | None:
        a = normalise_artist(artist)
        t, short = normalise_title(title)
        if not t:
            return None
        if not a:
            return self._best([t], [])
        pairs = [(a, t)] + ([(a, short)] if short != t else [])
        return self._best([a, t], pairs, fixed=True)

    # -- internals ----------------------------------------------------------------------

    def _best(self, parts: list[str], pairs: list[tuple[str, str]], *, fixed: bool = False) -> Match | None:
        query = " ".join(parts)
        sorted_query = _sorted_words(query)
        exact = self._exact.get(sorted_query, [])
        titled = self._by_title.get(sorted_query, []) if len(parts) == 1 else []
        if exact or titled:
            # A bare title that is a jazz standard's whole name is also that title by its
            # first recording artist: the earliest wins, and a named artist on a tie.
            best = min([*exact, *titled], key=self._earliest)
            return self._result(best, 100.0 if exact else 100.0 * TITLE_ONLY_FACTOR)
        shortlist = self._shortlist(sorted_query.split())
        if not shortlist:
            return None
        cat = self.catalogue
        query_words = set(query.split())
        best_i, best_score = -1, -1.0
        for i in shortlist:
            artist, title, short = cat.artists[i], cat.titles[i], cat.short_titles[i]
            if fixed:
                score = 0.0
            else:
                score = max(fuzz.ratio(sorted_query, self._sorted_full[i]),
                            fuzz.ratio(sorted_query, self._sorted_short[i]))
                title_only = max(fuzz.ratio(query, title), fuzz.ratio(query, short))
                if artist:
                    title_only *= TITLE_ONLY_FACTOR
                score = max(score, title_only)
                if artist and len(parts) == 1 and query_words.issuperset(self._full[i].split()):
                    # "artist feat. guest title": every word of the song is there, plus some.
                    score = max(score, 100.0 * CONTAINED_FACTOR)
            for qa, qt in pairs:
                title_score = max(fuzz.ratio(qt, title), fuzz.ratio(qt, short))
                if artist:
                    pair = ARTIST_SHARE * fuzz.token_sort_ratio(qa, artist) + (1 - ARTIST_SHARE) * title_score
                else:  # a standard with no artist explains the title but not the rest of the name
                    pair = title_score * ARTISTLESS_FACTOR
                score = max(score, pair)
            if score > best_score or (score == best_score and self._year(i) < self._year(best_i)):
                best_i, best_score = i, score
        return self._result(best_i, round(best_score, 1))

    def _shortlist(self, words: Sequence[str]) -> list[int]:
        """Rows sharing the most of the query's rarest words. A misspelt word stands for
        all the catalogue words one slip away from it, as one slot."""
        postings = self._postings
        slots: list[tuple[int, list[str]]] = []
        for w in set(words):
            if w in postings:
                slots.append((len(postings[w]), [w]))
            elif len(w) >= MIN_FUZZY_WORD:
                near = self._near_words(w)
                if near:
                    slots.append((sum(len(postings[n]) for n in near), near))
        if not slots:
            return []
        slots.sort()
        counts: Counter[int] = Counter()
        for _, group in slots[:RARE_WORDS]:
            if len(group) == 1:
                counts.update(postings[group[0]])
            else:
                counts.update({i for n in group for i in postings[n]})
        return [i for i, _ in counts.most_common(SHORTLIST)]

    def _near_words(self, word: str) -> list[str]:
        """Catalogue words one edit (or one swap of neighbours) away from `word`."""
        if self._delete_index is None:
            index: dict[str, list[str]] = defaultdict(list)
            for w in self._postings:
                if len(w) >= MIN_FUZZY_WORD:
                    for d in _deletes(w):
                        index[d].append(w)
            self._delete_index = dict(index)
        found: set[str] = set(self._delete_index.get(word, ()))      # a letter missing
        for d in _deletes(word):
            if d in self._postings:                                    # a letter too many
                found.add(d)
            found.update(self._delete_index.get(d, ()))                # wrong or swapped
        return sorted(found)

    def _earliest(self, i: int) -> tuple[int, bool]:
        """Among equally good rows: the earliest year, then one that names an artist."""
        return self._year(i), not self.catalogue.artists[i]

    def _year(self, i: int) -> int:
        return self.catalogue.entries[i].year if i >= 0 else 10**6

    def _result(self, i: int, score: float) -> Match:
        e = self.catalogue.entries[i]
        return Match(title=e.title, artist=e.artist, year=e.year, score=score, source=e.source, index=i)


def _pairs(parts: list[str]) -> list[tuple[str, str]]:
    """Plausible (artist, title) readings of a name's parts, both ways round."""
    if len(parts) < 2:
        return []
    first, last = parts[0], parts[-1]
    head, tail = " ".join(parts[:-1]), " ".join(parts[1:])
    options = [(first, tail), (tail, first), (head, last), (last, head)]
    seen: list[tuple[str, str]] = []
    for o in options:
        if o not in seen:
            seen.append(o)
    return seen


@lru_cache(maxsize=1)
def default_matcher() -> Matcher:
    """The matcher over the bundled catalogue, built once per process."""
    return Matcher(bundled())
