"""Behaviour of PII masking on the cases the product depends on, one rule at a time."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from tonewatch import InvalidTextError
from tonewatch.mask import Entity, Masked, iban_valid, luhn_valid, mask_pii, ssn_valid


def kinds(text: str) -> list[str]:
    return [entity.kind for entity in mask_pii(text).entities]


@pytest.mark.parametrize(
    "text",
    [
        "Ticket #44821 is still open.",
        "order 123456789 never arrived",
        "Order number 555-123-4567 was cancelled.",
        "It broke on 2024-05-12 at 10:30:15, and again on 12/05/2024 and 12.05.2024.",
        "You charged me $1,299.00 instead of €129,90.",
        "Since version 2.3.1 (build 10.4.2.1) nothing syncs.",
        "Card 4111 1111 1111 1112 fails (that one is not Luhn-valid).",
        "Reference 1234 5678 9012 3456 on my statement.",
        "IBAN DE89 3704 0044 0532 0130 01 is rejected.",
        "SSNs 000-12-3456, 666-45-1234, 912-34-5678, 123-00-4567 and 123-45-0000 are all invalid.",
        "We are at 99.95% uptime and 1,250 calls a day.",
        "Hi team,\nHi there,\nDear Support,\nHello everyone,\nDear Sir or Madam,",
        "Thanks, the Acme team",
        "Sehr geehrte Damen und Herren,\nbitte kündigen.",
        "My password is wrong, please reset it.",
    ],
)
def test_look_alikes_are_not_masked(text: str) -> None:
    assert mask_pii(text) == Masked(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Call +44 20 7946 0958 today", "Call <PHONE> today"),
        ("or (555) 123-4567.", "or <PHONE>."),
        ("or 555.123.4567", "or <PHONE>"),
        ("Tel: 06 12 34 56 78", "Tel: <PHONE>"),
        ("call me at 5551234567 please", "call me at <PHONE> please"),
        ("mail john.doe+x@example.co.uk.", "mail <EMAIL>."),
        ("card 4111-1111-1111-1111 declined", "card <CARD> declined"),
        ("Amex 3782 822463 10005", "Amex <CARD>"),
        ("to GB82 WEST 1234 5698 7654 32 please", "to <IBAN> please"),
        ("SSN 078-05-1120.", "SSN <SSN>."),
        ("from 192.168.1.10 and 2001:db8::1", "from <IP> and <IP>"),
        ("at 221B Baker Street, London NW1 6XE.", "at <ADDRESS>."),
        ("a 10 rue de Rivoli, 75001 Paris", "a <ADDRESS>"),
        ("an Hauptstraße 5, 10115 Berlin", "an <ADDRESS>"),
        ("en Calle Mayor 5, 28013 Madrid", "en <ADDRESS>"),
        ("reset?token=abcdef123456&x=1", "reset?token=<URL_TOKEN>&x=1"),
        ("my password is hunter2!", "my password is <SECRET>!"),
    ],
)
def test_structured_pii_is_replaced_in_place(text: str, expected: str) -> None:
    assert mask_pii(text).text == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hi Maria,\nhelp", "Hi <NAME>,\nhelp"),
        ("Dear Mr. Thompson,", "Dear Mr. <NAME>,"),
        ("Hello John Smith, thanks", "Hello <NAME>, thanks"),
        ("Fixed?\nThanks,\nJohn", "Fixed?\nThanks,\n<NAME>"),
        ("Best regards, Anna Müller", "Best regards, <NAME>"),
        ("late again\n— Pierre", "late again\n— <NAME>"),
        ("Saludos, Juan", "Saludos, <NAME>"),
        ("Cordialement, Marie", "Cordialement, <NAME>"),
        ("Mit freundlichen Grüßen, Hans Weber", "Mit freundlichen Grüßen, <NAME>"),
        ("Hi, my name is Priya Patel and", "Hi, my name is <NAME> and"),
        ("Hi Tom, this is Sarah from billing.", "Hi <NAME>, this is <NAME> from billing."),
    ],
)
def test_names_in_greetings_signatures_and_introductions(text: str, expected: str) -> None:
    assert mask_pii(text).text == expected


def test_a_found_name_is_masked_everywhere_in_the_message() -> None:
    text = "Hi Maria,\nMaria from your team promised a call. Mariah is my colleague.\nThanks"
    assert mask_pii(text).text == "Hi <NAME>,\n<NAME> from your team promised a call. Mariah is my colleague.\nThanks"


def test_entities_point_into_the_original_text() -> None:
    text = "Hi Maria, mail me at maria@example.com or call +1 415 555 2671."
    masked = mask_pii(text)
    assert [(e.kind, text[e.start : e.end]) for e in masked.entities] == [
        ("NAME", "Maria"),
        ("EMAIL", "maria@example.com"),
        ("PHONE", "+1 415 555 2671"),
    ]
    assert masked.counts == {"NAME": 1, "EMAIL": 1, "PHONE": 1}
    assert masked.changed
    assert masked.to_dict()["entities"][0] == {"kind": "NAME", "start": 3, "end": 8}
    assert isinstance(masked.entities[0], Entity)


def test_email_beats_the_name_and_card_beats_the_phone_inside_it() -> None:
    assert kinds("Hi Maria,\nmaria.lopez@gmail.com") == ["NAME", "EMAIL"]
    assert kinds("pay with 4111 1111 1111 1111") == ["CARD"]


def test_a_card_glued_to_its_cvv_is_still_found() -> None:
    assert mask_pii("card 4111 1111 1111 1111 123 exp 09/27").text == "card <CARD> 123 exp 09/27"


def test_text_without_pii_is_returned_unchanged_and_equal() -> None:
    text = "The dashboard is so slow 😡 since Monday!!! Please fix it, I love the product otherwise."
    masked = mask_pii(text)
    assert masked.text is text
    assert masked.entities == ()
    assert masked.counts == {}
    assert not masked.changed


def test_non_str_input_is_an_invalid_text_error() -> None:
    with pytest.raises(InvalidTextError) as info:
        mask_pii(b"bytes")  # type: ignore[arg-type]
    assert info.value.field == "text"


@pytest.mark.parametrize(
    "text",
    [
        "1" * 1_000_000,
        "1234 " * 200_000,
        "+1 " * 330_000,
        "a@" * 500_000,
        "ab:" * 330_000,
        "Hi " * 330_000,
        "- " * 500_000,
        "DE89 " * 200_000,
        "(555) " * 160_000,
        "😡🙏\x00\u202e" * 250_000,
    ],
    ids=["digits", "groups", "plus", "at", "hex", "hi", "dash", "iban", "paren", "emoji-control"],
)
def test_a_megabyte_of_adversarial_text_is_linear(text: str) -> None:
    start = time.perf_counter()
    masked = mask_pii(text)
    assert time.perf_counter() - start < 10
    assert len(masked.text) >= len(text) // 2


def test_checksums() -> None:
    assert luhn_valid("4111111111111111")
    assert not luhn_valid("4111111111111112")
    assert not luhn_valid("41111111x1111111")
    assert iban_valid("DE89370400440532013000")
    assert iban_valid("gb82west12345698765432")
    assert not iban_valid("DE89370400440532013001")
    assert not iban_valid("DE8937040044053201300")  # wrong length for DE
    assert not iban_valid("XX89370400440532013000")
    assert ssn_valid("078", "05", "1120")
    assert not ssn_valid("666", "05", "1120")
    assert not ssn_valid("900", "05", "1120")
    assert not ssn_valid("078", "00", "1120")
    assert not ssn_valid("078", "05", "0000")


def test_importing_the_package_builds_nothing_heavy() -> None:
    code = (
        "import sys, tonewatch.mask as m; "
        "assert 'cryptography' not in sys.modules; "
        "from tonewatch.mask import _structured; "
        "assert _structured._card_re.cache_info().currsize == 0; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("The export failed again.\n\nBarbara Williams | Ironfin Consulting LLC", "<NAME> | Ironfin Consulting LLC"),
        ("Regards, Barbara Williams | Ironfin", "Regards, <NAME> | Ironfin"),
        ("Plan | Price\nPro | 20", "Plan | Price\nPro | 20"),
    ],
)
def test_signature_lines_with_a_company_part(text: str, masked: str) -> None:
    assert mask_pii(text).text.endswith(masked)
