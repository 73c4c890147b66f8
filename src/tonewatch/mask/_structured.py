"""Detectors for PII with a recognisable shape: emails, secrets, IBANs, cards, SSNs, IPs, phones.

Each detector takes a :class:`Source` and returns ``(start, end)`` spans of its text.
Patterns are compiled once, on first use, start with a literal or a character class so
the regex engine can skip ahead quickly, and are not run at all when the text lacks
their trigger characters or words (masking runs on every message). Checksums
(Luhn, mod 97, SSN ranges) and context words keep look-alike numbers such as order
IDs, dates, amounts and version numbers unmasked.
"""

from __future__ import annotations

import ipaddress
import re
from functools import cache
from typing import Final

from ._checks import IBAN_LENGTHS, iban_valid, luhn_valid, ssn_valid
from ._source import Source, keywords, split_words
from ._union import word_union

__all__ = [
    "find_cards",
    "find_emails",
    "find_ibans",
    "find_ips",
    "find_phones",
    "find_secrets",
    "find_ssns",
    "find_url_tokens",
]

Span = tuple[int, int]

_LOCAL_CHARS: Final = frozenset("._%+-'")


@cache
def _email_re() -> re.Pattern[str]:
    return re.compile(r"@(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_]{2,24}(?![\w-])")


def find_emails(src: Source) -> list[Span]:
    """``local@domain.tld``; the regex anchors on ``@`` and the local part is walked back by hand."""
    text = src.text
    if "@" not in text:
        return []
    spans: list[Span] = []
    for m in _email_re().finditer(text):
        start = m.start()
        limit = max(0, start - 64)
        while start > limit and (text[start - 1].isalnum() or text[start - 1] in _LOCAL_CHARS):
            start -= 1
        while start < m.start() and text[start] in ".'":
            start += 1
        if start < m.start():
            spans.append((start, m.end()))
    return spans


@cache
def _url_token_re() -> re.Pattern[str]:
    names = (
        r"access_token|refresh_token|id_token|reset_token|auth_token|token|auth|api_?key|apikey|key|secret|"
        r"client_secret|password|passwd|pwd|code|otp|sig|signature|session_?id|sessionid|sid|jwt"
    )
    return re.compile(rf"[?&#;](?i:{names})=([^&#\s\"'<>]{{4,}})")


def find_url_tokens(src: Source) -> list[Span]:
    """Values of credential-like query parameters (``?token=...``); the rest of the URL stays."""
    if "=" not in src.text:
        return []
    return [m.span(1) for m in _url_token_re().finditer(src.text)]


@cache
def _api_key_re() -> re.Pattern[str]:
    return re.compile(
        r"[sprgAxeg](?<![\w-].)"
        r"(?:(?<=[spr])k_(?:live|test)_[0-9A-Za-z]{8,}"
        r"|(?<=g)h[pousr]_[0-9A-Za-z]{20,}|(?<=g)ithub_pat_\w{20,}"
        r"|(?<=A)KIA[0-9A-Z]{16}"
        r"|(?<=x)ox[abprs]-[0-9A-Za-z-]{10,}"
        r"|(?<=e)yJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,})(?![\w-])"
    )


_PASSWORD_WORDS: Final = (
    "mot de passe", "contraseña", "passwort", "password", "passcode", "kennwort", "pin code", "passwd", "clave",
    "pwd", "pin",
)  # fmt: skip


@cache
def _password_re() -> re.Pattern[str]:
    # First letter as a class so the engine can skip ahead; the rest is matched case-insensitively.
    firsts = "".join(sorted({w[0] for w in _PASSWORD_WORDS} | {w[0].upper() for w in _PASSWORD_WORDS}))
    rests = "|".join(f"(?<=[{w[0]}{w[0].upper()}]){re.escape(w[1:])}" for w in _PASSWORD_WORDS)
    return re.compile(
        rf"[{firsts}](?<![\w<].)(?i:{rests})\b"
        r"(?:(?i:[ \t]+(?:is|was|es|era|est|était|ist|war)\b)[ \t]*[:=]?|[ \t]*[:=]|[ \t]+)"
        r"[ \t]*[\"'“‘«]?[ \t]*([^\s\"'”’»<>(\-–—][^\s\"'”’»<>]{3,63})"
    )


@cache
def _bearer_re() -> re.Pattern[str]:
    return re.compile(r"[Bb](?<![\w<].)earer[ \t]+([\w\-.~+/]{16,}=*)")


_API_KEY_MARKERS: Final = (
    "k_live_",
    "k_test_",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "AKIA",
    "xox",
    "eyJ",
)
_PASSWORD_TRIGGERS: Final = keywords(
    split_words("password passwort passwd pwd passcode pin contraseña clave mot kennwort")
)

