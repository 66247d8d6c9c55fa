"""The engagement web service: tracked-link redirects, one-click unsubscribe, SendGrid's event webhook.

Endpoints (see docs/engagement.md):
  GET  /r/{token}       record one click, 302 to the destination computed from the message
  GET  /u/{token}       unsubscribe page with its two choices; no side effect (mail scanners prefetch links)
  POST /u/{token}       RFC 8058 one-click unsubscribe (advertising only), or `choice=all_mail` from the
                        page (all mail); 200, never a redirect, idempotent
  GET  /c/{token}       consent renewal page (wording version, a button); no side effect
  POST /c/{token}       records the renewed `talent_pool` consent; forged or expired token: 404, nothing
  GET  /p/{token}       the person's own page 「今後のご案内の設定」; records a visit, nothing else
  POST /p/{token}       saves the page (preferences and consents), asks for a copy of the data, or erases
                        it after a confirmation; same origin only, rate-limited per token
  POST /hooks/sendgrid  signed event webhook; events are committed before the 2xx
  GET  /healthz         liveness plus a database round trip

A validly signed token whose person was anonymised or erased since is answered exactly as an unknown one
(404, the neutral page) and records nothing, on every route (junkan.privacy.erased.link_holder).

Database work is synchronous SQLAlchemy, run in Starlette's thread pool so the event loop stays free.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from junkan.backoff import jittered_backoff
from junkan.config import Settings, get_settings
from junkan.consent.preferences import PAGE_SOURCE, record_visit, save_choices
from junkan.consent.renewal import RenewalTarget, record_renewal, renewal_target
from junkan.db import make_engine, session_scope
from junkan.db.models import Candidate, Job
from junkan.engagement.clicks import LinkTarget, ScannerRules, record_click, resolve_link
from junkan.engagement.event_batch import NotAnArray, read_events
from junkan.engagement.events import IngestResult, begin_webhook_batch, ingest_events, prepare_events
from junkan.engagement.optout import UnsubscribeOutcome, UnsubscribeScope, unsubscribe_message
from junkan.links import InvalidLink, LinkSigner
from junkan.pool.months import local_day
from junkan.pool.refs import candidate_ref
from junkan.pool.vocabulary.thesaurus import Vocabulary, load_vocabulary
from junkan.privacy.copy_requests import request_copy
from junkan.privacy.erased import LinkHolder, link_holder
from junkan.privacy.erasure import erase
from junkan.privacy.find import RequestKeys
from junkan.web import pages, preference_page, renewal_page
from junkan.web.checkpoint import WalCheckpointer
from junkan.web.preference_page import FormInput, FormRefused
from junkan.web.ratelimit import RateLimiter
from junkan.web.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookVerifier

log = logging.getLogger("junkan.web")
_T = TypeVar("_T")

#: SendGrid's batches are far smaller, so a genuine body stays well below this; a bigger one is refused
#: with 413 before more of it is read (the nginx `client_max_body_size` in docs/engagement.md matches).
#: A constant, not a setting: nothing legitimate needs more, and an operator has nothing to tune.
MAX_WEBHOOK_BODY = 16 * 1024 * 1024
#: A Content-Length of more digits than this is past any cap (and int() of thousands of digits fails).
_MAX_LENGTH_DIGITS = 12
#: PostgreSQL deadlock_detected and serialization_failure: safe to retry, the transaction was rolled back.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
TRANSIENT_ATTEMPTS = 5
#: Deadlock victims wait a jittered moment before their next attempt: batches that collided once would
#: otherwise retry in lockstep and collide again.
TRANSIENT_BACKOFF_S = (0.05, 1.0)
#: itsdangerous tokens for our payloads are ~100 characters; longer ones are rejected before any work.
MAX_TOKEN_LEN = 512
#: The unsubscribe page's forms post a field or two; RFC 8058 clients post `List-Unsubscribe=One-Click`.
MAX_FORM_BODY = 1024

#: POSTs to the preference page per token in PREFERENCE_WINDOW_S: a person saves, asks for a copy and
#: erases a handful of times at most; more is a script (docs/privacy.md "The preference page").
PREFERENCE_POSTS = 10
PREFERENCE_WINDOW_S = 600.0
#: The preference page's own policy: its forms POST back to itself, and a browser sends the Origin of a
#: form POST only when the page's policy lets it (under `no-referrer` it sends `Origin: null`). The page
#: has no link to another site, so the token in its URL still never leaves us.
PREFERENCE_REFERRER_POLICY = "same-origin"

_COMMON_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    # Tokens are in our URLs: never hand them to the partner's site through the Referer header.
    "Referrer-Policy": "no-referrer",
}


def create_app(settings: Settings, *, clock: Callable[[], float] = time.time) -> Starlette:
    """The ASGI app. `clock` (unix seconds) drives token expiry, webhook freshness and stored times."""
    engine = make_engine(settings.database_url)
    signer = LinkSigner.from_settings(settings.links, clock=clock)
    hash_key = settings.retention.key_bytes()
    key = settings.webhook.sendgrid_public_key
    verifier = WebhookVerifier(key, max_age_s=settings.webhook.max_age_s, clock=clock) if key else None
    partners = settings.all_partners()
    # Optional setting (a careers-page URL with {job_id}/{source}/{external_id}); without it job links 404.
    job_url_template: str | None = getattr(settings.links, "job_url_template", None)
    scanner_rules = ScannerRules.from_settings(settings.links)
    own_origin = _origin(settings.links.public_base_url)
    preference_posts = RateLimiter(PREFERENCE_POSTS, PREFERENCE_WINDOW_S)
    vocabulary: list[Vocabulary] = []

    def vocab() -> Vocabulary:
        # Loaded on the first visit, not at start-up: it reads the tokenizer's dictionary.
        if not vocabulary:
            vocabulary.append(load_vocabulary(settings.recontact.thesaurus_path))
        return vocabulary[0]

    sqlite = engine.dialect.name == "sqlite"
    write_lock: AbstractContextManager[Any] = threading.Lock() if sqlite else nullcontext()
    checkpointer = WalCheckpointer(engine) if sqlite else None

    def now() -> datetime:
        return datetime.fromtimestamp(clock(), UTC)

    async def healthz(request: Request) -> Response:
        def ping() -> None:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))

        try:
            await run_in_threadpool(ping)
        except SQLAlchemyError as exc:
            log.error("health check: database unavailable (%s)", type(exc).__name__)
            return _json({"status": "unavailable"}, 503)
        return _json({"status": "ok"})

    async def tracked_link(request: Request) -> Response:
        token = request.path_params["token"]
        try:
            link = signer.read_tracking(_bounded(token))
        except InvalidLink:
            return _invalid()
        head = request.method == "HEAD"  # link checkers and scanners: answered alike, counted apart

        def work() -> LinkTarget | None:
            # Every fetch is counted (as a person's or a scanner's, junkan.engagement.clicks); on SQLite in
            # the app's write queue, so two fetches of one mail's links see each other.
            with write_lock, session_scope(engine) as session:
                if link_holder(session, link.message_id) is None:  # an erased person: as if unknown
                    return None
                target = resolve_link(session, link.message_id, link.link, partners=partners,
                                      job_url_template=job_url_template)
                if target is not None:
                    record_click(session, target, link.link, at=now(), head=head, rules=scanner_rules)
                return target

        target = await run_in_threadpool(work)
        if target is None:
            return _invalid()
        if target.url is None:  # the unsubscribe link: its own confirmation page on this service
            location = f"{request.scope.get('root_path', '')}/u/{signer.unsubscribe_token(target.public_id)}"
        else:
            location = target.url
        return _secure(RedirectResponse(location, status_code=302))

    async def unsubscribe(request: Request) -> Response:
        try:
            public_id = signer.read_unsubscribe(_bounded(request.path_params["token"]))
        except InvalidLink:
            return _invalid()
        lang = request.query_params.get("lang")
        if request.method in ("GET", "HEAD"):
            locale = await run_in_threadpool(_holder_locale, engine, public_id)
            if locale is None:
                return _invalid()
            return _html(pages.unsubscribe_confirm(lang or locale, settings.sender))

        scope = await _unsubscribe_scope(request)

        def work() -> UnsubscribeOutcome | None:
            with session_scope(engine) as session:
                if link_holder(session, public_id) is None:
                    return None
                return unsubscribe_message(session, public_id, at=now(), key=hash_key, scope=scope)

        outcome = await _holder_work(work, "unsubscribe")
        if isinstance(outcome, Response):
            return outcome
        if outcome.consents_withdrawn or outcome.suppressed:
            log.info("unsubscribe (%s) recorded: consents withdrawn=%d, cancelled=%d", scope,
                     outcome.consents_withdrawn, outcome.messages_cancelled)
        return _html(pages.unsubscribe_done(lang or outcome.locale, settings.sender,
                                            all_mail=scope == "all_mail"))

    async def renewal(request: Request) -> Response:
        max_age_s = settings.consent.renewal_link_max_age_days * 24 * 3600
        try:
            public_id = signer.read_renewal(_bounded(request.path_params["token"]), max_age_s=max_age_s)
        except InvalidLink:
            return _invalid()
        record = request.method == "POST"
        if record:
            # The form is a field or two; reading it first means a client that leaves mid-request (or is
            # cut off by the server's body deadline) renews nothing. Its content decides nothing.
            await _read_capped(request, MAX_FORM_BODY)

        def work() -> tuple[RenewalTarget, datetime | None] | None:
            with session_scope(engine) as session:
                target = renewal_target(session, public_id) if link_holder(session, public_id) else None
                if target is None or not record:
                    return None if target is None else (target, None)
                renewed = record_renewal(session, target, settings.consent, now())
                if renewed.recorded:
                    log.info("consent renewal recorded for message %s", public_id)
                return target, renewed.expires_at

        found = await _holder_work(work, "consent renewal")
        if isinstance(found, Response):
            return found
        target, until = found
        lang = request.query_params.get("lang") or target.locale
        if not record:
            return _html(renewal_page.renewal_confirm(lang, settings.sender,
                                                      days=settings.consent.talent_pool_days))
        shown = local_day(until, settings.business.timezone).isoformat() if until else "—"
        return _html(renewal_page.renewal_done(lang, settings.sender, until=shown))

    async def preferences(request: Request) -> Response:
        token = request.path_params["token"]
        post = request.method == "POST"
        body = b""
        if post:
            # Refused before the token is read, so the answer is the same whoever's link it is.
            if not _same_origin(request, own_origin):
                return _preference_html(preference_page.refused("origin"), 403)
            if not preference_posts.allow(token):
                return _preference_html(preference_page.refused("rate"), 429)
            read = await _read_capped(request, preference_page.MAX_BODY)
            if read is None:
                return _preference_html(preference_page.refused("form"), 413)
            body = read
        try:
            public_id = signer.read_preferences(
                _bounded(token), max_age_s=settings.consent.preference_link_max_age_days * 24 * 3600)
        except InvalidLink:
            return _invalid()
        lang = request.query_params.get("lang")
        back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        zone = settings.business.timezone

        def work() -> Response | tuple[LinkHolder, str] | None:
            words = vocab()
            with session_scope(engine) as session:
                holder = link_holder(session, public_id)
                if holder is None:  # unknown, or the person was anonymised or erased: as if unknown
                    return None
                locale = lang or holder.locale
                places = preference_page.place_choices(session.execute(
                    select(Job.location, func.count()).where(Job.location.is_not(None))
                    .group_by(Job.location)))
                if not post:
                    if request.method == "GET":
                        record_visit(session, holder.candidate_id, at=now())
                    return _preference_html(_form_page(session, holder, locale, places, words))
                try:
                    form = preference_page.read_form(body, words.families, places, words)
                except FormRefused:
                    return _preference_html(preference_page.refused("form"), 400)
                if form.action == "save":
                    return _preference_html(_save(session, holder, form, locale))
                if form.action == "copy":
                    new = request_copy(session, holder.candidate_id, at=now(), source=PAGE_SOURCE)
                    if new:
                        log.info("preference page: copy of the data asked for message %s", public_id)
                    return _preference_html(
                        preference_page.copy_requested(locale, settings.sender, new=new, back=back))
                if form.action == "erase":  # the confirmation: nothing is changed yet
                    return _preference_html(preference_page.erase_confirm(locale, settings.sender, back=back))
                return holder, locale  # erase_confirm: erased below, outside this transaction

        def _form_page(session: Any, holder: LinkHolder, locale: str, places: tuple[str, ...],
                       words: Vocabulary) -> str:
            at = now()
            state = preference_page.page_state(session.connection(), holder.candidate_id, at, places)
            days = settings.consent.talent_pool_days
            return preference_page.preference_form(
                locale, settings.sender, partners[0] if settings.notice.partner_section != "off" else None,
                state, families=words.families, zone=zone,
                pool_days=days, renewed_until=at + timedelta(days=days))

        def _save(session: Any, holder: LinkHolder, form: FormInput, locale: str) -> str:
            saved = save_choices(session, holder.candidate_id, form.preferences, form.consents, at=now(),
                                 settings=settings.consent)
            log.info("preference page saved for message %s; consents recorded: %s", public_id,
                     ", ".join(saved.consents) or "none")
            return preference_page.preference_saved(
                locale, settings.sender, form.preferences, families=vocab().families, in_pool=saved.in_pool,
                pool_until=saved.pool_until, zone=zone, back=back)

        found: Response | tuple[LinkHolder, str] = await _holder_work(work, "preference page")
        if isinstance(found, Response):
            return found
        holder, locale = found

        def erase_person() -> bool:
            with session_scope(engine) as session:
                if link_holder(session, public_id) is None:  # erased in between (a double click)
                    return False
                email = session.scalar(select(Candidate.email_key).where(Candidate.id == holder.candidate_id))
            # The address is unique to the person and found by index; a ref is resolved by one HMAC per
            # candidate (junkan.privacy.find), so it is given only for a person without an address.
            keys = (RequestKeys(emails=(email,)) if email else
                    RequestKeys(candidate_refs=(candidate_ref(holder.candidate_id, settings.links),)))
            erase(engine, settings, keys, reason="asked by the person on the preference page", now=now())
            return True

        done = await _in_db_thread(erase_person, "preference page erasure")
        if isinstance(done, Response):
            return done
        if not done:
            return _invalid()
        log.info("preference page: erasure done for message %s", public_id)
        return _preference_html(preference_page.erased(locale, settings.sender))

    async def sendgrid_webhook(request: Request) -> Response:
        if verifier is None:
            # 503, not 2xx: SendGrid keeps retrying, so nothing is lost while the key is being configured.
            log.error("webhook rejected: JUNKAN_WEBHOOK__SENDGRID_PUBLIC_KEY is not configured")
            return _json({"error": "webhook verification key not configured"}, 503)
        # The headers first: a request that cannot be genuine is refused before any of its body is read.
        signed = verifier.check_headers(request.headers.get(SIGNATURE_HEADER),
                                        request.headers.get(TIMESTAMP_HEADER))
        if signed is None:
            return _json({"error": "forbidden"}, 403)
        try:
            body = await _read_capped(request, MAX_WEBHOOK_BODY)
        except ClientDisconnect:
            return _json({"error": "request body incomplete"}, 400)  # nobody is left to read it
        if body is None:
            log.warning("webhook batch refused: body over %d bytes", MAX_WEBHOOK_BODY)
            return _json({"error": "payload too large"}, 413)
        if not verifier.verify_body(body, signed):
            return _json({"error": "forbidden"}, 403)

        def work() -> IngestResult | Response:
            # Parsing and minimising are CPU work on the whole batch: off the event loop, and outside
            # SQLite's write lock so a batch can be parsed while the one ahead of it is being stored.
            try:
                events = read_events(body)  # an unreadable element costs only itself (quarantined)
            except NotAnArray as exc:
                return _json({"error": str(exc)}, 400)
            prepared = prepare_events(events, hash_key)
            # SQLite has one writer: queueing here is fair and fast, where its busy handler would poll and
            # sleep. PostgreSQL batches run concurrently (row locks; ON CONFLICT settles duplicates).
            for attempt in range(1, TRANSIENT_ATTEMPTS + 1):
                try:
                    with write_lock, session_scope(engine) as session:
                        begin_webhook_batch(session)
                        return ingest_events(session, prepared, now=now(), key=hash_key)
                except OperationalError as exc:
                    # A deadlock or serialization victim rolled back whole: simply run the batch again.
                    if attempt == TRANSIENT_ATTEMPTS or _sqlstate(exc) not in RETRYABLE_SQLSTATES:
                        raise
                    log.warning("webhook batch retried after %s (attempt %d)", _sqlstate(exc), attempt)
                    time.sleep(jittered_backoff(attempt, *TRANSIENT_BACKOFF_S))
            raise AssertionError("unreachable")

        try:
            result = await run_in_threadpool(work)
        except SQLAlchemyError as exc:
            # Non-2xx makes SendGrid retry the batch later; nothing was acknowledged, so nothing is lost.
            sqlstate = getattr(getattr(exc, "orig", None), "sqlstate", None)
            log.error("webhook batch not stored: %s (SQLSTATE %s)", type(exc).__name__, sqlstate)
            return _json({"error": "temporarily unavailable"}, 503)
        if isinstance(result, Response):
            return result
        counts = result.as_dict()
        log.info("webhook batch: %s", counts)
        response = _json(counts)
        if checkpointer is not None and result.stored:
            # Runs once the answer is sent (Starlette background task, in the thread pool).
            response.background = BackgroundTask(checkpointer.run)
        return response

    async def not_found(request: Request, exc: Exception) -> Response:
        if isinstance(exc, HTTPException) and exc.status_code == 405:
            response = _html(pages.invalid_link(), 405)
            response.headers["Allow"] = (exc.headers or {}).get("Allow", "")
            return response
        return _invalid()

    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/r/{token}", tracked_link, methods=["GET"]),
        Route("/u/{token}", unsubscribe, methods=["GET", "POST"]),
        Route("/c/{token}", renewal, methods=["GET", "POST"]),
        Route("/p/{token}", preferences, methods=["GET", "POST"]),
        Route("/hooks/sendgrid", sendgrid_webhook, methods=["POST"]),
    ]
    return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_found,
                                                        ClientDisconnect: _client_gone})


def app_from_env() -> Starlette:
    """Factory for `uvicorn --factory junkan.web.app:app_from_env` (settings from JUNKAN_* / junkan.toml)."""
    return create_app(get_settings())


def _holder_locale(engine: Any, public_id: str) -> str | None:
    """The message's language; None when no person we hold is behind the link (junkan.privacy.erased)."""
    with session_scope(engine) as session:
        holder = link_holder(session, public_id)
        return None if holder is None else holder.locale


