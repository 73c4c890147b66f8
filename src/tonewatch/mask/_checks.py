"""Checksums that separate real identifiers from look-alike numbers.

A 16-digit order number is not a card and a random ``DE..`` string is not an IBAN:
verifying the check digits keeps precision high without needing context words.
"""

from __future__ import annotations

from typing import Final

__all__ = ["IBAN_LENGTHS", "iban_valid", "luhn_valid", "ssn_valid"]

# Total IBAN length per country (ISO 13616 registry).
IBAN_LENGTHS: Final[dict[str, int]] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27,
    "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25,
    "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18,
    "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33,
    "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip


def luhn_valid(digits: str) -> bool:
    """Luhn (mod 10) check of a string of ASCII digits."""
    if not digits.isascii() or not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_valid(iban: str) -> bool:
    """ISO 7064 mod 97 check of a compact IBAN (no spaces), plus its country's length."""
    iban = iban.upper()
    if not iban.isascii() or not iban.isalnum() or IBAN_LENGTHS.get(iban[:2]) != len(iban):
        return False
    if not iban[2:4].isdigit():
        return False
    rearranged = iban[4:] + iban[:4]
    remainder = 0
    for ch in rearranged:
        value = ord(ch) - 48 if ch.isdigit() else ord(ch) - 55
        remainder = (remainder * (100 if value > 9 else 10) + value) % 97
    return remainder == 1


def ssn_valid(area: str, group: str, serial: str) -> bool:
    """US SSN ranges the SSA never issues: area 000, 666 and 9xx, group 00, serial 0000."""
    return area not in {"000", "666"} and not area.startswith("9") and group != "00" and serial != "0000"