_NOT_A_SECRET: Final = frozenset(
    split_words(
        "reset wrong incorrect invalid expired changed correct working anymore being still again please the "
        "this that which when because manager field page link email"
    )
)


def _strip_trailing_punctuation(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1] in ".,;:!?)]}":
        end -= 1
    return end


def find_secrets(src: Source) -> list[Span]:
    """API keys with well-known prefixes, bearer tokens, JWTs and ``password: ...`` values."""
    text = src.text
    spans: list[Span] = []
    for marker in _API_KEY_MARKERS:
        if marker in text:
            spans.extend(m.span() for m in _api_key_re().finditer(text))
            break
    if b"bearer" in src.words:
        spans.extend(m.span(1) for m in _bearer_re().finditer(text))
    if not src.has_word(_PASSWORD_TRIGGERS):
        return spans
    for m in _password_re().finditer(text):
        start, end = m.span(1)
        end = _strip_trailing_punctuation(text, start, end)
        value = text[start:end]
        if len(value) < 4 or value.casefold() in _NOT_A_SECRET:
            continue
        # A bare word after "password" is usually prose ("password is wrong"): only values with a
        # digit or a symbol, the way real passwords look, are masked.
        if any(not ch.isalpha() for ch in value) and any(ch.isalnum() for ch in value):
            spans.append((start, end))
    return spans


@cache
def _iban_re() -> re.Pattern[str]:
    return re.compile(r"[A-Z](?<![A-Za-z0-9].)[A-Z][0-9]{2}(?=[ -]?[A-Za-z0-9])")


def find_ibans(src: Source) -> list[Span]:
    """IBANs, compact or grouped, with the country's length and the mod 97 check verified."""
    text = src.text
    spans: list[Span] = []
    n = len(text)
    for m in _iban_re().finditer(text):
        length = IBAN_LENGTHS.get(m.group()[:2])
        if length is None:
            continue
        chars = [m.group()]
        need = length - 4
        pos = m.end()
        while need > 0 and pos < n:
            ch = text[pos]
            if ch.isascii() and ch.isalnum():
                chars.append(ch)
                need -= 1
                pos += 1
            elif ch in " -" and pos + 1 < n and text[pos + 1].isascii() and text[pos + 1].isalnum():
                pos += 1
            else:
                break
        if need or (pos < n and text[pos].isalnum()):
            continue
        if iban_valid("".join(chars)):
            spans.append((m.start(), pos))
    return spans


@cache
def _card_re() -> re.Pattern[str]:
    return re.compile(r"[2-6](?<![\w.,-].)(?:[ -]?[0-9]){12,18}(?![\w]|[.,][0-9])")


@cache
def _iban_head_before_re() -> re.Pattern[str]:
    # The digits of a (mistyped) IBAN are neither a card nor a phone: "DE89 3704 0044 ...".
    return re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?:[ -]?[0-9A-Z]{4})*[ -]?\Z")


def _inside_iban(text: str, start: int) -> bool:
    return _iban_head_before_re().search(text, max(0, start - 40), start) is not None


def find_cards(src: Source) -> list[Span]:
    """13-19 digit card numbers, optionally grouped by spaces or dashes, that pass the Luhn check."""
    text = src.text
    spans: list[Span] = []
    for m in _card_re().finditer(text):
        base = m.start()
        raw = m.group()
        positions = [i for i, ch in enumerate(raw) if ch != " " and ch != "-"]
        digits = "".join(raw[i] for i in positions)
        if len(set(digits)) == 1 or _inside_iban(text, base):
            continue
        if luhn_valid(digits):
            spans.append(m.span())
            continue
        # A card glued to another group ("4111 1111 1111 1111 123" with the CVV): try the
        # windows that start and end on group boundaries, longest first.
        starts = [0] + [k for k in range(1, len(positions)) if positions[k] != positions[k - 1] + 1]
        ends = [*starts[1:], len(positions)]
        best: tuple[int, int] | None = None
        for s in starts:
            for e in ends:
                size = e - s
                if (
                    size in (15, 16)
                    and digits[s] in "23456"
                    and (best is None or size > best[1] - best[0])
                    and luhn_valid(digits[s:e])
                ):
                    best = (s, e)
        if best is not None:
            spans.append((base + positions[best[0]], base + positions[best[1] - 1] + 1))
    return spans


@cache
def _ssn_re() -> re.Pattern[str]:
    return re.compile(r"[0-9](?<![\w.,/-].)([0-9]{2})([- ])([0-9]{2})\2([0-9]{4})(?![\w-]|[.,/][0-9])")


@cache
def _ssn_context_re() -> re.Pattern[str]:
    return re.compile(
        r"[sS](?<![\w<].)(?i:sn|ocial security(?: number| no\.?| #)?|s#|s no\.?)[ \t]*(?i:is|:|#|number)?[ \t:#]*"
        r"([0-9]{9})(?!\w)"
    )


