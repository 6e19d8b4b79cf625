"""Source watch (SPEC §13): check the pages claims link to, keep each check, and re-detect the
claim's conflicts when what the checks show changes.

A check takes three steps, and no transaction is open across the network:

1. lease, in a short write transaction: a host that no check holds and whose delay has
   passed, and its most overdue claim. Both are reserved past the longest a check can take
   (PostgreSQL: other workers skip the locked host, FOR UPDATE SKIP LOCKED), so one host is
   asked one thing at a time and one claim is never checked twice at once.
2. fetch, outside any transaction: a GET with the SSRF rules of §7 on every hop (at most
   MAX_REDIRECTS redirects) and on the address connected to, timeouts and a deadline, a size
   cap, If-None-Match / If-Modified-Since from the page last read, and a User-Agent naming
   Tally. The page's visible text (selectolax) is searched for the figure and the quote.
3. record, in another short write transaction: the check, the claim's new WatchState
   (app.domain.watch.advance), detection when the rules' inputs moved, and the webhook
   events of the conflicts it opened or cleared.

The Watcher runs these in a thread of its own (inside `tally serve` or `tally worker`), a
pool of `watch_concurrency` checks at a time: a host that never answers holds one of them
until its deadline, never a claim write or another host's check.
"""

from __future__ import annotations

import hashlib
import ipaddress
import random
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
import structlog
from selectolax.lexbor import LexborHTMLParser
from sqlalchemy.orm import Session

from app import repository
from app.config import Settings
from app.db import begin_write
from app.domain.model import StateConflict, utcnow
from app.domain.watch import (
    Check,
    Lease,
    Outcome,
    StoredCheck,
    WatchState,
    advance,
    figure_in,
)
from app.repository import checks as check_log
from app.schemas import ConflictRead
from app.services import detection, ssrf, webhooks

log = structlog.get_logger()

MAX_REDIRECTS = 3
REDIRECTS = {301, 302, 303, 307, 308}
ENROL_BATCH = 500  # claims enrolled by one transaction
ENROL_SLACK = 1_000  # ids below the last seen that a quick look reads again (late commits)
SWEEP_SECONDS = 600.0  # how often every claim is looked at (corrected urls, missed claims)
HTML = {"", "text/html", "application/xhtml+xml"}
HIDDEN = "script, style, noscript, template, [hidden]"
# Elements that break a line where a browser shows them: their text is not run together.
BLOCKS = (
    "address, article, aside, blockquote, br, caption, dd, div, dl, dt, figcaption, figure, "
    "footer, h1, h2, h3, h4, h5, h6, header, hr, li, main, nav, ol, p, pre, section, table, "
    "tbody, td, tfoot, th, thead, tr, ul"
)
Clock = Callable[[], datetime]
NEVER = datetime(9999, 1, 1, tzinfo=UTC)  # the next check of a claim no longer watched


def user_agent(settings: Settings) -> str:
    return f"Tally-SourceWatch/0.1 (+{settings.base_url})"


def lease_time(settings: Settings) -> timedelta:
    """How long a check is reserved: longer than its deadline and one last read can take."""
    return timedelta(seconds=settings.watch_timeout_seconds * 4 + 30)


def host_key(url: str) -> str:
    """The host a url's requests go to, as `host:port` (the port by scheme when not given)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    default = 443 if parts.scheme == "https" else 80
    return f"{(parts.hostname or '').lower()}:{port or default}"


# --- one request at a time per host, in this process ---------------------------------------


class HostGate:
    """At most one request at a time to each host, and `delay` seconds between the end of one
    and the start of the next. The database lease spaces a worker's checks across processes;
    this covers every hop of a check (a redirect to another host) and checks asked for by
    editors."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._last: dict[str, float] = {}

    @contextmanager
    def hold(self, host: str, delay: float, deadline: float) -> Iterator[None]:
        """Hold the host until the block ends; TimeoutError when that cannot start before
        `deadline` (time.monotonic())."""
        with self._guard:
            lock = self._locks.setdefault(host, threading.Lock())
        if not lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise TimeoutError(f"{host} was busy with another check")
        try:
            wait = self._last.get(host, -delay) + delay - time.monotonic()
            if wait > 0:
                if time.monotonic() + wait > deadline:
                    raise TimeoutError(f"{host} was asked too recently")
                time.sleep(wait)
            yield
        finally:
            self._last[host] = time.monotonic()
            lock.release()


GATE = HostGate()  # one per process: the watcher and the API share it


