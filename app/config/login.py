"""``login``: who may sign in — the identity providers and the access rules.

The providers themselves are :mod:`app.config.login_providers`. See docs/configuration.md
§``login`` and §``login.providers``.
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from app.config.login_providers import ProviderConfig
from app.config.strict import Strict

__all__ = ["LoginConfig"]


class LoginConfig(Strict):
    """``login``: identity providers and access rules (any rule admitting a user suffices).

    See docs/configuration.md §``login``.
    """

    providers: list[ProviderConfig] = Field(default_factory=list)
    allowed_domains: list[str] = Field(default_factory=list)
    allowed_emails: list[str] = Field(default_factory=list)
    allowed_groups: list[str] = Field(default_factory=list)
    allowed_orgs: list[str] = Field(default_factory=list)
    allow_any_user: bool = False
    session_idle_seconds: int = Field(default=8 * 3600, gt=0)
    session_absolute_seconds: int = Field(default=7 * 24 * 3600, gt=0)

    @field_validator("providers")
    @classmethod
    def _unique_ids(cls, value: list[ProviderConfig]) -> list[ProviderConfig]:
        seen: set[str] = set()
        for provider in value:
            if provider.id in seen:
                raise ValueError(f"provider id {provider.id!r} is used twice: give each provider its own id")
            seen.add(provider.id)
        return value

    @model_validator(mode="after")
    def _rules_required(self) -> LoginConfig:
        has_rules = self.allowed_domains or self.allowed_emails or self.allowed_groups or self.allowed_orgs
        if self.providers and not has_rules and not self.allow_any_user:
            raise ValueError(
                "no access rule: set allowed_domains, allowed_emails, allowed_groups or allowed_orgs, "
                "or allow_any_user: true to admit everyone the providers sign in"
            )
        return self

    def provider(self, provider_id: str) -> ProviderConfig | None:
        """The configured provider with this id, or None."""
        return next((p for p in self.providers if p.id == provider_id), None)