_SSN_TRIGGERS: Final = keywords(["ssn", "social", "ss"])


def find_ssns(src: Source) -> list[Span]:
    """US SSNs as ``###-##-####`` (or spaced), or nine digits right after "SSN"; invalid ranges excluded."""
    text = src.text
    spans: list[Span] = []
    for m in _ssn_re().finditer(text):
        area = text[m.start()] + m.group(1)
        if ssn_valid(area, m.group(3), m.group(4)):
            spans.append(m.span())
    if not src.has_word(_SSN_TRIGGERS):
        return spans
    for m in _ssn_context_re().finditer(text):
        value = m.group(1)
        if ssn_valid(value[:3], value[3:5], value[5:]):
            spans.append(m.span(1))
    return spans


@cache
def _ipv4_re() -> re.Pattern[str]:
    return re.compile(r"[0-9](?<![\w.].)[0-9]{0,2}(?:\.[0-9]{1,3}){3}(?!\w|\.[0-9])")


@cache
def _ipv6_re() -> re.Pattern[str]:
    return re.compile(
        r"[0-9A-Fa-f:](?<![\w:.].)[0-9A-Fa-f]{0,3}:(?:[0-9A-Fa-f]{0,4}:){0,6}"
        r"(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9A-Fa-f]{1,4})?(?:%[0-9A-Za-z]{1,15})?(?![\w:])"
    )


@cache
def _ipv6_hint_re() -> re.Pattern[str]:
    # Cheap pre-check (literal first character): any IPv6 address has "::" or ":hhhh:".
    return re.compile(r":[0-9A-Fa-f]{1,4}:")


@cache
def _version_before_re() -> re.Pattern[str]:
    return re.compile(r"(?<!\w)(?:version|ver\.?|v|release|build|firmware|update)[ \t]*:?[ \t]*\Z")


def find_ips(src: Source) -> list[Span]:
    """IPv4 (each octet <= 255, not a ``version 1.2.3.4``) and IPv6 addresses validated by ``ipaddress``."""
    text = src.text
    spans: list[Span] = []
    for m in _ipv4_re().finditer(text) if src.has_digit and "." in text else ():
        octets = m.group().split(".")
        if any(int(o) > 255 or (len(o) > 1 and o[0] == "0") for o in octets):
            continue
        if _version_before_re().search(src.low, max(0, m.start() - 20), m.start()):
            continue
        spans.append(m.span())
    if "::" in text or (":" in text and _ipv6_hint_re().search(text)):
        for m in _ipv6_re().finditer(text):
            candidate = m.group()
            if not any(ch in "0123456789abcdefABCDEF" for ch in candidate):
                continue
            try:
                ipaddress.IPv6Address(candidate.split("%", 1)[0])
            except ValueError:
                continue
            spans.append(m.span())
    return spans


@cache
def _phone_intl_re() -> re.Pattern[str]:
    # "+44 20 7946 0958", "+1-555-123-4567", "+44 (0)20 7946 0958", "+33142685300"
    return re.compile(
        r"\+(?<![\w+].)[0-9]{1,3}+(?:[ .\-]?(?:\([0-9]{1,4}\)|[0-9]++)){1,6}+(?:[ \t]*(?:x|ext\.?)[ \t]*[0-9]{1,5})?"
        r"(?![\w+]|[.,][0-9])"
    )


@cache
def _phone_00_re() -> re.Pattern[str]:
    # "0044 20 7946 0958", "00 49 30 1234567"
    return re.compile(r"0(?<![\w+.,/-].)0[ ]?[1-9][0-9]{0,2}+(?:[ .\-][0-9]++){2,6}+(?![\w]|[.,/][0-9])")


@cache
def _phone_nanp_re() -> re.Pattern[str]:
    # "(555) 123-4567", "555-123-4567", "555.123.4567", "1-800-555-0199", "555 123 4567"
    return re.compile(
        r"[0-9(](?<![\w+.,/-].)"
        r"(?:(?<=1)[ .\-]?(?:\([0-9]{3}\)[ ]?|[0-9]{3}[ .\-])|(?<=\()[0-9]{3}\)[ ]?|(?<=[0-9])[0-9]{2}[ .\-])"
        r"[0-9]{3}[ .\-][0-9]{4}(?:[ \t]*(?:x|ext\.?)[ \t]*[0-9]{1,5})?(?![\w]|[.,/\-][0-9])"
    )


@cache
def _phone_national_re() -> re.Pattern[str]:
    # Trunk-prefixed national numbers: "020 7946 0958", "06 12 34 56 78", "030 12345678", "0171-2345678"
    return re.compile(r"0(?<![\w+.,/-].)[0-9]{1,4}+(?:[ .\-][0-9]{2,8}+){1,4}+(?![\w]|[.,/\-][0-9])")


