"""PKCE (RFC 7636): S256 challenge derivation and constant-time verification."""

from __future__ import annotations

from oauth.pkce import s256_challenge, verify_s256

# RFC 7636 Appendix B.
RFC_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_s256_challenge_matches_the_rfc_7636_appendix_b_vector() -> None:
    """Spec-mandated (RFC 7636 §4.2)."""
    assert s256_challenge(RFC_VERIFIER) == RFC_CHALLENGE


def test_matching_verifier_is_accepted() -> None:
    assert verify_s256(RFC_VERIFIER, RFC_CHALLENGE)


def test_wrong_verifier_is_refused() -> None:
    """Spec-mandated (RFC 7636 §4.6)."""
    assert not verify_s256(RFC_VERIFIER[:-1] + "Y", RFC_CHALLENGE)


def test_plain_comparison_is_not_accepted() -> None:
    """Our choice (OAuth 2.1): presenting the challenge itself as verifier (``plain``) fails."""
    assert not verify_s256(RFC_CHALLENGE, RFC_CHALLENGE)


def test_non_ascii_verifier_is_refused_without_error() -> None:
    assert not verify_s256("é" * 43, RFC_CHALLENGE)