async def _unsubscribe_scope(request: Request) -> UnsubscribeScope:
    """`all_mail` only when the page's second form says so; anything else (RFC 8058's body, an empty or
    unreadable one) is the one-click advertising opt-out the footer and the header promise."""
    body = await _read_capped(request, MAX_FORM_BODY)
    if body is None:
        return "advertising"
    fields = parse_qs(body.decode("ascii", errors="replace"), max_num_fields=4)
    return "all_mail" if fields.get("choice") == ["all_mail"] else "advertising"


async def _client_gone(request: Request, exc: Exception) -> Response:
    """A client that went away before its body arrived (or was cut off at the server's body deadline):
    nothing was recorded, since every route reads its body before any database work, and nobody is left
    to read an answer. One debug line, not a traceback per request."""
    log.debug("%s %s: client went away before its request body arrived; nothing recorded",
              request.method, request.url.path.split("/", 2)[1] or "/")
    return Response(status_code=400)


def _sqlstate(exc: OperationalError) -> str | None:
    return getattr(exc.orig, "sqlstate", None)


def _bounded(token: str) -> str:
    if len(token) > MAX_TOKEN_LEN:
        raise InvalidLink("token too long")
    return token


async def _read_capped(request: Request, limit: int) -> bytes | None:
    """The body, read chunk by chunk; None as soon as it is (or is declared) longer than `limit`."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and (len(declared) > _MAX_LENGTH_DIGITS
                                                      or int(declared) > limit):
        return None
    body = bytearray()
    async for chunk in request.stream():
        if len(body) + len(chunk) > limit:
            return None
        body += chunk
    return bytes(body)


def _secure(response: Response, html: bool = False) -> Response:
    response.headers.update(_COMMON_HEADERS)
    if html:
        response.headers["Content-Security-Policy"] = pages.PAGE_CSP
    return response


def _preference_html(body: str, status: int = 200) -> Response:
    response = _html(body, status)
    response.headers["Referrer-Policy"] = PREFERENCE_REFERRER_POLICY
    return response


def _origin(url: str) -> str:
    """`scheme://host[:port]` of a URL, lower-cased, without the scheme's default port."""
    parts = urlsplit(url.strip())
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    port = parts.port
    default = {"http": 80, "https": 443}.get(scheme)
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}" + (f":{port}" if port and port != default else "")


