"""Screening buyers' names against the OFAC SDN list (PAY-7).

Names are compared after `normalise`: compatibility decomposition, accents dropped, letters that
do not decompose transliterated (ß->ss, ø->o, ł->l ...), case folded, punctuation removed. The
SDN writes individuals "LAST, First"; comparing token-sorted forms makes word order irrelevant,
so "Milan Drakovic" meets "DRAKOVIC, Milan" at 100.

German umlauts are written two ways in romanised lists: "Müller" is both MULLER and MUELLER.
Both renderings are produced (ü->u by decomposition, ü->ue as an alternate) on both sides, and
the best score wins, so neither spelling slips through.

A full-name similarity (token_sort_ratio) can MATCH. A name contained in a longer listed name
(token_set_ratio) is only ever POSSIBLE, and only when two or more real words back it, the listed
surname among them: a shared first name or an "al"/"de" particle never flags anyone. Entries are normalised once in
`prepare`; each screening is then one C-level pass of rapidfuzz over all names.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Iterable

from rapidfuzz import fuzz, process

from storefront.rules import load

_TRANSLIT = str.maketrans({
    "ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th",
    "ı": "i", "ħ": "h", "ŧ": "t", "ŋ": "ng", "ĸ": "k", "ſ": "s",
})
_UMLAUT_E = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})
_APOSTROPHES = re.compile(r"['’‘`´ʼ]")
_NOT_WORD = re.compile(r"[\W_]+")


class Verdict(StrEnum):
    CLEAR = "clear"
    POSSIBLE = "possible"
    MATCH = "match"


@dataclass(frozen=True)
class SdnEntry:
    uid: str
    name: str
    aliases: tuple[str, ...]
    programs: str
    kind: str  # "individual", "entity", "vessel", "aircraft"


@dataclass(frozen=True)
class ScreeningResult:
    verdict: Verdict
    score: float
    entry: SdnEntry | None
    matched_name: str | None


@dataclass(frozen=True)
class _Rules:
    match_score: float
    possible_score: float
    partial_name_cap: float
    min_shared_tokens: int
    min_token_length: int
    screen_kinds: frozenset[str]


@lru_cache
def _rules() -> _Rules:
    data = load("compliance")["screening"]
    return _Rules(data["match_score"], data["possible_score"], data["partial_name_cap"],
                  data["min_shared_tokens"], data["min_token_length"], frozenset(data["screen_kinds"]))


def normalise(name: str) -> str:
    text = unicodedata.normalize("NFKD", name or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.casefold().translate(_TRANSLIT)
    text = _APOSTROPHES.sub("", text)  # O'Brien -> obrien, as the list often writes it
    return " ".join(_NOT_WORD.sub(" ", text).split())


def _sorted_tokens(normalised: str) -> str:
    return " ".join(sorted(normalised.split()))


def variants(name: str) -> tuple[str, ...]:
    """The token-sorted normal forms of a name: plain, and with umlauts as 'e' when that differs."""
    forms = {_sorted_tokens(normalise(text)) for text in (name or "", (name or "").translate(_UMLAUT_E))}
    return tuple(sorted(f for f in forms if f))


def _surname_words(listed: str, min_length: int) -> frozenset[str]:
    """The words before the comma of a "LAST, First" name, in every rendering; empty otherwise."""
    if "," not in listed:
        return frozenset()
    last = listed.split(",", 1)[0]
    words = {w for text in (last, last.translate(_UMLAUT_E)) for w in normalise(text).split()}
    return frozenset(w for w in words if len(w) >= min_length) or frozenset(words)


@dataclass(frozen=True)
class PreparedList:
    """Every screenable name of a list in normal form; `owners[i]` says whose name `forms[i]` is,
    `surnames[i]` the surname words a partial match on it must include."""

    forms: tuple[str, ...]
    owners: tuple[tuple[SdnEntry, str], ...]
    surnames: tuple[frozenset[str], ...]


def prepare(entries: Iterable[SdnEntry]) -> PreparedList:
    rules = _rules()
    forms, owners, surnames = [], [], []
    for entry in entries:
        if entry.kind.casefold() not in rules.screen_kinds:
            continue
        for listed in dict.fromkeys((entry.name, *entry.aliases)):
            surname = _surname_words(listed, rules.min_token_length)
            for form in variants(listed):
                forms.append(form)
                owners.append((entry, listed))
                surnames.append(surname)
    return PreparedList(tuple(forms), tuple(owners), tuple(surnames))


def _partial_backed(query: str, listed: PreparedList, i: int, rules: _Rules) -> bool:
    """Is a contained-name hit backed by enough real words, the listed surname among them?"""
    shared = {w for w in query.split() if len(w) >= rules.min_token_length} & set(listed.forms[i].split())
    surname = listed.surnames[i]
    return len(shared) >= rules.min_shared_tokens and (not surname or bool(surname & shared))


def screen(name: str, entries: PreparedList | Iterable[SdnEntry]) -> ScreeningResult:
    """The closest listed name to `name` and what it means for the order."""
    listed = entries if isinstance(entries, PreparedList) else prepare(entries)
    queries = variants(name)
    if not queries:
        raise ValueError("A name is needed for sanctions screening.")
    rules = _rules()
    best: tuple[float, int] = (0.0, -1)
    for query in queries:
        # fuzz.ratio on token-sorted forms is token_sort_ratio, without re-sorting 10k names per call
        closest = process.extractOne(query, listed.forms, scorer=fuzz.ratio, processor=None)
        if closest:
            best = max(best, (closest[1], closest[2]))
        for _, score, i in process.extract(query, listed.forms, scorer=fuzz.token_set_ratio, processor=None,
                                           score_cutoff=rules.possible_score, limit=None):
            if _partial_backed(query, listed, i, rules):
                best = max(best, (float(min(score, rules.partial_name_cap)), i))
    score, i = best
    if score < rules.possible_score:
        return ScreeningResult(Verdict.CLEAR, round(score, 1), None, None)  # kept for the audit trail
    entry, matched = listed.owners[i]
    verdict = Verdict.MATCH if score >= rules.match_score else Verdict.POSSIBLE
    return ScreeningResult(verdict, round(score, 1), entry, matched)
