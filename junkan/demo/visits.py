"""Demo candidates open their own page 「今後のご案内の設定」 and save their choices (docs/pool.md "The
person's own choices").

After the two demo days, a handful of people who got a mail follow the link in it, as a person's browser
would: the link is taken out of the .eml file the file backend wrote, and the requests go to the web app's
own handler (`junkan.web.app.create_app`) through an in-process HTTP client, with the page's own origin.
Nothing is written behind the page's back. The demo's last `recontact` run then reads the choices. The
visits happen on the real clock: the links were signed by it when the mails were written.

Who does what (people chosen by candidate id among day one's recipients, so a seed gives the same people):
- a person from a consent renewal mail (rejected a year ago, past the cooldown) wants 総務 work, hears
  again in 3 months, adds 簿記2級 and renews the pool: the 総務 job that opens afterwards lists them;
- a person from a rejection notice wants to hear in 12 months instead of the usual 6;
- a person from a rejection notice wants no more openings ("never");
- a person from a renewal mail leaves the talent pool;
- a person from a rejection notice opens the page and saves nothing.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Engine, func, select

from junkan.config import Settings
from junkan.db import session_scope
from junkan.db.models import Application, Job, Message
from junkan.db.models_pool import MatchRun, PoolMatch, PoolMember
from junkan.pool.months import add_months, local_day
from junkan.pool.refs import candidate_ref
from junkan.web.app import create_app

PAGE_LINK = re.compile(r"https?://[^\s\"'<>]+/p/[A-Za-z0-9_.-]+")
_MESSAGE_ID = re.compile(r"<junkan\.([^@>]+)@")


@dataclass(frozen=True, slots=True)
class Persona:
    """What one demo visitor does on the page: the kind of mail they come from, the form they send
    (None: they only look), and the summary's words for it."""

    mail_kind: str
    in_pool: bool
    form: dict[str, str | list[str]] | None
    says: str


#: The family of the job that opens after the visits (junkan/demo/company.py, LATER_JOB).
WANTED_FAMILY = "general_affairs"
PERSONAS: tuple[Persona, ...] = (
    Persona("consent_renewal", True,
            {"action": "save", "family": [WANTED_FAMILY], "timing": "3", "pool": "stay", "renew": "yes",
             "partner": "no", "remote": "any", "skills_text": "簿記2級"},
            "wants 総務 work in 3 months, added 簿記2級, renewed the pool"),
    Persona("rejection", True, {"action": "save", "timing": "12", "pool": "stay", "remote": "any"},
            "wants to hear again in 12 months"),
    Persona("rejection", True, {"action": "save", "timing": "never", "pool": "stay", "remote": "any"},
            "wants no more openings"),
    Persona("consent_renewal", True, {"action": "save", "pool": "leave", "remote": "any"},
            "left the talent pool"),
    Persona("rejection", False, None, "opened the page and left"),
)


@dataclass(frozen=True, slots=True)
class Visit:
    candidate_id: int
    ref: str
    persona: Persona
    #: HTTP status of the GET and of the save (None: no save).
    shown: int
    saved: int | None


def page_links(outbox: Path) -> dict[str, str]:
    """Message public id -> the page link in that mail's text part, for every .eml the demo wrote."""
    found: dict[str, str] = {}
    for path in sorted(outbox.glob("*.eml")):
        mail = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(mail, EmailMessage)
        public = _MESSAGE_ID.search(str(mail["Message-ID"] or ""))
        body = mail.get_body(("plain",))
        links = PAGE_LINK.findall(str(body.get_content())) if body is not None else []
        if public and links:
            found[public.group(1)] = links[0]
    return found


