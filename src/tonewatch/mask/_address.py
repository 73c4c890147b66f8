"""Street addresses in the common English, French, Spanish/Italian and German/Dutch layouts.

An address needs a house number *and* a street-type word (Street, Ave, rue, Calle,
-straße ...) next to capitalised name words, which is what separates "221B Baker Street"
from "3 days ago". A unit ("Apt 4B") and a postcode with its town are included when they
follow directly.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Final

from ._source import Source, keywords, split_words

__all__ = ["find_addresses"]

Span = tuple[int, int]

_UP = "A-ZÀ-ÖØ-Þ"
_CAP = rf"[{_UP}][\w'’.-]*"
_PLACE = rf"[{_UP}][\w'’-]*"

_EN_SUFFIX = (
    "Street|St|Avenue|Ave|Av|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Place|Pl|Way|Terrace|Ter|Parkway|Pkwy|"
    "Highway|Hwy|Circle|Cir|Square|Sq|Crescent|Cres|Trail|Trl|Alley|Plaza|Mews|Grove|Gardens|Expressway|Expy|"
    "Freeway|Fwy"
)
_DIRECTION = r"(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West)\.?"
_UNIT = (
    r"(?:,?[ \t]*(?:Apt|Apartment|Suite|Ste|Unit|Flat|Floor|Fl|Room|Rm|Bldg|Building|#)"
    r"\.?[ \t]*#?[0-9A-Za-z][\w-]{0,5})"
)
_TOWN = rf"{_PLACE}(?:[ \t]+{_PLACE}){{0,2}}"
_US_TAIL = rf"(?:,[ \t]*{_TOWN},?[ \t]+[A-Z]{{2}}[ \t]+[0-9]{{5}}(?:-[0-9]{{4}})?)"
_UK_TAIL = rf"(?:,[ \t]*{_TOWN},?[ \t]+[A-Z]{{1,2}}[0-9][A-Z0-9]?[ \t]*[0-9][A-Z]{{2}}(?![\w]))"
_EU_TAIL = rf"(?:,?[ \t]+(?:[A-Z]{{1,2}}-)?[0-9]{{4,5}}[ \t]+{_PLACE}(?:[ \t-]+{_PLACE})?)"


@cache
def _english_re() -> re.Pattern[str]:
    # "1600 Pennsylvania Avenue NW, Washington, DC 20500", "221B Baker Street", "350 5th Ave, Suite 3"
    word = rf"(?:{_CAP}|[0-9]{{1,3}}(?:st|nd|rd|th))"
    return re.compile(
        rf"[0-9](?<![\w.,/-].)[0-9]{{0,5}}(?:-[0-9]{{1,4}})?[A-Za-z]?,?[ \t]+(?:{_DIRECTION}[ \t]+)?"
        rf"(?:{word}[ \t]+){{1,4}}?(?:{_EN_SUFFIX})\b\.?(?:[ \t]+{_DIRECTION}(?!\w))?"
        rf"{_UNIT}?(?:{_US_TAIL}|{_UK_TAIL}|{_EU_TAIL})?"
    )


@cache
def _french_re() -> re.Pattern[str]:
    # "10 rue de Rivoli, 75001 Paris", "5 bis avenue des Champs-Élysées"
    kind = r"rue|avenue|av\.|boulevard|bd|place|chemin|allée|allee|impasse|quai|route|cours|passage|square"
    link = r"(?:de|du|des|la|le|les|d'|d’|l'|l’|aux?|sur|en)"
    return re.compile(
        rf"[0-9](?<![\w.,/-].)[0-9]{{0,3}}(?:[ \t]?(?:bis|ter))?,?[ \t]+(?i:{kind})[ \t]+"
        rf"(?:{link}[ \t]*)*{_CAP}(?:[ \t]+(?:{link}[ \t]*)*{_CAP}){{0,4}}{_EU_TAIL}?"
    )


@cache
def _prefixed_re() -> re.Pattern[str]:
    # Street type first, number after: "Calle Mayor 5, 3º B, 28013 Madrid", "Via Roma 10", "C/ Gran Vía, 12"
    kind = (
        r"Calle|C/|Avenida|Avda\.?|Av\.|Plaza|Pza\.?|Paseo|Camino|Carrer|Carretera|Ronda|Travesía|"
        r"Via|Viale|Piazza|Corso|Rua|Praça|Avinguda"
    )
    link = r"(?:de|del|la|las|los|el|y|di|della|dei|degli|da|do|dos|das|d')"
    return re.compile(
        rf"[CAPVRT](?<![\w/].)(?:(?<=[CAPVRT])(?:{_strip_first(kind)}))[ \t]*"
        rf"(?:{link}[ \t]+)*{_CAP}(?:[ \t]+(?:{link}[ \t]+)*{_CAP}){{0,3}},?[ \t]*(?:n[º°o]\.?[ \t]*)?"
        r"[0-9]{1,4}[A-Za-z]?(?![\w])(?:,?[ \t]+[0-9]{1,2}[º°ª]?[ \t]*[A-Za-z]?(?![\w]))?"
        rf"(?:,?[ \t]+[0-9]{{5}}[ \t]+{_PLACE}(?:[ \t]+{_PLACE})?)?"
    )


def _strip_first(alternatives: str) -> str:
    """``Calle|Via`` -> ``(?<=C)alle|(?<=V)ia``: lets the pattern start with a character class."""
    return "|".join(f"(?<={re.escape(a[0])}){a[1:]}" for a in alternatives.split("|"))


@cache
def _german_re() -> re.Pattern[str]:
    # "Hauptstraße 5, 10115 Berlin", "Bahnhofstr. 12a", "Berliner Straße 7", "Keizersgracht 123"
    glued = r"straße|strasse|str\.|weg|gasse|platz|allee|chaussee|straat|laan|gracht|plein|gatan|vägen|vej|gade"
    separate = r"Straße|Strasse|Str\.|Weg|Gasse|Platz|Allee|Chaussee"
    return re.compile(
        rf"[{_UP}](?<![\w-].)(?:[\w-]*?(?:{glued})|[\w-]*[ \t]+(?:{separate}))"
        r"[ \t]+[0-9]{1,3}[ \t]?[a-z]?(?![\w]|[.,/][0-9])"
        rf"(?:,?[ \t]+(?:[A-Z]{{1,2}}-)?[0-9]{{4,5}}[ \t]+{_PLACE}(?:[ \t]+{_PLACE})?)?"
    )


@cache
def _po_box_re() -> re.Pattern[str]:
    return re.compile(r"[Pp](?<!\w.)(?:\.?[ \t]?[Oo]\.?|ost[ \t]+[Oo]ffice)[ \t]+[Bb]ox[ \t]+[0-9]{1,6}(?!\w)")


@cache
def _lowercase_after_re() -> re.Pattern[str]:
    return re.compile(r"[ \t]*[a-zà-ÿ]")


_AMBIGUOUS_PREFIXES = ("Via ", "Plaza ", "Corso ", "Rua ")


def _words(alternatives: str) -> frozenset[bytes]:
    return keywords(re.findall(r"\w+", alternatives.replace("\\", "")))


_EN_TRIGGERS: Final = _words(_EN_SUFFIX)
_FR_TRIGGERS: Final = keywords(
    split_words("rue avenue av boulevard bd place chemin allée allee impasse quai route cours passage square")
)
_PREFIXED_TRIGGERS: Final = keywords(
    split_words(
        """calle c avenida avda av plaza pza paseo camino carrer carretera ronda travesía via viale piazza corso
        rua praça avinguda"""
    )
)
_GERMAN_SUFFIXES: Final = (
    "straße", "strasse", "str.", "weg", "gasse", "platz", "allee", "chaussee", "straat", "laan", "gracht",
    "plein", "gatan", "vägen", "vej", "gade",
)  # fmt: skip


def _patterns(src: Source) -> list[re.Pattern[str]]:
    """Only the layouts whose street-type words occur in the text."""
    patterns: list[re.Pattern[str]] = []
    if src.has_word(_EN_TRIGGERS):
        patterns.append(_english_re())
    if src.has_word(_FR_TRIGGERS):
        patterns.append(_french_re())
    if src.has_word(_PREFIXED_TRIGGERS):
        patterns.append(_prefixed_re())
    for suffix in _GERMAN_SUFFIXES:
        if suffix in src.low:
            patterns.append(_german_re())
            break
    if b"box" in src.words:
        patterns.append(_po_box_re())
    return patterns


def find_addresses(src: Source) -> list[Span]:
    """Street addresses and PO boxes."""
    text = src.text
    spans: list[Span] = []
    for pattern in _patterns(src):
        for m in pattern.finditer(text):
            start, end = m.span()
            while end > start and text[end - 1] in ",. \t":
                end -= 1
            # "Via WhatsApp 3 times" is prose: a street-first layout must not run on into lowercase words.
            if (
                text.startswith(_AMBIGUOUS_PREFIXES, start)
                and "," not in text[start:end]
                and _lowercase_after_re().match(text, end)
            ):
                continue
            spans.append((start, end))
    return spans