# --- fetching ------------------------------------------------------------------------------


_client: httpx.Client | None = None
_client_lock = threading.Lock()


def shared_client() -> httpx.Client:
    """The process's client for pages (making one loads the CA bundle: a tenth of a second).
    No proxies from the environment (they would bypass the SSRF pinning); redirects are not
    followed by httpx but by `fetch`, which checks each hop first."""
    global _client
    with _client_lock:
        if _client is None:
            _client = httpx.Client(follow_redirects=False, trust_env=False)
        return _client


@dataclass(frozen=True)
class Fetched:
    """What a fetch got: the last hop's answer, or why there was none."""

    status: int | None
    error: str | None = None
    body: bytes = b""
    truncated: bool = False  # cut at the size cap
    content_type: str = ""
    charset: str | None = None
    etag: str | None = None
    last_modified: str | None = None

    @property
    def content_hash(self) -> str | None:
        ok = self.status is not None and 200 <= self.status < 300 and self.error is None
        return hashlib.sha256(self.body).hexdigest() if ok else None


def fetch(
    client: httpx.Client,
    url: str,
    settings: Settings,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    gate: HostGate = GATE,
) -> Fetched:
    """GET the page, following at most MAX_REDIRECTS redirects, each hop checked against the
    SSRF rules before it is requested; never raises for what the network or the host does."""
    deadline = time.monotonic() + settings.watch_timeout_seconds * 3
    headers = {
        "User-Agent": user_agent(settings),
        "Accept": "text/html, text/plain;q=0.9, */*;q=0.5",
    }
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    for _ in range(MAX_REDIRECTS + 1):
        hop = _hop(client, url, headers, settings, gate, deadline)
        if isinstance(hop, Fetched):
            return hop
        url = hop
    return Fetched(None, f"Refused: more than {MAX_REDIRECTS} redirects.")


def _hop(
    client: httpx.Client,
    url: str,
    headers: dict[str, str],
    settings: Settings,
    gate: HostGate,
    deadline: float,
) -> Fetched | str:
    """One request: the answer, or the url it redirects to."""
    allow = settings.webhook_allow_private
    try:
        if urlsplit(url).scheme not in ("http", "https"):
            raise ssrf.Refused(f"{url} is not an http or https url")
        target = ssrf.pin(url, allow_private=allow)
        delay = settings.watch_host_delay_seconds
        with (
            gate.hold(host_key(url), delay, deadline),
            client.stream(
                "GET",
                target.url,
                headers=target.headers | headers,
                extensions=target.extensions,
                timeout=httpx.Timeout(settings.watch_timeout_seconds),
            ) as response,
        ):
            if not allow:
                _check_peer(response)
            location = response.headers.get("location")
            if response.status_code in REDIRECTS and location:
                return str(httpx.URL(url).join(location))
            return _read(response, settings.watch_max_bytes, deadline)
    except ssrf.Refused as error:
        return Fetched(None, f"Refused: {error}.")
    except (httpx.HTTPError, httpx.InvalidURL, TimeoutError, OSError) as error:
        return Fetched(None, f"{type(error).__name__}: {error}".removesuffix(": "))


def _check_peer(response: httpx.Response) -> None:
    """Refused unless the address actually connected to is public (pinning chose it; this
    makes sure of it)."""
    stream = response.extensions.get("network_stream")
    peer = stream.get_extra_info("server_addr") if stream is not None else None
    if peer:
        reason = ssrf.refusal(ipaddress.ip_address(str(peer[0]).split("%")[0]))
        if reason is not None:
            raise ssrf.Refused(f"the connection reached a {reason} address ({peer[0]})")


def _read(response: httpx.Response, cap: int, deadline: float) -> Fetched:
    """The answer, its body read up to `cap` bytes (the rest is never fetched)."""
    body = bytearray()
    truncated = False
    for chunk in response.iter_bytes():
        if time.monotonic() > deadline:
            return Fetched(response.status_code, "TimeoutError: the page kept arriving too long")
        if len(body) + len(chunk) > cap:
            body += chunk[: cap - len(body)]
            truncated = True
            break
        body += chunk
    return Fetched(
        status=response.status_code,
        body=bytes(body),
        truncated=truncated,
        content_type=response.headers.get("content-type", "").split(";")[0].strip().lower(),
        charset=response.charset_encoding,
        etag=response.headers.get("etag"),
        last_modified=response.headers.get("last-modified"),
    )


