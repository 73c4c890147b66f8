"""Signed cookies for the dashboard: the sign-in session and the CSRF tokens of its forms.

A browser signs in once with an API key; from then on it carries a cookie naming the key's
public id and role, signed with HMAC-SHA256 under a key derived from ``settings.secret_key``.
The key itself never goes into the cookie, and the key row is checked on every request, so
revoking a key ends its sessions at once. Each session holds a random CSRF token that every
form posts back; the sign-in form, which has no session yet, uses a signed one-time nonce
mirrored in a short-lived cookie (double submit).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

__all__ = [
    "LOGIN_COOKIE",
    "SESSION_COOKIE",
    "SESSION_SECONDS",
    "SessionData",
    "check_login_token",
    "new_login_token",
    "read_session",
    "same_token",
    "sign",
    "unsign",
    "write_session",
]

SESSION_COOKIE = "tonewatch_session"
LOGIN_COOKIE = "tonewatch_login"
SESSION_SECONDS = 12 * 3600
_LOGIN_SECONDS = 3600


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key(secret: str, purpose: str) -> bytes:
    """One derived key per purpose, so a login token can never pass for a session."""
    return hashlib.sha256(f"tonewatch-dashboard:{purpose}:{secret}".encode()).digest()


def sign(payload: dict[str, Any], secret: str, purpose: str) -> str:
    """``base64(json).base64(hmac)``: readable by anyone, forgeable by nobody without the secret."""
    body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8"))
    mac = hmac.new(_key(secret, purpose), body.encode("ascii"), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def unsign(token: str | None, secret: str, purpose: str, *, now: float | None = None) -> dict[str, Any] | None:
    """The payload of a valid, unexpired token; None for anything else (tampered, expired, garbage)."""
    if not token or token.count(".") != 1 or len(token) > 4096:
        return None
    body, mac = token.split(".")
    try:
        expected = hmac.new(_key(secret, purpose), body.encode("ascii"), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(mac)):
            return None
        payload = json.loads(_unb64(body))
    except (ValueError, UnicodeError):
        return None
    if not isinstance(payload, dict):
        return None
    exp = payload.get("exp")
    if not isinstance(exp, int | float) or exp < (time.time() if now is None else now):
        return None
    return payload


@dataclass(frozen=True, slots=True)
class SessionData:
    """What a signed-in browser carries: which key, its role, and the CSRF token of its forms."""

    key_id: str
    role: str
    name: str | None
    csrf: str
    expires: float


def write_session(key_id: str, role: str, name: str | None, secret: str, *, now: float | None = None) -> str:
    """A fresh session cookie value (a new CSRF token each sign-in)."""
    expires = (time.time() if now is None else now) + SESSION_SECONDS
    payload = {"k": key_id, "r": role, "n": name, "c": secrets.token_urlsafe(24), "exp": int(expires)}
    return sign(payload, secret, "session")


def read_session(token: str | None, secret: str, *, now: float | None = None) -> SessionData | None:
    payload = unsign(token, secret, "session", now=now)
    if payload is None:
        return None
    key_id, role, name, csrf = payload.get("k"), payload.get("r"), payload.get("n"), payload.get("c")
    if not isinstance(key_id, str) or not isinstance(role, str) or not isinstance(csrf, str):
        return None
    return SessionData(key_id, role, name if isinstance(name, str) else None, csrf, float(payload["exp"]))


def new_login_token(secret: str) -> tuple[str, str]:
    """``(nonce, token)``: the nonce goes in a cookie, the signed token in the sign-in form."""
    nonce = secrets.token_urlsafe(24)
    return nonce, sign({"n": nonce, "exp": int(time.time() + _LOGIN_SECONDS)}, secret, "login")


def check_login_token(token: str | None, nonce: str | None, secret: str) -> bool:
    """The form's token is ours, unexpired, and matches this browser's cookie."""
    payload = unsign(token, secret, "login")
    return payload is not None and same_token(str(payload.get("n", "")), nonce)


def same_token(expected: str, given: str | None) -> bool:
    """Constant-time comparison that treats a missing value as a mismatch."""
    return bool(expected) and given is not None and hmac.compare_digest(expected.encode(), given.encode())
