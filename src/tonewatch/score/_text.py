"""Input checks shared by the analyzer, the CLI and the API.

The checks run before any model work so that a bad text fails fast with a stable error
code, and so that a batch can be screened item by item before it is scored.
"""

from __future__ import annotations

from tonewatch._errors import EmptyTextError, InvalidTextError, TextTooLongError

__all__ = ["check_text"]


def check_text(text: object, *, max_chars: int, field: str = "text") -> str:
    """Return ``text`` as a ``str`` ready to score, or raise an :class:`~tonewatch.InputError`.

    ``bytes`` are accepted when they are valid UTF-8 (files and sockets deliver bytes);
    a ``str`` carrying lone surrogates (what undecodable bytes become under
    ``surrogateescape``) is refused the same way as invalid bytes.
    """
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidTextError(f"text is not valid UTF-8 (byte {exc.start}: {exc.reason})", field=field) from exc
    if not isinstance(text, str):
        raise InvalidTextError(f"text must be a string, not {type(text).__name__}", field=field)
    if len(text) > max_chars:
        raise TextTooLongError(
            f"text is {len(text):,} characters; the maximum is {max_chars:,} "
            "(raise it with TONEWATCH_MAX_TEXT_CHARS or max_text_chars=); tonewatch never truncates",
            field=field,
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidTextError(
            f"text is not valid Unicode (lone surrogate at character {exc.start}; undecodable input bytes?)",
            field=field,
        ) from exc
    if not any(c.isprintable() and not c.isspace() for c in text):
        raise EmptyTextError("text is empty or only whitespace", field=field)
    return text
