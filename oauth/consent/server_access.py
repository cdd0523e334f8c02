"""Whether the access policy lets a user use the server a client asks for (issue #16, docs/policy.md).

The consent page must not promise what the gateway would refuse: when ``policy`` does not let the
signed-in user (with this client) use the requested server at all, ``/authorize`` and an
Approve on ``/consent`` end in ``access_denied`` instead of a consent page or a code — the same
decision the gateway's guard takes per request (``ServerAccess.usable``, ADR 0016). The principal
is built as the gateway builds it: email and IdP groups from the stored account, the client's
``client_id``. Tools, resources and prompts are filtered in the server's own lists once connected.
"""

from __future__ import annotations

from app.context import AppContext
from app.db import run_db
from app.policy.engine import RulePolicy
from app.policy.principal import Principal
from oauth.login.api import find_account

DENIED_DESCRIPTION = "the access policy does not allow this account to use this server"


async def may_use_server(runtime: AppContext, *, subject: str, email: str, client_id: str, server: str) -> bool:
    """True when ``policy`` lets ``subject`` use ``server`` through ``client_id`` (one account read unless open).

    ``email`` is the signed-in user's, used when no stored account is found.

    Raises:
        app.db_outage.DatabaseUnavailableError: the account could not be read.
    """
    policy = RulePolicy.from_config(runtime.config)
    if policy.is_open:
        return True
    account = await run_db(runtime.db, lambda db: find_account(db, subject))
    if account is not None and account.disabled:
        return False
    principal = Principal(
        subject=subject,
        email=account.email if account is not None else email,
        groups=account.groups if account is not None else (),
        client_id=client_id,
    )
    return policy.access(principal, server).usable
