"""Optional rewrite of a template draft by an OpenAI-compatible chat endpoint.

The template is always the fallback: if the endpoint is unreachable, slow, answers nonsense, or
the rewrite drops the customer's real dates, invents a concession, mentions feelings the
template did not, or slips into boilerplate, the template draft is kept. The reason is recorded
so a team can see how often the model is actually used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx

from tonewatch.settings import Settings

from ._drafts import GENERIC_PHRASES, Draft, format_day
from ._guardrail import mentions_feelings, promises_compensation

__all__ = ["LLMRewriter", "Rewrite"]

_SYSTEM = (
    "You edit customer-support outreach. Keep every fact, date, number and the named next step exactly; "
    "keep it short, plain and specific; take ownership; do not add apologies for 'any inconvenience', "
    "no generic phrases, no discounts, refunds, credits or other offers, and do not describe the customer's "
    "feelings. Reply with the rewritten message only, starting with the 'Subject:' line if there is one."
)


@dataclass(frozen=True, slots=True)
class Rewrite:
    draft: Draft
    fallback_reason: str | None = None

    @property
    def used_llm(self) -> bool:
        return self.fallback_reason is None


class LLMRewriter:
    """Rewrites drafts through ``POST {url}/chat/completions`` with a short timeout."""

    def __init__(
        self,
        url: str,
        *,
        model: str = "gpt-4o-mini",
        api_key: str | None = None,
        timeout: float = 3.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        if not self.url.endswith("/chat/completions"):
            self.url += "/chat/completions"
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self._transport = transport

    @classmethod
    def from_settings(cls, settings: Settings) -> LLMRewriter | None:
        """A rewriter when ``settings.llm_url`` is set, else ``None`` (templates only)."""
        if not settings.llm_url:
            return None
        return cls(settings.llm_url, model=settings.llm_model, api_key=settings.llm_api_key)

    def _ask(self, text: str) -> str:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        payload: dict[str, Any] = {
            "model": self.model,
            "temperature": 0.2,
            "messages": [{"role": "system", "content": _SYSTEM}, {"role": "user", "content": text}],
        }
        with httpx.Client(timeout=self.timeout, transport=self._transport) as client:
            response = client.post(self.url, json=payload, headers=headers)
            response.raise_for_status()
            content = response.json()["choices"][0]["message"]["content"]
        if not isinstance(content, str) or not content.strip():
            raise ValueError("empty completion")
        return content.strip()

    def rewrite(self, draft: Draft, *, keep: Sequence[date] = ()) -> Rewrite:
        """The rewritten draft, or the template draft with the reason it was kept.

        ``keep`` are the customer's dates (first contact, renewal...): any of them the draft
        mentions must survive the rewrite.
        """
        try:
            text = self._ask(draft.text)
        except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError) as exc:
            return Rewrite(draft, f"llm unavailable: {type(exc).__name__}")
        reason = self._reject(draft, text, keep)
        if reason is not None:
            return Rewrite(draft, reason)
        lines = text.splitlines()
        if lines and lines[0].startswith("Subject:"):
            subject: str | None = lines[0].removeprefix("Subject:").strip()
            body = "\n".join(lines[1:]).strip() + "\n"
        else:
            subject, body = draft.subject, text + "\n"
        return Rewrite(Draft(subject, body, draft.template, "llm"))

    @staticmethod
    def _reject(draft: Draft, text: str, keep: Sequence[date]) -> str | None:
        lowered = text.casefold()
        original = draft.text.casefold()
        wanted = [format_day(d) for d in keep if format_day(d).casefold() in original]
        missing = [d for d in wanted if d.casefold() not in lowered]
        if missing:
            return f"rewrite dropped the customer's dates ({', '.join(missing)})"
        if len(promises_compensation(text)) > len(promises_compensation(draft.text)):
            return "rewrite offered compensation"
        if len(mentions_feelings(text)) > len(mentions_feelings(draft.text)):
            return "rewrite mentioned the customer's feelings"
        if any(p in lowered for p in GENERIC_PHRASES):
            return "rewrite used a generic phrase"
        return None