def page_text(fetched: Fetched) -> str | None:
    """The text a reader sees on the page (HTML) or the text itself; None when the answer is
    neither (a PDF, an image): then nothing can be said of the figure."""
    if fetched.content_type == "text/plain":
        return _decoded(fetched.body, fetched.charset)
    if fetched.content_type not in HTML:
        return None
    if fetched.charset:
        tree = LexborHTMLParser(_decoded(fetched.body, fetched.charset))
    else:
        tree = LexborHTMLParser(fetched.body, encoding=True)  # <meta charset>, as browsers
    root = tree.body
    if root is None:
        return ""
    for node in root.css(HIDDEN):
        node.decompose()
    for node in root.css(BLOCKS):
        node.insert_before(" ")
        node.insert_after(" ")
    return root.text(separator="")


def _decoded(body: bytes, charset: str | None) -> str:
    try:
        return body.decode(charset or "utf-8", errors="replace")
    except LookupError:  # an encoding Python does not know
        return body.decode("utf-8", errors="replace")


def figure_found(fetched: Fetched, lease: Lease) -> bool | None:
    """Whether the page read shows the claim's figure or quote; None when no page was read."""
    if fetched.error is not None or fetched.status is None or not 200 <= fetched.status < 300:
        return None
    text = page_text(fetched)
    return None if text is None else figure_in(text, lease.figure_text, lease.quote)


# --- leasing and recording -----------------------------------------------------------------


def enrol(make_session: Callable[[], Session], after: int, now: datetime) -> int:
    """Watch the active claims with id > after whose url is not watched yet (new claims,
    corrected urls), their first check due now; the id to look after next time."""
    with make_session() as session:
        last = check_log.last_claim_id(session)
        found = check_log.unwatched(session, after, ENROL_BATCH)
        session.rollback()  # a plain read: an idle look takes no write lock
        if not found:
            return last
        begin_write(session)
        hosts = check_log.host_ids(session, {host_key(url) for _, url in found})
        urls = [(claim_id, url, hosts[host_key(url)]) for claim_id, url in found]
        check_log.watch_claims(session, urls, now)
        session.commit()
    return last if len(found) < ENROL_BATCH else int(found[-1][0])


def park(make_session: Callable[[], Session]) -> None:
    """Take the claims no longer watched (retracted, url removed) out of the due checks."""
    with make_session() as session:
        begin_write(session)
        check_log.park_unwatched(session, NEVER)
        session.commit()


def lease_due(session: Session, settings: Settings, now: datetime, limit: int) -> list[Lease]:
    """Up to `limit` due checks, one per free host, reserved for this worker."""
    due = check_log.any_due(session, now)
    session.rollback()
    if not due:
        return []
    begin_write(session)
    until = now + lease_time(settings)
    hosts = check_log.free_hosts(session, now, limit)
    leases = [lease for h in hosts if (lease := check_log.lease_next(session, h, now, until))]
    session.commit()
    return leases


def record(
    session: Session,
    lease: Lease,
    fetched: Fetched,
    found: bool | None,
    settings: Settings,
    now: datetime,
) -> StoredCheck:
    """Keep the check, advance the claim's watch state, and re-detect its conflicts when the
    rules' inputs moved (queueing their webhook events); commits. A claim retracted or given
    another url while the check ran keeps nothing of it."""
    begin_write(session)
    claim = repository.claims.get_claim(session, lease.claim_id)
    # Detection writes conflicts: the claim's event is locked as every writer of it does.
    # Then the host, then the watch: the order every lease takes too.
    repository.claims.lock_events(session, slugs={claim.event})
    delay = timedelta(seconds=settings.watch_host_delay_seconds)
    check_log.release_host(session, lease.host_id, lease.until, now + delay)
    watched = check_log.locked_watch(session, lease.claim_id)
    claim = repository.claims.get_claim(session, lease.claim_id)
    check = Check(now, fetched.status, fetched.error, found)
    if watched is None or watched[0].url != lease.url or claim.url != lease.url or claim.retracted:
        session.commit()
        return _stored(lease, check, fetched, lease.state, lease.state, None)
    before, old_hash, looked_for = watched
    after = advance(
        _looking_for(before, looked_for, figure_key(lease)),
        check,
        timedelta(hours=settings.watch_grace_hours),
    )
    content_hash = old_hash if check.outcome is Outcome.UNCHANGED else fetched.content_hash
    kept = _validators(fetched, check) | {"figure_key": figure_key(lease)}
    check_log.save_watch(session, lease.claim_id, after, _next_check(settings, now), kept)
    stored = check_log.insert_check(
        session, _stored(lease, check, fetched, before, after, content_hash)
    )
    check_log.prune_checks(session, lease.claim_id, settings.watch_keep_checks)
    if _signals(before) != _signals(after):
        _emit(webhooks.Outbox(session), detection.reevaluate(session, [claim], now))
    session.commit()
    return stored


