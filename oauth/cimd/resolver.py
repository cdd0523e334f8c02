"""Resolve a metadata document URL ``client_id`` to a validated document: cache, share, fall back.

draft-ietf-oauth-client-id-metadata-document-00 §4 (fetch), §4.3 (errors: never cached),
§4.4 (caching per HTTP, clamped), §6 (SSRF, response size).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType

import anyio
import httpx2

from oauth.cimd.cache_policy import cache_lifetime
from oauth.cimd.client_id_url import ClientIdUrl, parse_client_id_url
from oauth.cimd.document import ClientMetadataDocument, parse_document
from oauth.cimd.errors import ClientMetadataDocumentError
from oauth.cimd.fetch import fetch_document
from oauth.cimd.pinned import pinned_documents

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _CacheEntry:
    document: ClientMetadataDocument
    fresh_until: float
    stale_until: float


class _Flight:
    """A fetch in progress; concurrent resolves of the same URL wait for it instead of fetching."""

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.document: ClientMetadataDocument | None = None
        self.error: ClientMetadataDocumentError | None = None


class ClientMetadataResolver:
    """Fetches, validates and caches client ID metadata documents for the authorization server.

    Args:
        http: the client to send requests with; by default one of our own (no redirects, no
            proxy from the environment), closed by :meth:`aclose`. A shared client is fine: the
            request carries none of its default headers, auth or base URL.
        allow_hosts: exact host names or IP literals (for tests) that skip the SSRF address
            check and may use plain ``http``. Their addresses are still resolved and pinned.
        clock: monotonic seconds, injected for tests.
        min_ttl, max_ttl: bounds (seconds) for the HTTP cache lifetime; ``min_ttl`` is the
            lifetime when the response gives none. A stale copy is served on refetch failure
            for at most ``max_ttl`` after it expired.
        timeout: deadline in seconds for one whole fetch (DNS, connect, TLS, body).
        max_bytes: largest accepted document body (the draft recommends 5 KB).

    Raises:
        ValueError: ``min_ttl`` is negative or above ``max_ttl``.
        ClientMetadataDocumentError: a shipped pinned copy does not validate (a packaging bug).
    """

    def __init__(
        self,
        http: httpx2.AsyncClient | None = None,
        *,
        allow_hosts: frozenset[str] = frozenset(),
        clock: Callable[[], float] = time.monotonic,
        min_ttl: float = 60,
        max_ttl: float = 86400,
        timeout: float = 5.0,
        max_bytes: int = 5 * 1024,
    ) -> None:
        if not 0 <= min_ttl <= max_ttl:
            raise ValueError("need 0 <= min_ttl <= max_ttl")
        self._owns_http = http is None
        self._http = http if http is not None else httpx2.AsyncClient(follow_redirects=False, trust_env=False)
        self._allow_hosts = frozenset(host.strip("[]").lower() for host in allow_hosts)
        self._clock = clock
        self._min_ttl, self._max_ttl = min_ttl, max_ttl
        self._timeout, self._max_bytes = timeout, max_bytes
        self._pinned: MappingProxyType[str, ClientMetadataDocument] = pinned_documents()
        self._cache: dict[str, _CacheEntry] = {}
        self._flights: dict[str, _Flight] = {}
        self._seen: set[str] = set()
        self.on_first_seen: Callable[[ClientMetadataDocument], None] | None = None
        """Called (on the event loop) the first time this process fetches a valid document for a client
        (the audit trail's ``client_registered``, ``details.registration: metadata_document``)."""

    async def resolve(self, client_id: str) -> ClientMetadataDocument:
        """The validated metadata document whose URL is ``client_id``.

        A fresh cached copy is returned without a request; concurrent calls for one URL share a
        single fetch. When the fetch fails, a stale copy (within ``max_ttl`` of expiry) is served,
        else the pinned copy if the URL has one (``pinned=True``), else the error is raised.
        Failures and invalid documents are never cached (draft-...-document-00 §4.3).

        Raises:
            ClientMetadataDocumentError: ``client_id`` is not a metadata document URL (§3), or
                the document could not be fetched or is invalid (§4, §4.1, §6) and there is no
                copy to fall back on.
        """
        target = parse_client_id_url(client_id, http_hosts=self._allow_hosts)
        if target is None:
            raise ClientMetadataDocumentError("client_id is not a metadata document URL")
        entry = self._cache.get(client_id)
        if entry is not None and self._clock() < entry.fresh_until:
            return entry.document
        return await self._shared_fetch(target)

    async def aclose(self) -> None:
        """Close the HTTP client if this resolver created it."""
        if self._owns_http:
            await self._http.aclose()

    async def _shared_fetch(self, target: ClientIdUrl) -> ClientMetadataDocument:
        while True:
            flight = self._flights.get(target.url)
            if flight is None:
                return await self._lead(target)
            await flight.done.wait()
            if flight.document is not None:
                return flight.document
            if flight.error is not None:
                raise ClientMetadataDocumentError(flight.error.reason)
            # The leading caller was cancelled before an outcome: lead a new fetch.

    async def _lead(self, target: ClientIdUrl) -> ClientMetadataDocument:
        flight = self._flights[target.url] = _Flight()
        try:
            flight.document = await self._fetch_or_fall_back(target)
        except ClientMetadataDocumentError as exc:
            flight.error = exc
            raise
        finally:
            self._flights.pop(target.url, None)
            flight.done.set()
        return flight.document

    async def _fetch_or_fall_back(self, target: ClientIdUrl) -> ClientMetadataDocument:
        try:
            return await self._fetch_and_cache(target)
        except ClientMetadataDocumentError as exc:
            return self._fall_back(target.url, exc)

    async def _fetch_and_cache(self, target: ClientIdUrl) -> ClientMetadataDocument:
        guard = target.host not in self._allow_hosts
        try:
            with anyio.fail_after(self._timeout):
                fetched = await fetch_document(self._http, target, guard=guard, max_bytes=self._max_bytes)
        except TimeoutError as exc:
            raise ClientMetadataDocumentError("timed out") from exc
        document = parse_document(fetched.body, client_id=target.url, host=target.host)
        if target.url not in self._seen:
            self._seen.add(target.url)
            if self.on_first_seen is not None:
                self.on_first_seen(document)
        ttl = cache_lifetime(fetched.headers, min_ttl=self._min_ttl, max_ttl=self._max_ttl)
        if ttl is None:
            self._cache.pop(target.url, None)
        else:
            fresh_until = self._clock() + ttl
            self._cache[target.url] = _CacheEntry(document, fresh_until, fresh_until + self._max_ttl)
        return document

    def _fall_back(self, url: str, error: ClientMetadataDocumentError) -> ClientMetadataDocument:
        entry = self._cache.pop(url, None)
        if entry is not None and self._clock() < entry.stale_until:
            self._cache[url] = entry
            logger.warning(
                "client metadata document fetch failed for %s (%s); serving the stale copy", url, error.reason
            )
            return entry.document
        pinned = self._pinned.get(url)
        if pinned is not None:
            logger.warning(
                "client metadata document fetch failed for %s (%s); using the pinned copy", url, error.reason
            )
            return pinned
        logger.info("client metadata document refused for %s (%s)", url, error.reason)
        raise error