def _cast(engine: Engine, links: dict[str, str]) -> list[tuple[Persona, int, str]]:
    """Each persona's person: the lowest candidate ids among the recipients of that kind of mail (in the
    pool or not, as the persona needs), one person per persona."""
    with session_scope(engine) as s:
        members = set(s.scalars(select(PoolMember.candidate_id)))
        rows = s.execute(select(Message.public_id, Message.kind, Message.candidate_id)
                         .where(Message.public_id.in_(list(links)), Message.candidate_id.is_not(None))
                         .order_by(Message.candidate_id, Message.id)).all()
    taken: set[int] = set()
    cast: list[tuple[Persona, int, str]] = []
    for persona in PERSONAS:
        for public_id, kind, cid in rows:
            if (cid is not None and kind == persona.mail_kind and cid not in taken
                    and (cid in members) == persona.in_pool):
                taken.add(cid)
                cast.append((persona, cid, links[public_id]))
                break
    return cast


def visit_pages(engine: Engine, settings: Settings, outbox: Path,
                personas: Sequence[Persona] = PERSONAS) -> list[Visit]:
    """The visits, through the web app's handler."""
    links = page_links(outbox)
    cast = [c for c in _cast(engine, links) if c[0] in personas]
    base = settings.links.public_base_url
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(base))

    async def browse() -> list[Visit]:
        visits: list[Visit] = []
        transport = httpx.ASGITransport(app=create_app(settings))
        async with httpx.AsyncClient(transport=transport, base_url=base) as client:
            for persona, cid, link in cast:
                path = urlsplit(link).path
                shown = (await client.get(path)).status_code
                saved = ((await client.post(path, data=persona.form, headers={"Origin": origin})).status_code
                         if persona.form is not None else None)
                visits.append(Visit(cid, candidate_ref(cid, settings.links), persona, shown, saved))
        return visits

    return asyncio.run(browse())


_FROM = {"consent_renewal": "renewal mail", "rejection": "rejection notice"}


def visit_lines(engine: Engine, settings: Settings, visits: Sequence[Visit]) -> list[str]:
    """The summary's lines: who opened their page and what the last `recontact` run did with it."""
    if not visits:
        return []
    ids = [v.candidate_id for v in visits]
    with session_scope(engine) as s:
        run_id = s.scalar(select(func.max(MatchRun.id)))
        members = set(s.scalars(select(PoolMember.candidate_id).where(PoolMember.candidate_id.in_(ids))))
        listed = {cid: (ext, rank, why) for cid, ext, rank, why in s.execute(
            select(PoolMatch.candidate_id, Job.external_id, PoolMatch.rank, PoolMatch.why)
            .join(Job, Job.id == PoolMatch.job_id)
            .where(PoolMatch.run_id == run_id, PoolMatch.candidate_id.in_(ids))
            .order_by(PoolMatch.rank))}
        decided = dict(s.execute(
            select(Application.candidate_id, func.max(Application.decided_at))
            .where(Application.candidate_id.in_(ids), Application.status.in_(("rejected", "withdrawn")))
            .group_by(Application.candidate_id)).all())
    saved = sum(1 for v in visits if v.saved == 200)
    lines = [f"  own page:     {len(visits)} people opened 「今後のご案内の設定」 from the link in their "
             f"mail, {saved} saved their choices; the re-contact run after them read them"]
    zone = settings.business.timezone
    for v in visits:
        form = v.persona.form or {}
        if v.saved is None:
            outcome = "only the visit is recorded"
        elif v.candidate_id in listed:
            job, rank, why = listed[v.candidate_id]
            outcome = f"listed for {job}, rank {rank}: 「{why}」"
        elif v.candidate_id not in members:
            outcome = "out of the talent pool: never matched"
        elif form.get("timing") in ("3", "6", "12") and (last := decided.get(v.candidate_id)) is not None:
            day = local_day(last, zone)
            months = int(str(form["timing"]))
            outcome = (f"matched from {add_months(day, months).isoformat()} on, not "
                       f"{add_months(day, settings.recontact.cooldown_months).isoformat()}")
        else:
            outcome = "in the pool, nothing changed"
        lines.append(f"    {v.ref} ({_FROM.get(v.persona.mail_kind, v.persona.mail_kind)}): "
                     f"{v.persona.says} → {outcome}")
    return lines
