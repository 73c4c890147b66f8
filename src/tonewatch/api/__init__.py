"""api stage: the HTTP API (FastAPI), its keys and roles, the visibility policy and webhooks.

``create_app(settings)`` builds the app; ``tonewatch serve`` runs it with uvicorn.
"""

from ._app import create_app
from ._keys import ROLES, ApiKeyInfo, NewApiKey, create_key, list_keys, revoke_key, verify_key
from ._visibility import Viewer
from ._webhooks import RetryPolicy, sign, verify_signature

__all__ = [
    "ROLES",
    "ApiKeyInfo",
    "NewApiKey",
    "RetryPolicy",
    "Viewer",
    "create_app",
    "create_key",
    "list_keys",
    "revoke_key",
    "sign",
    "verify_key",
    "verify_signature",
]