def _same_origin(request: Request, own: str) -> bool:
    """The POST comes from a page of ours: its Origin (or, without one, its Referer) is the public base
    URL's origin. Neither header, or `Origin: null`, is refused."""
    origin = request.headers.get("origin")
    if origin is not None:
        return origin != "null" and _origin(origin) == own
    referer = request.headers.get("referer")
    return referer is not None and _origin(referer) == own


def _html(body: str, status: int = 200) -> Response:
    return _secure(HTMLResponse(body, status_code=status), html=True)


def _invalid() -> Response:
    return _html(pages.invalid_link(), 404)


async def _in_db_thread(work: Callable[[], _T], what: str) -> _T | Response:
    """`work` (a database transaction) off the event loop; a database failure answers 503, so the sender
    of the request tries again later."""
    try:
        return await run_in_threadpool(work)
    except SQLAlchemyError as exc:
        # Parameters may hold the address: log the kind of failure only.
        log.error("%s failed: %s", what, type(exc).__name__)
        return _json({"error": "temporarily unavailable"}, 503)


async def _holder_work(work: Callable[[], _T | None], what: str) -> _T | Response:
    """`_in_db_thread` for a link's work that returns None when the link names nobody (unknown,
    anonymised or erased): that answers like an invalid link."""
    found = await _in_db_thread(work, what)
    return _invalid() if found is None else found


def _json(data: dict[str, Any], status: int = 200) -> Response:
    return _secure(JSONResponse(data, status_code=status))
