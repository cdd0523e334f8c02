"""Every module that defines tables on ``app.db.Base``: importing this module registers them all.

Alembic's environment (``migrations/env.py``) imports it so ``target_metadata`` holds every table.
Migrations sit above every package (tests/unit/test_layers.py), so these imports point down only.
"""

# ruff: noqa: F401 - imported for their side effect: each registers its tables
from __future__ import annotations

import app.audit.table
import app.used_states
import oauth.login.store.login_sessions
import oauth.login.store.users
import oauth.store.authorization_codes
import oauth.store.clients
import oauth.store.consents
import oauth.store.issued_access_tokens
import oauth.store.refresh_tokens
import oauth.store.revocation_events
import oauth.tokens.store.signing_keys
import proxy.credentials.oauth.client_store
import proxy.credentials.vault.store
import proxy.pinning.store
