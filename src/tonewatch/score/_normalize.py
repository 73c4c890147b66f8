"""Text normalisation shared by training and inference.

The bundled model was trained on text passed through exactly this function, so the
runtime must apply it too: user handles and URLs are anonymised (as in TweetEval) and
emoji, which the uncased WordPiece vocabulary maps to ``[UNK]``, become words.
"""

from __future__ import annotations

import re

import emoji

__all__ = ["normalize_for_model"]

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_HANDLE = re.compile(r"(?<![\w@])@\w{1,30}")
_SPACE = re.compile(r"\s+")
_EMOJI_NAME = re.compile(r":([a-z0-9_&.'-]+):")


def _emoji_words(match: re.Match[str]) -> str:
    return " " + match.group(1).replace("_", " ") + " "


def normalize_for_model(text: str) -> str:
    """Return the form of ``text`` the encoder sees (never shown to users)."""
    text = _URL.sub("http", text)
    text = _HANDLE.sub("@user", text)
    if not text.isascii() and emoji.emoji_count(text):  # ASCII has no emoji: skip the slow scan
        text = _EMOJI_NAME.sub(_emoji_words, emoji.demojize(text, delimiters=(":", ":")))
    return _SPACE.sub(" ", text).strip()
