"""Names, organisations and the personal data customers paste into messages.

The pipeline must mask PII before anything is stored, so the demo deliberately contains
realistic emails, phone numbers, names in signatures and the occasional (Luhn-valid, test
range) card number or IBAN. All of it is fictional: example domains, 555 numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from random import Random

__all__ = [
    "Person",
    "card_number",
    "iban",
    "make_person",
    "organisation_name",
]


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_FIRST: dict[str, tuple[str, ...]] = {
    "en": _words(
        "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard "
        "Susan Joseph Jessica Thomas Sarah Chris Karen Daniel Nancy Matthew Lisa Anthony Betty Mark Emily "
        "Steven Ashley Andrew Megan Joshua Rachel Kevin Laura Brian Olivia Ryan Grace Ethan Zoe Aisha Raj "
        "Mei Omar Nina Leo Ava Samir"
    ),
    "es": _words(
        "Lucía Mateo Sofía Santiago Valentina Alejandro Camila Diego Isabella Javier Martina Carlos Elena "
        "Pablo Carmen Andrés Paula Miguel Laura Raúl"
    ),
    "fr": _words(
        "Camille Louis Léa Hugo Manon Jules Chloé Lucas Inès Gabriel Juliette Arthur Clara Théo Sarah "
        "Nathan Élise Antoine Margaux Julien"
    ),
    "de": _words(
        "Lukas Anna Jonas Lena Felix Marie Leon Sophie Paul Laura Maximilian Julia Tobias Katharina "
        "Florian Hannah Sebastian Lea Moritz Clara"
    ),
}

_LAST: dict[str, tuple[str, ...]] = {
    "en": _words(
        "Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore Jackson "
        "Martin Lee Thompson White Harris Clark Lewis Robinson Walker Young Allen King Wright Scott Green "
        "Baker Adams Nelson Hill Campbell Mitchell Carter Patel Nguyen Khan Chen Murphy Kelly Shah"
    ),
    "es": _words(
        "García Fernández González Rodríguez López Martínez Sánchez Pérez Gómez Ruiz Hernández Díaz "
        "Moreno Álvarez Romero Navarro Torres Ramírez"
    ),
    "fr": _words(
        "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefebvre "
        "Michel Garcia David Bertrand Roux Fontaine"
    ),
    "de": _words(
        "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Koch Richter Klein "
        "Wolf Schröder Neumann Schwarz Zimmermann"
    ),
}

_ORG_A = _words(
    "Blue North Bright Silver Red Green Swift Iron Clear Summit Harbor Maple Pine Cedar Quantum Nova "
    "Apex Atlas Lumen Vertex Coastal Granite Orbit Sparrow Falcon Beacon Copper Willow Aurora Delta"
)
_ORG_B = _words(
    "fin bridge leaf stone field wave path line works gate light point peak river forge nest craft wind spark mark"
)
_ORG_KIND = _words(
    "Logistics Analytics Studio Labs Health Media Consulting Foods Retail Energy Systems Architects "
    "Legal Marketing Robotics Travel Education Finance Games Manufacturing Design Partners Software "
    "Biotech"
)
_ORG_SUFFIX = {"en": ("Inc.", "Ltd", "LLC", ""), "es": ("S.L.", "S.A."), "fr": ("SAS", "SARL"), "de": ("GmbH", "AG")}
_TLD = {"en": ("com", "io", "co", "example"), "es": ("es", "example"), "fr": ("fr", "example"), "de": ("de", "example")}
_TITLES = (
    "Head of Operations",
    "Project Manager",
    "IT Administrator",
    "Operations Lead",
    "Office Manager",
    "Engineering Manager",
    "Procurement Manager",
    "Director of IT",
    "PMO Lead",
    "Finance Manager",
    "Head of Product",
    "Chief of Staff",
    "Delivery Manager",
    "Team Lead",
)
_ASCII = str.maketrans("áéíóúñüöäàèçÁÉÍÓÚÑÜÖÄÀÈÇß", "aeiounuoaaecAEIOUNUOAAECs")


@dataclass(frozen=True, slots=True)
class Person:
    """The customer's contact person and organisation, as they would appear in a signature."""

    first: str
    last: str
    organisation: str
    domain: str
    title: str
    email: str
    phone: str

    @property
    def full(self) -> str:
        return f"{self.first} {self.last}"


def organisation_name(rng: Random, language: str) -> tuple[str, str]:
    """A fictional organisation and its (example) email domain."""
    stem = rng.choice(_ORG_A) + rng.choice(_ORG_B)
    kind = rng.choice(_ORG_KIND)
    suffix = rng.choice(_ORG_SUFFIX.get(language, _ORG_SUFFIX["en"]))
    name = f"{stem} {kind} {suffix}".strip()
    domain = f"{stem.lower()}{rng.choice(('', '-' + kind.lower()))}.{rng.choice(_TLD.get(language, _TLD['en']))}"
    return name, domain


def _phone(rng: Random, language: str) -> str:
    """Fictional numbers in the local format (US 555 numbers, plausible EU layouts)."""
    if language == "es":
        return f"+34 6{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)}"
    if language == "fr":
        return "+33 6 " + " ".join(f"{rng.randint(10, 99)}" for _ in range(4))
    if language == "de":
        return f"+49 151 {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}"
    fmt = rng.randrange(3)
    area = rng.choice((212, 312, 415, 503, 617, 646, 720, 737, 917))
    line = rng.randint(100, 199)
    if fmt == 0:
        return f"({area}) 555-0{line}"
    if fmt == 1:
        return f"+1 {area} 555 0{line}"
    return f"{area}-555-0{line}"


def make_person(rng: Random, language: str) -> Person:
    first = rng.choice(_FIRST[language])
    last = rng.choice(_LAST[language])
    organisation, domain = organisation_name(rng, language)
    local = rng.choice(
        (f"{first}.{last}", f"{first[0]}{last}", f"{first}", f"{first}_{last}", f"{first}.{last[0]}")
    ).lower()
    email = f"{local.translate(_ASCII)}@{domain}".replace(" ", "").replace("'", "")
    return Person(first, last, organisation, domain, rng.choice(_TITLES), email, _phone(rng, language))


def _luhn_digit(digits: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def card_number(rng: Random) -> str:
    """A Luhn-valid card number in the Visa or Mastercard test ranges, grouped as people type it."""
    prefix = rng.choice(("4111", "4012", "4242", "5555", "5105"))
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(11))
    digits = body + _luhn_digit(body)
    sep = rng.choice((" ", "-", ""))
    return sep.join(digits[i : i + 4] for i in range(0, 16, 4))


def iban(rng: Random, country: str = "DE") -> str:
    """A checksum-valid IBAN (German layout: 8-digit bank code, 10-digit account)."""
    bban = "".join(str(rng.randrange(10)) for _ in range(18))
    rearranged = bban + "".join(str(ord(c) - 55) for c in country) + "00"
    check = 98 - int(rearranged) % 97
    raw = f"{country}{check:02d}{bban}"
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))
