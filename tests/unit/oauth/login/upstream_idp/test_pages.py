"""The words of the failure page: the IdP's error code is shown, reduced to RFC 6749's characters."""

from __future__ import annotations

from oauth.client.errors import (
    AuthorizationResponseError,
    AuthorizationServerUnavailableError,
    FlowStateError,
    OAuthClientError,
    TokenRequestError,
)
from oauth.login.upstream_idp.errors import InvalidIdTokenError, UpstreamIdpError
from oauth.login.upstream_idp.pages import failure_message


def test_the_idp_error_code_and_description_are_shown() -> None:
    error = AuthorizationResponseError("access_denied", "The user cancelled")
    assert failure_message(error, "Okta") == "Okta returned the error access_denied: The user cancelled"
    assert failure_message(AuthorizationResponseError("login_required"), "Okta") == (
        "Okta returned the error login_required."
    )


def test_error_values_lose_characters_rfc_6749_forbids_and_are_cut() -> None:
    error = AuthorizationResponseError('bad"\\\n\x00error' + "x" * 100, "line\r\nbreak " + "y" * 400)
    assert error.error == "baderror" + "x" * 56
    assert (
        error.description is not None and error.description.startswith("linebreak ") and len(error.description) == 300
    )
    assert AuthorizationResponseError("\n").error == "unknown_error"


def test_each_failure_has_its_own_sentence_and_status() -> None:
    cases: list[tuple[OAuthClientError | UpstreamIdpError, int, str]] = [
        (TokenRequestError("invalid_grant"), 502, "refused to complete the sign-in (error invalid_grant)"),
        (
            AuthorizationServerUnavailableError("could not fetch the JWKS (ConnectError)"),
            502,
            "could not fetch the JWKS",
        ),
        (InvalidIdTokenError("the ID token has expired"), 400, "failed verification: the ID token has expired"),
        (FlowStateError("x"), 400, "was not started in this browser"),
    ]
    for error, status, text in cases:
        assert error.status_code == status
        assert text in failure_message(error, "Corp SSO")
