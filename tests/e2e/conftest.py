"""End-to-end tests: Portico as a real process, real browsers, real clients."""

from collections.abc import Iterator

import pytest

from tests.support.browser import browser_fixture, page_fixture  # noqa: F401  (fixtures browser, page)
from tests.support.deployment import Deployment, e2e_deployment


@pytest.fixture(scope="session")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """One real deployment (tests/support/deployment.py) shared by the e2e tests; each test signs in its own user."""
    with e2e_deployment(tmp_path_factory.mktemp("deployment")) as running:
        yield running
