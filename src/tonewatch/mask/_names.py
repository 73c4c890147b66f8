"""Personal names where support messages reliably carry them: greetings, sign-offs, self-introductions.

Finding every name in free text needs a NER model; finding the names that matter here
does not: customers and agents name each other in the greeting ("Hi Maria,"), sign
their messages ("Best regards, Anna Müller", "— Pierre") and introduce themselves
("my name is ..."). A name found there is then masked everywhere else in the message.
Greeting words and titles stay, so the text still reads (and scores) naturally;
audiences ("Hi team", "Dear Support", "Thanks, the Acme team") are never names.

The context patterns run on the lowercase text (same offsets, see :class:`Source`) with
trie-factored word lists; capitalisation is then checked on the original text.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Final

from ._source import Source, keywords, split_words
from ._union import word_union

__all__ = ["NON_NAMES", "find_names"]

Span = tuple[int, int]

# Atomic: a name candidate is the next one to five words, never re-split on backtracking
# (which made a failed sign-off match cost tens of microseconds).
_TOKEN = r"(?:[^\W\d_]\.|[^\W\d_]++(?:['’\-][^\W\d_]++)*+)"
_SEQ = rf"(?>{_TOKEN}(?:[ \t]+{_TOKEN}){{0,4}})"
# A name ends its line, or is followed by a "| Company" / "· Title" part of the same signature line.
_LINE_END = r"(?=[ \t]*(?:[.!,]?[ \t]*(?:\r?\n|\Z)|[|·][^\n]*(?:\r?\n|\Z)))"

_GREETINGS = (
    "hi", "hello", "hey", "hiya", "dear", "good morning", "good afternoon", "good evening", "greetings",
    "hola", "buenos días", "buenos dias", "buenas tardes", "buenas noches", "buenas", "estimado", "estimada",
    "querido", "querida", "bonjour", "bonsoir", "salut", "coucou", "cher", "chère", "chere", "hallo",
    "guten tag", "guten morgen", "guten abend", "liebe", "lieber", "sehr geehrte", "sehr geehrter", "moin",
    "servus", "ciao", "buongiorno", "gentile", "olá", "ola", "oi", "hej", "hei",
)  # fmt: skip

_SIGN_OFFS = (
    "thanks", "thank you", "thanks again", "thanks so much", "thank you so much", "many thanks", "thanks a lot",
    "thx", "ty", "cheers", "regards", "best regards", "kind regards", "warm regards", "warmest regards",
    "kindest regards", "best wishes", "best", "all the best", "sincerely", "yours sincerely", "sincerely yours",
    "yours truly", "yours faithfully", "respectfully", "cordially", "take care", "talk soon", "with thanks",
    "saludos", "un saludo", "saludos cordiales", "atentamente", "muchas gracias", "gracias", "un abrazo",
    "cordialement", "bien cordialement", "merci", "merci beaucoup", "bien à vous", "salutations", "amicalement",
    "mit freundlichen grüßen", "mit freundlichen grüssen", "freundliche grüße", "viele grüße", "beste grüße",
    "liebe grüße", "herzliche grüße", "lg", "mfg", "vg", "danke", "vielen dank", "gruß", "grüße",
    "cumprimentos", "obrigado", "obrigada", "grazie", "distinti saluti", "cordiali saluti",
)  # fmt: skip

_TITLES = (
    "mr", "mrs", "ms", "mx", "miss", "dr", "prof", "sr", "sra", "srta", "señor", "señora", "don", "doña",
    "m", "mme", "mlle", "monsieur", "madame", "herr", "frau", "signor", "signora",
)  # fmt: skip

_STRONG_INTROS = (
    "my name is", "my name's", "me llamo", "mi nombre es", "je m'appelle", "je m’appelle", "mon nom est",
    "ich heiße", "ich heisse", "mein name ist",
)  # fmt: skip
_WEAK_INTROS = ("this is", "i'm", "i’m", "i am", "soy", "ici")

_PARTICLES: Final = frozenset(split_words("van von der den de del della di da du la le bin ibn al dos das ter y"))

NON_NAMES: Final = frozenset(
    split_words(
        """
    team teams there all everyone everybody anyone someone support customer customers service services care
    sir sirs madam madame folks guys friends people again help helpdesk desk admin admins agent agents manager
    managers sales billing account accounts hello hi hey thanks thank regards you your yours our we us me my i
    i'm i've i'd i'll the a an it its it's this that these those please kindly ok okay yes no not good great
    morning afternoon evening day urgent important question questions issue issues problem sorry dear department
    staff colleagues member members user users client clients partner partners world here can could would will
    is are was were do does did have has had just when what where why how who which since after before today
    yesterday tomorrow unfortunately also still hope quick following regarding re about as so but and or if to
    in on for with from at by of need want got get sent iphone android mobile outlook gmail best kind warm many
    cheers sincerely truly respectfully faithfully ps fw fwd subject order orders ticket tickets invoice refund
    plan premium pro basic enterprise subscription app website company inc ltd llc gmbh corp corporation co
    monday tuesday wednesday thursday friday saturday sunday very really ridiculous unacceptable disappointed
    frustrated happy sad angry upset confused new old valued
    equipo soporte servicio atención cliente clientes todos todas señor señora señores amigos buenos gracias
    hola yo mi mis nosotros tengo necesito por favor su sus el la los las usted
    équipe client clients tous toutes monsieur messieurs mesdames merci bonjour je j'ai nous mon ma mes votre vos
    le les
    grüße grüsse gruß gruss
    mr mrs ms mx miss dr prof sr sra srta señor señora don doña m mme mlle herr frau signor signora
    damen herren kundenservice kundendienst zusammen alle leute danke hallo ihr ihre euer sie du ich wir mein meine
    bitte leider vielen dank
    email phone card iban ssn ip address name url_token secret
    """
    )
)

_WEAK_INTRO_FIRST: Final = frozenset({"this", "i'm", "i’m", "i", "soy", "ici"})


def _title() -> str:
    return rf"(?:{word_union(_TITLES)}\.?[ \t]+)?"


@cache
def _greeting_re() -> re.Pattern[str]:
    return re.compile(rf"[\n.!?][ \t>]*(?:{word_union(_GREETINGS)})(?P<comma>,)?[ \t]+{_title()}(?P<name>{_SEQ})")


@cache
def _sign_off_re() -> re.Pattern[str]:
    return re.compile(
        rf"[\n.!?][ \t>]*+(?:{word_union(_SIGN_OFFS)})[ \t]*+[,.!:;\-–—]?+[ \t]*+(?:\r?\n[ \t>]*+){{0,2}}+"
        rf"{_title()}(?P<name>{_SEQ}){_LINE_END}"
    )


@cache
def _dash_re() -> re.Pattern[str]:
    return re.compile(rf"\n[ \t>]*(?P<dash>--?|[–—])[ \t]*(?:\r?\n[ \t]*)?{_title()}(?P<name>{_SEQ}){_LINE_END}")


_FIELDS = (
    "name", "full name", "customer name", "contact name", "account holder name", "your name", "my name", "nombre",
    "nom", "vorname", "nachname",
)  # fmt: skip


@cache
def _name_field_re() -> re.Pattern[str]:
    return re.compile(rf"\n[ \t>]*(?:{word_union(_FIELDS)})[ \t]*:[ \t]*(?P<name>{_SEQ}){_LINE_END}")


@cache
def _intro_re() -> re.Pattern[str]:
    # Anchored with .match() where the phrase was found.
    phrases = word_union(_STRONG_INTROS + _WEAK_INTROS)
    return re.compile(rf"(?P<intro>{phrases})[ \t]+{_title()}(?P<name>{_SEQ})")


def _first_words(phrases: tuple[str, ...]) -> frozenset[str]:
    return frozenset(p.split()[0] for p in phrases)


_GREETING_FIRST: Final = _first_words(_GREETINGS)
_SIGN_OFF_FIRST: Final = _first_words(_SIGN_OFFS)
_FIELD_FIRST: Final = _first_words(_FIELDS)
_ANY_FIRST: Final = keywords(_GREETING_FIRST | _SIGN_OFF_FIRST | _FIELD_FIRST)


@cache
def _start_re() -> re.Pattern[str]:
    # A line or sentence that starts with a greeting, sign-off or field word, or a dash: the
    # engine filters the candidates, Python only looks at the few that remain.
    firsts = word_union(_GREETING_FIRST | _SIGN_OFF_FIRST | _FIELD_FIRST)
    return re.compile(rf"[\n.!?][ \t>]*(?:(?P<word>{firsts})(?![^\W\d_])|(?P<dash>--?|[–—]))")


def _intro_phrases_by_key() -> dict[bytes, tuple[str, ...]]:
    by_key: dict[bytes, list[str]] = {}
    for phrase in _STRONG_INTROS + _WEAK_INTROS:
        by_key.setdefault(re.findall(r"\w+", phrase)[-1].encode("utf-8"), []).append(phrase)
    return {key: tuple(phrases) for key, phrases in by_key.items()}


# Introduction phrases by the last word they need to be present ("is" -> "my name is", "this is").
_INTRO_BY_KEY: Final = _intro_phrases_by_key()
_INTRO_KEYS: Final = frozenset(_INTRO_BY_KEY)


@cache
def _weak_follow_re() -> re.Pattern[str]:
    return re.compile(r"[ \t]*(?:[,.;!]|\r?\n|\Z|(?:from|here|at|with|of|de|del|von|speaking)\b)")


def _tokens(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    pos = start
    for part in text[start:end].split():
        s = text.index(part, pos)
        spans.append((s, s + len(part)))
        pos = s + len(part)
    return spans


def _name_run(text: str, start: int, end: int, *, whole: bool) -> Span | None:
    """The leading run of capitalised name tokens in ``text[start:end]``; with ``whole`` all must qualify.

    A capitalised non-name in the run ("Dear Valued Customer", "Hi I ...") rejects it: those
    are audiences and sentence starts, not people.
    """
    tokens = _tokens(text, start, end)
    run_end: int | None = None
    for i, (s, e) in enumerate(tokens):
        token = text[s:e]
        if token.casefold() in _PARTICLES and run_end is not None and i + 1 < len(tokens):
            continue
        if token[0].isupper():
            if token.rstrip(".").casefold() in NON_NAMES:
                return None
            run_end = e
        elif whole:
            return None
        else:
            break
    if run_end is None or (whole and run_end != tokens[-1][1]):
        return None
    return (start, run_end)


def _at_line_starts(src: Source) -> list[Span]:
    """Greetings, sign-offs, dash signatures and "Name:" fields."""
    text = src.text
    if not (src.has_word(_ANY_FIRST) or "-" in text or "–" in text or "—" in text):
        return []
    spans: list[Span] = []
    padded, low = "\n" + text, "\n" + src.low
    for m in _start_re().finditer(low):
        pos = m.start()
        word = m.group("word")
        span: Span | None = None
        if word is None:
            d = _dash_re().match(low, pos)
            # A lone "-" starts list items too: accept it only on the message's last line.
            if d is not None and not (d.group("dash") == "-" and low[d.end() :].strip()):
                span = _name_run(padded, *d.span("name"), whole=True)
        else:
            if word in _GREETING_FIRST and (g := _greeting_re().match(low, pos)) is not None:
                span = _name_run(padded, *g.span("name"), whole=False)
                # "Hello, Maria." needs the name to end the clause; "Hello Maria how are you" does not.
                if span is not None and g.group("comma") and not _weak_follow_re().match(low, span[1]):
                    span = None
            if span is None and word in _SIGN_OFF_FIRST and (o := _sign_off_re().match(low, pos)) is not None:
                span = _name_run(padded, *o.span("name"), whole=True)
            if span is None and word in _FIELD_FIRST and (f := _name_field_re().match(low, pos)) is not None:
                span = _name_run(padded, *f.span("name"), whole=True)
        if span is not None:
            spans.append((span[0] - 1, span[1] - 1))
    return spans


def _introductions(src: Source) -> list[Span]:
    """ "my name is X", "this is X from ...", "je m'appelle X" ..."""
    text, low = src.text, src.low
    spans: list[Span] = []
    for key in src.words & _INTRO_KEYS:
        for phrase in _INTRO_BY_KEY[key]:
            i = low.find(phrase)
            while i != -1:
                m = None if i and (low[i - 1].isalnum() or low[i - 1] in "_<") else _intro_re().match(low, i)
                i = low.find(phrase, i + 1)
                if m is None:
                    continue
                span = _name_run(text, *m.span("name"), whole=False)
                if span is None:
                    continue
                weak = m.group("intro").replace("’", "'").split()[0] in _WEAK_INTRO_FIRST
                if weak and not _weak_follow_re().match(low, span[1]):
                    continue
                spans.append(span)
    return spans


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch in "_'’-"


def _repeats(text: str, names: set[str]) -> list[Span]:
    """Every other whole-word, same-case occurrence of the names found."""
    spans: list[Span] = []
    n = len(text)
    for name in names:
        i = text.find(name)
        while i != -1:
            end = i + len(name)
            if (i == 0 or not _is_word_char(text[i - 1])) and (end == n or not _is_word_char(text[end])):
                spans.append((i, end))
            i = text.find(name, end)
    return spans


@cache
def _signature_line_re() -> re.Pattern[str]:
    return re.compile(rf"\n[ \t>]*(?P<name>{_SEQ})[ \t]*[|·][^\n]*\s*\Z")


def _signature_line(src: Source) -> list[Span]:
    """A last line "Barbara Williams | Ironfin Consulting": a signature even without a sign-off word."""
    if "|" not in src.text and "·" not in src.text:
        return []
    m = _signature_line_re().search("\n" + src.low)
    if m is None:
        return []
    span = _name_run("\n" + src.text, *m.span("name"), whole=True)
    return [] if span is None else [(span[0] - 1, span[1] - 1)]


def find_names(src: Source) -> list[Span]:
    """Names in greetings, sign-offs and introductions, then every other whole-word use of them."""
    text = src.text
    spans = _at_line_starts(src) + _introductions(src) + _signature_line(src)
    if not spans:
        return spans
    names: set[str] = set()
    for s, e in spans:
        for part in text[s:e].split():
            if len(part) >= 3 and part.casefold() not in _PARTICLES and not part.endswith("."):
                names.add(part)
    spans.extend(_repeats(text, names))
    return spans
