"""An authorization server's metadata: where it is, fetched with its ``issuer`` checked, and its endpoints.

- Where: RFC 8414 §3.1 inserts ``/.well-known/oauth-authorization-server`` between the issuer's
  host and its path; OpenID Connect Discovery 1.0 §4 appends ``/.well-known/openid-configuration``
  to the issuer (its trailing ``/`` removed). :func:`metadata_urls` gives both, in that order.
- The document's ``issuer`` must equal the issuer it was fetched for, exactly (RFC 8414 §3.3,
  OpenID Connect Discovery 1.0 §4.3), so a document served for another issuer is refused.
- A configured endpoint wins over the document's; every endpoint must be https, except on a
  loopback host (:func:`app.config.login_providers.endpoint_url`).

Used by sign-in at upstream IdPs (:mod:`oauth.login.upstream_idp.discovery`) and by upstream OAuth
credentials (:mod:`proxy.credentials.oauth.endpoints`, :mod:`proxy.credentials.oauth.discovery`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

from app.config.login_providers import endpoint_url
from oauth.client.errors import AuthorizationServerUnavailableError, IssuerMismatchError
from oauth.client.http import get_json_object

AUTHORIZATION_SERVER_METADATA: Final = "authorization server metadata"

# GET a URL's JSON object; the second argument names the document in errors (as get_json_object).
FetchJson = Callable[[str, str], Awaitable[dict[str, Any]]]


def openid_configuration_url(issuer: str) -> str:
    """``<issuer>/.well-known/openid-configuration`` (OpenID Connect Discovery 1.0 §4)."""
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def metadata_urls(issuer: str) -> list[str]:
    """Where the issuer's metadata may be, in the order tried (RFC 8414 §3.1, then OIDC Discovery §4)."""
    parts = urlsplit(issuer)
    path = parts.path.rstrip("/")
    rfc8414 = urlunsplit((parts.scheme, parts.netloc, "/.well-known/oauth-authorization-server" + path, "", ""))
    return [rfc8414, openid_configuration_url(issuer)]


async def fetch_metadata(
    urls: Sequence[str], *, issuer: str, what: str, fetch: FetchJson = get_json_object
) -> dict[str, Any]:
    """The first document of ``urls`` that ``fetch`` gets; its ``issuer`` must be ``issuer``.

    ``what`` names the document in errors. A URL that fails is passed over; a document for another
    issuer is refused at once, without trying the next URL.

    Raises:
        IssuerMismatchError: the document names another issuer (``the <what> names another issuer``).
        AuthorizationServerUnavailableError: no URL gave a JSON object (the last URL's failure).
    """
    failure: AuthorizationServerUnavailableError | None = None
    for url in urls:
        try:
            document = await fetch(url, what)
        except AuthorizationServerUnavailableError as error:
            failure = error
            continue
        if document.get("issuer") != issuer:
            raise IssuerMismatchError(f"the {what} names another issuer")
        return document
    raise failure or AuthorizationServerUnavailableError(f"no {what}")


def metadata_member(document: Mapping[str, Any], name: str, what: str) -> str:
    """The non-empty string member ``name`` of a metadata document.

    Raises:
        AuthorizationServerUnavailableError: absent, empty or not a string (``the <what> has no <name>``).
    """
    value = document.get(name)
    if not isinstance(value, str) or not value:
        raise AuthorizationServerUnavailableError(f"the {what} has no {name}")
    return value


def endpoint(configured: str | None, document: Mapping[str, Any], name: str, what: str) -> str:
    """The endpoint ``name`` (an RFC 8414 §2 / OIDC Discovery §3 member): ``configured``, else the document's.

    Raises:
        AuthorizationServerUnavailableError: neither gives one, or it is not an https URL (http
            only on a loopback host).
    """
    value = metadata_member({name: configured} if configured else document, name, what)
    try:
        return endpoint_url(value)
    except ValueError:
        raise AuthorizationServerUnavailableError(f"the {name} is not an https URL") from None


def optional_endpoint(configured: str | None, document: Mapping[str, Any], name: str, what: str) -> str | None:
    """As :func:`endpoint`, but None when neither ``configured`` nor the document gives one.

    Raises:
        AuthorizationServerUnavailableError: the endpoint given is not an https URL, or the document's
            member is present but not a string.
    """
    if configured is None and not document.get(name):
        return None
    return endpoint(configured, document, name, what)