def _stored(
    lease: Lease,
    check: Check,
    fetched: Fetched,
    before: WatchState,
    after: WatchState,
    content_hash: str | None,
) -> StoredCheck:
    found = after.figure_found if check.outcome is Outcome.UNCHANGED else check.figure_found
    return StoredCheck(
        id="",
        claim=lease.claim_id,
        checked_at=check.checked_at,
        url=lease.url,
        status=check.status,
        error=check.error,
        content_hash=content_hash,
        figure_found=found,
        truncated=fetched.truncated,
        state=after.state,
        changed=after.state != before.state,
    )


def _looking_for(state: WatchState, looked_for: str | None, key: str) -> WatchState:
    """The state to advance: when the figure or quote was corrected since the last check,
    what earlier checks found was another text, and nothing is known of the new one."""
    if looked_for is None or looked_for == key:
        return state
    return replace(state, figure_seen=False, figure_found=None)


def figure_key(lease: Lease) -> str:
    """What a check looks for, as a key: a new figure text or quote changes it."""
    return hashlib.sha256(f"{lease.figure_text}\0{lease.quote or ''}".encode()).hexdigest()


def _validators(fetched: Fetched, check: Check) -> dict[str, str | None]:
    """What the claim's watch keeps of the answer for the next request: the validators and
    hash of a page read; nothing changes otherwise."""
    if check.outcome is not Outcome.READ:
        return {}
    return {
        "etag": (fetched.etag or "")[:500] or None,
        "last_modified": (fetched.last_modified or "")[:100] or None,
        "content_hash": fetched.content_hash,
    }


def _next_check(settings: Settings, now: datetime) -> datetime:
    """About watch_interval_hours on, jittered so that checks recorded together spread out."""
    hours = settings.watch_interval_hours
    return now + timedelta(hours=hours * random.uniform(0.9, 1.1))


def _signals(state: WatchState) -> tuple[object, ...]:
    """What the two rules read of a state (the detail of source_unavailable names the status)."""
    unavailable = (state.status, state.failing_since) if state.unavailable else None
    return (state.unavailable, state.figure_missing, unavailable)


def _emit(outbox: webhooks.Outbox, found: detection.Detection) -> None:
    for conflict in found.cleared:
        outbox.emit("conflict.cleared", ConflictRead.of(conflict))
    for conflict in found.opened:
        outbox.emit("conflict.opened", ConflictRead.of(conflict))


def check(
    make_session: Callable[[], Session],
    client: httpx.Client,
    lease: Lease,
    settings: Settings,
    clock: Clock = utcnow,
) -> StoredCheck:
    """Fetch the leased page and record the check (in a transaction of its own)."""
    fetched = fetch(client, lease.url, settings, etag=lease.etag, last_modified=lease.last_modified)
    found = figure_found(fetched, lease)
    with make_session() as session:
        return record(session, lease, fetched, found, settings, clock())


# --- what the API and the desk call --------------------------------------------------------


def list_checks(session: Session, claim_id: str) -> list[StoredCheck]:
    """The claim's kept checks, oldest first (NotFound for an unknown claim)."""
    return check_log.checks_of(session, repository.claims.get_claim(session, claim_id).id)


def check_now(
    make_session: Callable[[], Session],
    claim_id: str,
    settings: Settings,
    *,
    clock: Clock = utcnow,
) -> StoredCheck:
    """Check the claim's url now and keep the check (what POST /v1/claims/{id}/checks does).
    Runs in transactions of its own, none open while the page is fetched. StateConflict when
    the watch is off, the claim has no url or is retracted, or its host stays busy with
    another check."""
    if not settings.watch_interval_hours:
        raise StateConflict("The source watch is off (TALLY_WATCH_INTERVAL_HOURS=0).")
    lease = _lease_now(make_session, claim_id, settings, clock)
    return check(make_session, shared_client(), lease, settings, clock)


