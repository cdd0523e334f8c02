from tests.support.browser import browser_fixture, page_fixture  # noqa: F401  (fixtures browser, page)
