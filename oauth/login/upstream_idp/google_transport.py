"""A google-auth transport over httpx2 that caches GET answers for their ``Cache-Control: max-age``.

google-auth fetches Google's signing certificates through a ``google.auth.transport.Request``;
its own transports need ``requests`` or ``urllib3``, so this one is built on httpx2 (ADR 0004:
httpx2 outside the data plane). Google serves the certificates with ``max-age`` of hours, so a
sign-in normally fetches nothing; :meth:`CachingRequest.forget` drops an answer when a token names
a key id the cached certificates lack (Google rotated its keys). Synchronous, like google-auth:
call it from a worker thread.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping

import httpx2
from google.auth import exceptions, transport

TIMEOUT_SECONDS = 10.0
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*(\d+)", re.IGNORECASE)


class CachedResponse(transport.Response):
    """An HTTP answer as google-auth reads it: ``status``, ``headers``, ``data`` (the body bytes)."""

    def __init__(self, status: int, headers: Mapping[str, str], data: bytes) -> None:
        self._status, self._headers, self._data = status, headers, data

    @property
    def status(self) -> int:
        return self._status

    @property
    def headers(self) -> Mapping[str, str]:
        return self._headers

    @property
    def data(self) -> bytes:
        return self._data


class CachingRequest(transport.Request):
    """``google.auth.transport.Request`` over one ``httpx2.Client``; GETs cached per URL for their max-age.

    Raises (from ``__call__``):
        google.auth.exceptions.TransportError: the server could not be reached or did not answer in time.
    """

    def __init__(self, client: httpx2.Client | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self._client = client or httpx2.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False)
        self._clock = clock
        self._cache: dict[str, tuple[float, CachedResponse]] = {}
        self._lock = threading.Lock()

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        **_kwargs: object,
    ) -> CachedResponse:
        if method == "GET" and (cached := self._fresh(url)) is not None:
            return cached
        try:
            answer = self._client.request(
                method, url, content=body, headers=dict(headers or {}), timeout=timeout or TIMEOUT_SECONDS
            )
        except httpx2.HTTPError as error:
            raise exceptions.TransportError(f"{url}: {type(error).__name__}") from None  # type: ignore[no-untyped-call]
        response = CachedResponse(answer.status_code, dict(answer.headers), answer.content)
        max_age = _max_age(answer.headers.get("cache-control", ""))
        if method == "GET" and answer.status_code == 200 and max_age:
            with self._lock:
                self._cache[url] = (self._clock() + max_age, response)
        return response

    def forget(self, url: str) -> None:
        """Drop the cached answer for ``url`` (the next GET fetches it)."""
        with self._lock:
            self._cache.pop(url, None)

    def _fresh(self, url: str) -> CachedResponse | None:
        with self._lock:
            entry = self._cache.get(url)
        return entry[1] if entry is not None and entry[0] > self._clock() else None


def _max_age(cache_control: str) -> int:
    if "no-store" in cache_control.lower() or "no-cache" in cache_control.lower():
        return 0
    match = _MAX_AGE.search(cache_control)
    return int(match.group(1)) if match else 0
