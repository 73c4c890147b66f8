"""``docs/api.md``, rendered from the app's OpenAPI schema so the reference cannot drift.

``scripts/gen_api_docs.py`` writes the file; a test fails when it is not current.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from ._auth import PERMISSIONS

__all__ = ["ERROR_CODES", "render_markdown"]

# (code, HTTP status, when) - the stable codes clients can branch on.
ERROR_CODES: tuple[tuple[str, int, str], ...] = (
    ("invalid_json", 400, "The body is not valid JSON"),
    ("invalid_utf8", 400, "The body is not valid UTF-8"),
    ("agent_aggregate_refused", 400, "An aggregate grouped by agent was asked for"),
    ("missing_api_key", 401, "No `Authorization: Bearer` header"),
    ("invalid_authorization", 401, "An Authorization header that is not a Bearer key"),
    ("invalid_api_key", 401, "Unknown or revoked key"),
    ("forbidden", 403, "The key's role may not use this endpoint"),
    ("visibility_policy", 403, "The visibility policy hides what the request filters on"),
    ("not_found", 404, "Unknown route or resource"),
    ("unknown_customer", 404, "No such customer"),
    ("unknown_message", 404, "No stored message with that event id"),
    ("method_not_allowed", 405, "The route exists, the method does not"),
    ("invalid_transition", 409, "The review item's state does not allow this action"),
    ("request_too_large", 413, "The body is over `max_request_bytes`"),
    ("text_too_long", 413, "A text is over `max_text_chars` (texts are never truncated)"),
    ("batch_too_large", 413, "More items than `max_batch`"),
    ("unsupported_media_type", 415, "Send `application/json` (or YAML to PUT /v1/rules)"),
    ("unsupported_charset", 415, "A charset other than UTF-8"),
    ("invalid_type", 422, "A field has the wrong JSON type"),
    ("missing_field", 422, "A required field is absent"),
    ("unknown_field", 422, "A field the schema does not have"),
    ("invalid_value", 422, "A value outside the allowed set or pattern"),
    ("out_of_range", 422, "A number outside its bounds"),
    ("invalid_timestamp", 422, "Not an ISO-8601 date-time"),
    ("missing_text", 422, "Neither `text` nor `texts` was sent"),
    ("ambiguous_text", 422, "Both `text` and `texts` were sent"),
    ("empty_text", 422, "Empty or whitespace-only text"),
    ("invalid_text", 422, "Text that is not valid Unicode (e.g. a lone surrogate)"),
    ("empty_batch", 422, "A batch with no items"),
    ("invalid_event", 422, "An event that breaks the v1 event format"),
    ("invalid_rule", 422, "A playbook that does not validate (the message names the line)"),
    ("invalid_url", 422, "A webhook URL that is not absolute http(s)"),
    ("rate_limited", 429, "Over this key's requests per minute (see `Retry-After`)"),
    ("store_error", 503, "The database refused or is unreachable"),
    ("internal_error", 500, "A bug: the log line with the request id says more"),
)


def _type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return "`" + str(schema["$ref"]).rsplit("/", 1)[-1] + "`"
    if "anyOf" in schema or "oneOf" in schema:
        parts = [_type(s) for s in schema.get("anyOf", schema.get("oneOf", []))]
        return " \\| ".join(parts)
    kind = schema.get("type")
    if kind == "array":
        return f"array of {_type(schema.get('items', {}))}"
    if "enum" in schema:
        return " \\| ".join(f"`{v}`" for v in schema["enum"])
    if "const" in schema:
        return f"`{schema['const']}`"
    if kind is None:
        return "any"
    fmt = schema.get("format")
    return f"{kind} ({fmt})" if fmt else str(kind)


def _cell(text: Any) -> str:
    return str(text or "").replace("\n", " ").replace("|", "\\|").strip()


def _permissions() -> dict[tuple[str, str], str]:
    """(METHOD, path) -> the permission its dependency requires."""
    out: dict[tuple[str, str], str] = {}
    names = {f"require_{p.replace('.', '_')}": p for p in PERMISSIONS}

    def walk(dependant: Any) -> str | None:
        for dep in dependant.dependencies:
            name = getattr(dep.call, "__name__", "")
            if name in names:
                return names[name]
            found = walk(dep)
            if found:
                return found
        return None

    from .routes import ROUTERS

    for route in (r for router in ROUTERS for r in router.routes):
        if isinstance(route, APIRoute):
            perm = walk(route.dependant)
            for method in route.methods or ():
                if perm:
                    out[(method, route.path)] = perm
    return out


def _roles(permission: str) -> str:
    return ", ".join(sorted(PERMISSIONS[permission]))


def render_markdown(app: FastAPI) -> str:
    """The API reference as Markdown."""
    spec = app.openapi()
    perms = _permissions()
    lines: list[str] = [
        "# tonewatch HTTP API",
        "",
        "<!-- Generated from the OpenAPI schema by scripts/gen_api_docs.py; do not edit by hand. -->",
        "",
        f"Version {spec['info']['version']}. The live schema is at `/openapi.json` and interactive docs at `/docs`.",
        "",
        spec["info"].get("description", "").strip(),
        "",
        "Run it with `tonewatch serve [--host 127.0.0.1] [--port 8000] [--db URL]`; create keys with",
        "`tonewatch keys create --role ROLE` (the key is printed once; only a salted hash is stored).",
        "",
        "## Roles",
        "",
        "| permission | roles |",
        "| --- | --- |",
    ]
    lines += [f"| `{p}` | {_roles(p)} |" for p in sorted(PERMISSIONS)]
    lines += [
        "",
        "## Visibility of scores",
        "",
        "`TONEWATCH_VISIBILITY_POLICY` decides who reads individual sentiment and health scores, on every",
        "endpoint that returns them (classify, conversations, the live stream, customers, review evidence,",
        "audit details). Hidden fields are `null` (lists empty) and `redacted` names the policy.",
        "",
        "| policy | individual scores are shown |",
        "| --- | --- |",
        "| `full` | to everyone |",
        "| `supervisor` | to leads, QA and admins (not agents or analysts) |",
        "| `post_conversation` | once the message's ticket is resolved or closed; health while no ticket is open |",
        "| `aggregate` | never; only aggregates over groups of at least `aggregate_min_group` |",
        "| `threshold` | when `abs(score) >= visibility_threshold` (health as `(health - 50) / 50`) |",
        "",
        "Aggregates suppress groups smaller than `aggregate_min_group` under every policy, and grouping by",
        "agent is refused (`agent_aggregate_refused`): tonewatch never ranks the people who serve customers.",
        "",
        "## Errors",
        "",
        'Every error is `{"error": {"code": "...", "message": "...", "field": "..." | null}}`.',
        "",
        "| code | status | when |",
        "| --- | --- | --- |",
    ]
    lines += [f"| `{code}` | {status} | {_cell(when)} |" for code, status, when in ERROR_CODES]
    lines += [
        "",
        "## Webhooks",
        "",
        "Subscribers receive `flag`, `review.created`, `review.decision`, `drift.alert` and `ping` events as JSON",
        '`{"id", "type", "created_at", "data"}`, POSTed with `X-Tonewatch-Timestamp` and',
        '`X-Tonewatch-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>`. Verify with',
        "`tonewatch.api.verify_signature(secret, body, timestamp, signature, tolerance=300)`, which also",
        "refuses timestamps outside the replay window. Deliveries come from a persisted outbox, retried",
        "with exponential backoff; after the last attempt they are `dead` until redelivered.",
        "",
        "## Operations",
    ]
    tags = [t["name"] for t in spec.get("tags", [])]
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {t: [] for t in tags}
    for path, item in spec["paths"].items():
        for method, op in item.items():
            tag = (op.get("tags") or ["other"])[0]
            by_tag.setdefault(tag, []).append((method.upper(), path, op))
    descriptions = {t["name"]: t.get("description", "") for t in spec.get("tags", [])}
    for tag, ops in by_tag.items():
        if not ops:
            continue
        lines += ["", f"### {tag}", "", descriptions.get(tag, "")]
        for method, path, op in ops:
            lines += ["", f"#### `{method} {path}`", "", f"**{_cell(op.get('summary'))}**"]
            if op.get("description"):
                lines += ["", op["description"].strip()]
            perm = perms.get((method, path))
            lines += ["", f"Roles: {_roles(perm)} (`{perm}`)." if perm else "No key needed."]
            params = op.get("parameters", [])
            if params:
                lines += ["", "| parameter | in | type | required | description |", "| --- | --- | --- | --- | --- |"]
                for p in params:
                    lines.append(
                        f"| `{p['name']}` | {p['in']} | {_type(p.get('schema', {}))} | "
                        f"{'yes' if p.get('required') else 'no'} | {_cell(p.get('description'))} |"
                    )
            body = op.get("requestBody", {}).get("content", {})
            if body:
                kinds = ", ".join(f"`{media}` {_type(c.get('schema', {}))}" for media, c in body.items())
                lines += ["", f"Body: {kinds}."]
            responses = op.get("responses", {})
            codes = ", ".join(f"{code} {_cell(r.get('description'))}" for code, r in responses.items())
            lines += ["", f"Responses: {codes}."]
    lines += ["", "## Schemas"]
    for name, schema in sorted(spec.get("components", {}).get("schemas", {}).items()):
        lines += ["", f"### `{name}`", ""]
        if schema.get("description"):
            lines += [_cell(schema["description"]), ""]
        props = schema.get("properties", {})
        if not props:
            lines.append(f"Type: {_type(schema)}.")
            continue
        required = set(schema.get("required", []))
        lines += ["| field | type | required | description |", "| --- | --- | --- | --- |"]
        for field, sub in props.items():
            need = "yes" if field in required else "no"
            lines.append(f"| `{field}` | {_type(sub)} | {need} | {_cell(sub.get('description'))} |")
    return "\n".join(lines).rstrip() + "\n"