def _lease_now(
    make_session: Callable[[], Session], claim_id: str, settings: Settings, clock: Clock
) -> Lease:
    """The claim's watch, leased as soon as its host is free (enrolled first if need be)."""
    give_up = time.monotonic() + settings.watch_timeout_seconds * 3
    while True:
        with make_session() as session:
            lease, wait = _try_lease(session, claim_id, settings, clock())
        if lease is not None:
            return lease
        if time.monotonic() + wait > give_up:
            raise StateConflict("Another check of this page's host is running; try again soon.")
        time.sleep(min(wait, 0.5))


def _try_lease(
    session: Session, claim_id: str, settings: Settings, now: datetime
) -> tuple[Lease | None, float]:
    """The lease, or how long to wait for the host."""
    begin_write(session)
    claim = repository.claims.get_claim(session, claim_id)
    if claim.retracted:
        raise StateConflict(f"Claim {claim.id} is retracted: its source is no longer watched.")
    if claim.url is None:
        raise StateConflict(f"Claim {claim.id} has no url to check.")
    host = check_log.watch_host(session, claim.id)
    if host is None:
        host = check_log.host_ids(session, [host_key(claim.url)])[host_key(claim.url)]
        check_log.watch_claims(session, [(claim.id, claim.url, host)], now)
    busy_until, next_request_at = check_log.locked_host(session, host)
    free_at = max(t for t in (busy_until, next_request_at, now) if t is not None)
    if free_at > now:
        session.rollback()
        return None, (free_at - now).total_seconds()
    lease = check_log.lease_claim(session, claim.id, now + lease_time(settings))
    session.commit()
    return lease, 0.0


# --- the watcher ---------------------------------------------------------------------------


class Watcher:
    """Checks due pages in a thread of its own until `stopping` is set: looks for new claims
    and due checks every watch_poll_seconds, and runs up to watch_concurrency checks at once,
    one per host. Off when watch_interval_hours is 0. Any number of watchers may share one
    database."""

    def __init__(
        self,
        make_session: Callable[[], Session],
        settings: Settings,
        stopping: threading.Event | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self.make_session = make_session
        self.settings = settings
        self.stopping = stopping or threading.Event()
        self.clock = clock
        self.running: set[Future[StoredCheck]] = set()
        self.seen = 0  # claims up to this id were enrolled (a quick look reads from a bit before)
        self.next_sweep = 0.0  # time.monotonic() of the next look at every claim
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        """Run in a background thread (unless the watch is off)."""
        if self.settings.watch_interval_hours:
            self.thread = threading.Thread(target=self.run, name="tally-watch", daemon=True)
            self.thread.start()

    def stop(self) -> None:
        """Ask the loop to end and wait for the checks under way (bounded by their deadline)."""
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(lease_time(self.settings).total_seconds())

    def run(self) -> None:
        client = shared_client()
        pool = ThreadPoolExecutor(self.settings.watch_concurrency, "tally-watch-check")
        try:
            while not self.stopping.is_set():
                self.tick(client, pool)
                self.stopping.wait(self.settings.watch_poll_seconds)
        finally:
            # The checks under way end by their deadline (a worker that dies instead leaves
            # their leases to expire, and another worker checks again).
            pool.shutdown(wait=True, cancel_futures=True)

    def tick(self, client: httpx.Client, pool: ThreadPoolExecutor) -> int:
        """Enrol new claims and start the due checks there is room for; how many started."""
        try:
            self.enrol()
            self.running = {f for f in self.running if not f.done()}
            room = self.settings.watch_concurrency - len(self.running)
            if room <= 0:
                return 0
            with self.make_session() as session:
                leases = lease_due(session, self.settings, self.clock(), room)
            for lease in leases:
                self.running.add(pool.submit(self._check, client, lease))
            return len(leases)
        except Exception:  # the database may be away for a while: log, wait, try again
            log.exception("source watch error")
            return 0

    def enrol(self) -> None:
        sweep = time.monotonic() >= self.next_sweep
        after = 0 if sweep else max(0, self.seen - ENROL_SLACK)
        self.seen = enrol(self.make_session, after, self.clock())
        if sweep:
            park(self.make_session)
            self.next_sweep = time.monotonic() + SWEEP_SECONDS

    def _check(self, client: httpx.Client, lease: Lease) -> StoredCheck:
        try:
            done = check(self.make_session, client, lease, self.settings, self.clock)
        except Exception:
            log.exception("source check error", claim=lease.claim_id)
            raise
        if done.error:
            log.info("source check failed", claim=lease.claim_id, error=done.error)
        return done
