"""Language identification with py3langid (offline, fast, well kept).

The bundled model is validated on English (and on whatever the manifest lists), so the
language decides whether a result needs a human look. Very short or ambiguous texts
("ok", "Fine.", "lol") carry too little signal for any identifier; when the best guess for
a Latin-script text is below :data:`MIN_CONFIDENCE` tonewatch reports
:data:`DEFAULT_LANGUAGE` rather than a random guess that would send harmless replies to
review. Texts in other scripts keep the identifier's guess (the script itself is signal).
"""

from __future__ import annotations

import re
import threading
from functools import cache
from typing import Any

import emoji

__all__ = ["DEFAULT_LANGUAGE", "MIN_CONFIDENCE", "UMSAB_LANGUAGES", "detect_language", "load_identifier"]

# The eight UMSAB validation languages: folder (and manifest) name -> ISO 639-1 code.
UMSAB_LANGUAGES = {
    "arabic": "ar",
    "english": "en",
    "french": "fr",
    "german": "de",
    "hindi": "hi",
    "italian": "it",
    "portuguese": "pt",
    "spanish": "es",
}

DEFAULT_LANGUAGE = "en"
MIN_CONFIDENCE = 0.4
_SAMPLE_CHARS = 2000
_lock = threading.Lock()
_identifier: Any = None


@cache
def _noise() -> re.Pattern[str]:
    return re.compile(r"(?:https?://|www\.)\S+|(?<![\w@])@\w+|#\w+|\d+", re.IGNORECASE)


def load_identifier() -> Any:
    """The process-wide identifier, restricted to ISO 639-1 (two-letter) languages; built once."""
    global _identifier
    if _identifier is None:
        with _lock:
            if _identifier is None:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier

                ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
                ident.set_languages([code for code in ident.nb_classes if len(code) == 2])
                _identifier = ident
    return _identifier


def detect_language(text: str) -> str:
    """ISO 639-1 code of ``text`` (first 2,000 characters, URLs/handles/emoji/digits removed)."""
    sample = text[:_SAMPLE_CHARS]
    if not sample.isascii():
        sample = emoji.replace_emoji(sample, " ")
    sample = _noise().sub(" ", sample)
    if sum(c.isalpha() for c in sample) < 3:
        return DEFAULT_LANGUAGE
    code, confidence = load_identifier().classify(sample)
    if confidence >= MIN_CONFIDENCE or not _mostly_latin(sample):
        return str(code)
    return DEFAULT_LANGUAGE


def _mostly_latin(sample: str) -> bool:
    """Only a short Latin-script text is given the default language; other scripts keep their guess."""
    letters = [c for c in sample if c.isalpha()]
    return sum(c.isascii() for c in letters) >= 0.8 * len(letters)
