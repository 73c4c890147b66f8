"""Opt-in encryption of raw (unmasked) message text at rest.

Operators who must keep the original text (``store_raw_text``) get it encrypted with
Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``), never in clear. Several keys
separated by commas allow rotation: the first encrypts, all of them decrypt.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tonewatch._errors import ConfigurationError

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet

    from tonewatch.settings import Settings

__all__ = ["RawTextVault"]


class RawTextVault:
    """Encrypts and decrypts raw text with one or more Fernet keys (``"new,old"`` rotates)."""

    __slots__ = ("_fernet",)

    def __init__(self, key: str) -> None:
        from cryptography.fernet import Fernet, MultiFernet

        keys = [k.strip() for k in key.split(",")] if isinstance(key, str) else []
        if not keys or not all(keys):
            raise ConfigurationError("the encryption key is empty", field="encryption_key")
        fernets = []
        for k in keys:
            try:
                fernets.append(Fernet(k.encode("ascii")))
            except (ValueError, UnicodeEncodeError) as exc:
                raise ConfigurationError(
                    "the encryption key is not a Fernet key (32 url-safe base64-encoded bytes); "
                    "create one with RawTextVault.generate_key()",
                    field="encryption_key",
                ) from exc
        self._fernet: MultiFernet = MultiFernet(fernets)

    @staticmethod
    def generate_key() -> str:
        """A new random key, suitable for ``TONEWATCH_ENCRYPTION_KEY``."""
        from cryptography.fernet import Fernet

        return Fernet.generate_key().decode("ascii")

    @classmethod
    def from_settings(cls, settings: Settings) -> RawTextVault | None:
        """The vault when ``store_raw_text`` is on (which then requires a key), else ``None``."""
        if not settings.store_raw_text:
            return None
        if not settings.encryption_key:
            raise ConfigurationError(
                "store_raw_text is on but no encryption_key is set; raw text is never stored unencrypted",
                field="encryption_key",
            )
        return cls(settings.encryption_key)

    def encrypt(self, text: str) -> str:
        """An authenticated, timestamped token for ``text`` (ASCII, safe for any text column)."""
        return self._fernet.encrypt(text.encode("utf-8", "surrogatepass")).decode("ascii")

    def decrypt(self, token: str) -> str:
        """The text back; a token from another key or a tampered one is a :class:`ConfigurationError`."""
        from cryptography.fernet import InvalidToken

        try:
            data = self._fernet.decrypt(token.encode("ascii"))
        except (InvalidToken, UnicodeEncodeError) as exc:
            raise ConfigurationError(
                "cannot decrypt the stored text: it was encrypted with another key or has been altered",
                code="decryption_failed",
                field="encryption_key",
            ) from exc
        return data.decode("utf-8", "surrogatepass")

    def rotate(self, token: str) -> str:
        """Re-encrypt ``token`` under the first (newest) key."""
        from cryptography.fernet import InvalidToken

        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeEncodeError) as exc:
            raise ConfigurationError(
                "cannot re-encrypt the stored text with the current keys",
                code="decryption_failed",
                field="encryption_key",
            ) from exc
