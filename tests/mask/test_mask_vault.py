"""Raw text at rest: encrypted with Fernet, only when the operator opts in, with clear key errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tonewatch import ConfigurationError
from tonewatch.mask import RawTextVault
from tonewatch.settings import Settings

KEY = RawTextVault.generate_key()
VAULT = RawTextVault(KEY)


@settings(deadline=None, max_examples=50)
@given(st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=500))
def test_round_trip_of_any_text(text: str) -> None:
    assert VAULT.decrypt(VAULT.encrypt(text)) == text


def test_token_hides_the_text_and_is_not_deterministic() -> None:
    text = "Hi Maria, my card is 4111 1111 1111 1111"
    first, second = VAULT.encrypt(text), VAULT.encrypt(text)
    assert "Maria" not in first
    assert "4111" not in first
    assert first != second
    assert first.isascii()


def test_generated_keys_differ_and_work() -> None:
    other = RawTextVault.generate_key()
    assert other != KEY
    assert RawTextVault(other).decrypt(RawTextVault(other).encrypt("x")) == "x"


@pytest.mark.parametrize("key", ["", "not-a-key", "x" * 44, "  ,  ", "ключ"])
def test_bad_key_is_a_configuration_error_naming_the_setting(key: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        RawTextVault(key)
    assert info.value.field == "encryption_key"


def test_wrong_key_or_tampered_token_cannot_be_decrypted() -> None:
    token = VAULT.encrypt("secret text")
    with pytest.raises(ConfigurationError) as info:
        RawTextVault(RawTextVault.generate_key()).decrypt(token)
    assert info.value.code == "decryption_failed"
    tampered = token[:-4] + ("AAAA" if token[-4:] != "AAAA" else "BBBB")
    with pytest.raises(ConfigurationError):
        VAULT.decrypt(tampered)
    with pytest.raises(ConfigurationError):
        VAULT.decrypt("ünïcode is never a token")


def test_key_rotation_new_key_first_old_keys_still_decrypt() -> None:
    old_token = VAULT.encrypt("kept for audit")
    new_key = RawTextVault.generate_key()
    rotating = RawTextVault(f"{new_key},{KEY}")
    assert rotating.decrypt(old_token) == "kept for audit"
    rotated = rotating.rotate(old_token)
    assert RawTextVault(new_key).decrypt(rotated) == "kept for audit"
    with pytest.raises(ConfigurationError):
        VAULT.decrypt(rotated)


def test_from_settings_is_opt_in_and_requires_a_key() -> None:
    assert RawTextVault.from_settings(Settings(store_raw_text=False, encryption_key=KEY)) is None
    with pytest.raises(ConfigurationError) as info:
        RawTextVault.from_settings(Settings(store_raw_text=True, encryption_key=None))
    assert info.value.field == "encryption_key"
    vault = RawTextVault.from_settings(Settings(store_raw_text=True, encryption_key=KEY))
    assert vault is not None
    assert vault.decrypt(VAULT.encrypt("same key")) == "same key"