@cache
def _phone_context_number_re() -> re.Pattern[str]:
    # Any number-like run; only used right after a phone keyword ("call me at 5551234567").
    return re.compile(r"[0-9+(](?<![\w+.,/-].)[0-9().\- ]{6,20}[0-9](?![\w]|[.,/\-][0-9])")


_PHONE_WORDS: Final = (
    "phone", "phone number", "tel", "telephone", "mobile", "mob", "cell", "cellphone", "fax", "whatsapp", "call me",
    "call us", "call back", "callback", "reach me", "text me", "my number", "contact number", "landline", "hotline",
    "teléfono", "telefono", "tlf", "móvil", "movil", "celular", "llámame", "llamadme", "llamar", "téléphone",
    "portable", "appelez-moi", "appeler", "telefon", "handy", "mobil", "rufnummer", "ruf mich", "anrufen",
)  # fmt: skip

_ID_WORDS: Final = (
    "order", "invoice", "ticket", "case", "ref", "reference", "tracking", "confirmation", "serial", "sku", "account",
    "acct", "customer", "booking", "transaction", "txn", "receipt", "id", "pedido", "factura", "commande", "facture",
    "bestellung", "rechnung", "kunden", "nr", "no", "n°", "nº",
)  # fmt: skip


@cache
def _phone_keyword_re() -> re.Pattern[str]:
    # Searched in the lowercase text just before a bare number.
    return re.compile(rf"(?<![\w<])(?:{word_union(_PHONE_WORDS)})\b[^\n0-9]{{0,25}}\Z")


@cache
def _id_before_re() -> re.Pattern[str]:
    # Searched in the lowercase text just before a number: "order no. 555-123-4567" is an order.
    return re.compile(
        rf"(?:(?<![\w<])(?:{word_union(_ID_WORDS)})\b\.?|#)[ \t]*(?:number|num|no\.?|nr\.?|id|#)?[ \t]*[:#]?[ \t]*\Z"
    )


@cache
def _date_re() -> re.Pattern[str]:
    return re.compile(r"[0-9]{4}[./\-][0-9]{1,2}[./\-][0-9]{1,2}|[0-9]{1,2}[./\-][0-9]{1,2}[./\-][0-9]{2,4}")


@cache
def _ssn_shape_re() -> re.Pattern[str]:
    return re.compile(r"[0-9]{3}([- ])[0-9]{2}\1[0-9]{4}")


def _digit_count(s: str) -> int:
    return sum(1 for ch in s if "0" <= ch <= "9")


def _preceded_by_id_word(src: Source, start: int) -> bool:
    return _id_before_re().search(src.low, max(0, start - 30), start) is not None or _inside_iban(src.text, start)


_PHONE_TRIGGERS: Final = keywords(
    split_words(
        """phone phones tel telephone mobile mob cell cellphone fax whatsapp call reach text number landline hotline
        teléfono telefono tlf móvil movil celular llámame llamadme llamar téléphone portable appelez appeler
        telefon handy mobil rufnummer ruf anrufen"""
    )
)


def find_phones(src: Source) -> list[Span]:
    """Phone numbers in international, North American and trunk-prefixed national formats.

    Bare digit runs are masked only right after a phone keyword; numbers introduced as an
    order, ticket, invoice or reference number are left alone, as are dates, times,
    amounts and version numbers (none of which have a phone's grouping).
    """
    text = src.text
    spans: list[Span] = []
    for m in _phone_intl_re().finditer(text) if "+" in text else ():
        raw = m.group()
        trunk = raw.replace("(0)", "")
        if 8 <= _digit_count(trunk) <= 15:
            spans.append(m.span())
    for m in _phone_00_re().finditer(text) if "00" in text else ():
        if 10 <= _digit_count(m.group()) <= 17 and not _preceded_by_id_word(src, m.start()):
            spans.append(m.span())
    for m in _phone_nanp_re().finditer(text):
        if not _preceded_by_id_word(src, m.start()):
            spans.append(m.span())
    for m in _phone_national_re().finditer(text) if "0" in text else ():
        raw = m.group()
        if (
            9 <= _digit_count(raw) <= 12
            and not _date_re().fullmatch(raw)
            and not _ssn_shape_re().fullmatch(raw)
            and not _preceded_by_id_word(src, m.start())
        ):
            spans.append(m.span())
    if not src.has_word(_PHONE_TRIGGERS):
        return spans
    found = {start for start, _ in spans}
    for m in _phone_context_number_re().finditer(text):
        raw = m.group().rstrip(" ")
        if m.start() in found or not 7 <= _digit_count(raw) <= 15 or _date_re().fullmatch(raw.strip()):
            continue
        if _phone_keyword_re().search(src.low, max(0, m.start() - 45), m.start()):
            spans.append((m.start(), m.start() + len(raw)))
    return spans
