"""Notice templates: selection (override dir, per-job, locale, reason category), sandboxed rendering.

Layout of a template directory (the packaged defaults in `junkan/templates/mail/` and the operator's
override directory, `JUNKAN_MAIL__TEMPLATE_DIR`, share it; the override wins file by file)::

    <locale>/<kind>.subject.txt   <locale>/<kind>.txt   <locale>/<kind>.html
    <locale>/<kind>.<category>.subject.txt  ...       a variant for one reason category
    <locale>/_layout.txt, _layout.html                 shared frame: blocks greeting, body, partner,
                                                       signature, footer (the 特定電子メール法 block)
    _frame.html                                        the HTML markup every <locale>/_layout.html
                                                       extends; the locale's layout fills in the words
    jobs/<job_external_id>/<locale>/<kind>[.<category>].*   per-job override (override dir only)

Each part resolves on its own, most specific first: job+category, job, category, plain; the candidate's
locale first, then the default locale. A template may `{% extends %}` another one and replace a single
block. The shared sections are blocks of one layout rather than `{% include %}`d files: an include
costs a fresh context per render, which halved the render rate.

Speed (the outbox renders at send time, thousands per run): a store resolves, compiles and hashes the
three parts of a (kind, locale, category, job) once and keeps them together (`NoticeTemplates`); a
render then only builds one context dict, shared by all three parts, and runs the compiled code. No file
is looked at per render: edits are noticed by `refresh_if_stale`, at most every `reload_check_s`.

Templates run in Jinja's SandboxedEnvironment with HTML autoescaping for `.html` parts, no globals and
StrictUndefined, so a typo or a sandbox escape attempt fails loudly instead of mailing a half-rendered
notice. Values are data, never template code: a name such as `{{7*7}}` is printed as written.
"""

from __future__ import annotations

import functools
import hashlib
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from jinja2 import (
    ChoiceLoader,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    Template,
    TemplateNotFound,
    TemplateSyntaxError,
    meta,
    select_autoescape,
)
from jinja2 import TemplateError as JinjaTemplateError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from junkan.config import MailSettings, NoticeSettings, RecruitingContact, SenderSettings
from junkan.mail.headers import DEFAULT_SUBJECT_MAX_CHARS, clean_header_text, clean_subject

NoticeKind = Literal["rejection", "withdrawal"]
PARTS: tuple[str, ...] = ("subject.txt", "txt", "html")
#: Consent purpose that unlocks the partner section (docs/privacy.md "Purposes").
PARTNER_CONSENT = "partner_info"

_KIND_RE = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
_CATEGORY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,60}$")
_LOCALE_RE = re.compile(r"^[a-z]{2,3}$")
# Job ids come from the ATS; anything that could walk the file system or hide in a listing is refused.
_JOB_ID_BAD = re.compile(r"[/\\\x00-\x1f\x7f]")
_FIELD_MAX_CHARS = 200


class MailTemplateError(Exception):
    """A template could not be found, parsed or rendered. The message names the template."""

    def __init__(self, template_name: str, message: str) -> None:
        super().__init__(f"mail template {template_name!r}: {message}")
        self.template_name = template_name


@dataclass(frozen=True, slots=True)
class PartnerBlock:
    name: str
    #: Tracked link that carries the referral code.
    url: str
    description: str | None = None


@dataclass(frozen=True, slots=True)
class NoticeContext:
    kind: str  # NoticeKind, or another kind that has templates
    sender: SenderSettings
    candidate_name: str | None = field(default=None, repr=False)
    job_title: str | None = None
    locale: str | None = None
    reason_category: str | None = None
    job_external_id: str | None = None
    partner: PartnerBlock | None = None
    unsubscribe_url: str | None = None
    #: The person's own page 「今後のご案内の設定」 (junkan/web/preference_page.py), in every mail, and
    #: how many days its link works.
    preferences_url: str | None = None
    preferences_days: int | None = None
    #: The recruiting desk of the signature (junkan.mail.sender_identity.recruiting_contact fills in its
    #: address); `sender.recruiting_contact` when unset. Never the privacy address of the footer.
    recruiting: RecruitingContact | None = None
    #: Values only one kind's templates use (a consent renewal's link), as plain strings.
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RenderedMail:
    subject: str
    text: str
    html: str
    #: The body's template, e.g. "ja/rejection.final_interview" or "jobs/J-1/ja/rejection".
    template_name: str
    #: Hash over the sources of every template used (parts and partials); changes when any of them does.
    template_version: str
    locale: str = "ja"
    #: True when the partner section is in: the mail is advertising under 特定電子メール法.
    advertising: bool = False


def partner_section_allowed(consents: Iterable[str], settings: NoticeSettings) -> bool:
    """Policy: the partner block needs `partner_info` consent; `partner_section = "off"` removes it."""
    if settings.partner_section == "off":
        return False
    return PARTNER_CONSENT in set(consents)


def normalize_locale(locale: str | None, default: str = "ja") -> str:
    """'ja-JP', 'ja_JP', 'JA' -> 'ja'. Unknown shapes fall back to the default."""
    if not locale:
        return default
    primary = locale.strip().replace("_", "-").split("-")[0].lower()
    return primary if _LOCALE_RE.match(primary) else default


def _safe_job_id(job_external_id: str | None) -> str | None:
    if not job_external_id:
        return None
    job = job_external_id.strip()
    if not job or job.startswith(".") or len(job) > 200 or _JOB_ID_BAD.search(job):
        return None
    return job


def _safe_category(category: str | None) -> str | None:
    if not category:
        return None
    value = category.strip().lower()
    return value if _CATEGORY_RE.match(value) else None


def _clean_field(value: str | None) -> str:
    # Body text keeps its characters but loses control characters and line breaks: a name or job title
    # is one line, and a multi-line value must not be able to forge paragraphs of the notice.
    return clean_header_text(value or "", _FIELD_MAX_CHARS)


_PACKAGE_DIR = Path(__file__).resolve().parents[1] / "templates" / "mail"


class _NoticeSandbox(SandboxedEnvironment):
    """The sandbox, plus a plain dict of loaded templates: `{% extends %}` looks its parent up on every
    render, and Jinja's own cache builds a weak reference per lookup. Attribute access and rendering are
    the sandbox's own, unchanged."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        #: Loaded templates by name. Cleared together with `cache`.
        self.loaded: dict[str, Template] = {}

    def get_template(self, name: Any, parent: str | None = None, globals: Any = None) -> Template:
        if globals is not None or not isinstance(name, str):
            return super().get_template(name, parent, globals)
        if parent is not None:
            name = self.join_path(name, parent)
        template = self.loaded.get(name)
        if template is None:
            template = self.loaded[name] = super().get_template(name, parent)
        return template


@dataclass(frozen=True, slots=True)
class TemplateChoice:
    """What picks a notice's templates: its kind, the locale, the reason category and the job (ATS id)."""

    kind: str
    #: Normalised ("ja-JP" -> "ja"); the store's default locale is tried after it.
    locale: str
    category: str | None
    job_external_id: str | None


@dataclass(frozen=True, slots=True)
class NoticeTemplates:
    """The three parts chosen for one (kind, locale, category, job), compiled, with their version hash."""

    #: Template names of subject, text and HTML, e.g. "ja/rejection.final_interview.txt".
    names: tuple[str, str, str]
    compiled: tuple[Template, Template, Template] = field(repr=False)
    #: The locale actually served (a candidate asking for "fr" gets the default locale's files).
    locale: str
    #: The body's template without the part suffix: "ja/rejection" or "jobs/J-1/ja/rejection".
    template_name: str
    version: str


class TemplateStore:
    """Finds, compiles, caches and renders notice templates. Thread-safe; share one per process."""

    def __init__(
        self,
        template_dir: Path | None = None,
        *,
        default_locale: str = "ja",
        subject_max_chars: int = DEFAULT_SUBJECT_MAX_CHARS,
        reload_check_s: float | None = 2.0,
    ) -> None:
        loaders: list[Any] = []
        if template_dir is not None:
            template_dir = Path(template_dir)
            if not template_dir.is_dir():
                raise ValueError(f"mail template directory {template_dir} does not exist")
            loaders.append(FileSystemLoader(str(template_dir)))
        # PackageLoader also works from an installed wheel; the path fallback serves a source checkout.
        try:
            loaders.append(PackageLoader("junkan", "templates/mail"))
        except ValueError:
            loaders.append(FileSystemLoader(str(_PACKAGE_DIR)))
        self.template_dir = template_dir
        self.default_locale = normalize_locale(default_locale)
        self.subject_max_chars = subject_max_chars
        self._env = _NoticeSandbox(
            loader=ChoiceLoader(loaders),
            # Asked on every render (each context's EvalContext); the answer per template name never changes.
            autoescape=functools.lru_cache(maxsize=1024)(
                select_autoescape(enabled_extensions=("html", "htm"), default_for_string=False)
            ),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            # Checking every file's mtime on every render costs more than the render itself; edits are
            # picked up by `refresh_if_stale` instead, at most every `reload_check_s` seconds.
            auto_reload=False,
        )
        # No globals at all (Jinja adds range, lipsum, cycler, joiner, namespace, dict): a notice needs none
        # of them, the sandbox offers less to play with, and every render skips merging them in.
        self._env.globals.clear()
        self.reload_check_s = reload_check_s
        self._lock = threading.Lock()
        self._last_check = time.monotonic()
        # Which file answers a lookup, compiled templates and version hashes are cached per store. Edits to
        # a file in use drop them all (so text and version always match); a newly added file is seen by
        # the next store, i.e. the next run.
        self._resolved: dict[tuple[TemplateChoice, str], str] = {}
        self._compiled: dict[str, Template] = {}
        self._versions: dict[tuple[str, ...], str] = {}
        self._selected: dict[tuple[str, str, str, str], NoticeTemplates] = {}
        self._watch: dict[str, Callable[[], bool]] = {}

    @classmethod
    def from_settings(cls, mail: MailSettings, notice: NoticeSettings | None = None) -> TemplateStore:
        notice = notice or NoticeSettings()
        return cls(mail.template_dir, default_locale=notice.default_locale)

    # -- selection --------------------------------------------------------------------------------------
    def candidates(self, choice: TemplateChoice, part: str) -> list[str]:
        """Template names tried for one part, most specific first."""
        kind = choice.kind
        if not _KIND_RE.match(kind):
            raise ValueError(f"invalid mail kind {kind!r}")
        if part not in PARTS:
            raise ValueError(f"invalid template part {part!r}")
        job = _safe_job_id(choice.job_external_id)
        cat = _safe_category(choice.category)
        names: list[str] = []
        for loc in dict.fromkeys((normalize_locale(choice.locale, self.default_locale), self.default_locale)):
            stems = []
            if job:
                if cat:
                    stems.append(f"jobs/{job}/{loc}/{kind}.{cat}")
                stems.append(f"jobs/{job}/{loc}/{kind}")
            if cat:
                stems.append(f"{loc}/{kind}.{cat}")
            stems.append(f"{loc}/{kind}")
            names.extend(f"{stem}.{part}" for stem in stems)
        return names

    def resolve(self, choice: TemplateChoice, part: str) -> str:
        """The name of the most specific template there is for one part."""
        cached = self._resolved.get((choice, part))
        if cached is not None:
            return cached
        names = self.candidates(choice, part)
        for name in names:
            try:
                self._env.loader.get_source(self._env, name)  # type: ignore[union-attr]
            except TemplateNotFound:
                continue
            self._resolved[(choice, part)] = name
            return name
        raise MailTemplateError(
            names[-1], f"no template for kind={choice.kind!r} part={part!r} (tried {names})"
        )

    # -- rendering --------------------------------------------------------------------------------------
    def refresh_if_stale(self) -> bool:
        """Drop every cache when a template file in use changed on disk. Returns True when it did."""
        if self.reload_check_s is None:
            return False
        now = time.monotonic()
        if now - self._last_check < self.reload_check_s:
            return False
        with self._lock:
            if now - self._last_check < self.reload_check_s:
                return False
            self._last_check = now
            if all(check() for check in self._watch.values()):
                return False
            self._env.cache.clear()  # type: ignore[union-attr]
            self._env.loaded.clear()
            self._resolved.clear()
            self._compiled.clear()
            self._versions.clear()
            self._selected.clear()
            self._watch.clear()
            return True

    def select(
        self,
        kind: str,
        *,
        locale: str | None = None,
        category: str | None = None,
        job_external_id: str | None = None,
    ) -> NoticeTemplates:
        """The compiled parts for one notice type, resolved and hashed on first use, then cached."""
        key = (kind, locale or "", category or "", job_external_id or "")
        chosen = self._selected.get(key)
        if chosen is not None:
            return chosen
        loc = normalize_locale(locale, self.default_locale)
        choice = TemplateChoice(kind, loc, category, job_external_id)
        subject, text, html = (self.resolve(choice, part) for part in PARTS)
        names = (subject, text, html)
        # Hash first: the edit checks it records then also cover a file changed while compiling.
        version = self.version(names)
        chosen = NoticeTemplates(
            names=names,
            compiled=(self._template(subject), self._template(text), self._template(html)),
            locale=text.split("/")[-2],
            template_name=text.removesuffix(".txt"),
            version=version,
        )
        with self._lock:
            self._selected[key] = chosen
        return chosen

    def _template(self, name: str) -> Template:
        template = self._compiled.get(name)
        if template is None:
            try:
                template = self._env.get_template(name)
            except Exception as exc:
                raise _template_error(name, exc) from exc
            self._compiled[name] = template
        return template

    def render(self, name: str, context: dict[str, Any]) -> str:
        return self.render_compiled(name, self._template(name), context)

    def render_compiled(self, name: str, template: Template, context: dict[str, Any]) -> str:
        """`template.render(context)` through the sandbox. Errors become MailTemplateError naming the
        template."""
        try:
            return template.render(context)
        except Exception as exc:
            raise _template_error(name, exc) from exc

    def version(self, names: Iterable[str]) -> str:
        """A short hash over the sources of `names` and of everything they include/extend/import."""
        key = tuple(names)
        cached = self._versions.get(key)
        if cached is not None:
            return cached
        digest = hashlib.sha256()
        checks: dict[str, Callable[[], bool]] = {}
        seen: set[str] = set()
        pending = list(key)
        sources: dict[str, str] = {}
        while pending:
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            try:
                source, _filename, uptodate = self._env.loader.get_source(self._env, name)  # type: ignore[union-attr]
            except TemplateNotFound as exc:
                raise MailTemplateError(name, "referenced template not found") from exc
            sources[name] = source
            if uptodate is not None:
                checks[name] = uptodate
            try:
                refs = meta.find_referenced_templates(self._env.parse(source, name=name))
            except TemplateSyntaxError as exc:
                raise MailTemplateError(name, f"syntax error at line {exc.lineno}: {exc.message}") from exc
            # Dynamic references (None) cannot be followed statically; the static ones cover our layout.
            pending.extend(ref for ref in refs if ref is not None)
        for name in sorted(sources):
            digest.update(name.encode())
            digest.update(b"\0")
            digest.update(sources[name].encode())
            digest.update(b"\0")
        value = digest.hexdigest()[:16]
        with self._lock:
            self._versions[key] = value
            self._watch.update(checks)
        return value


def _template_error(name: str, exc: Exception) -> MailTemplateError:
    if isinstance(exc, MailTemplateError):
        return exc
    if isinstance(exc, SecurityError):
        return MailTemplateError(name, f"blocked by the sandbox: {exc}")
    if isinstance(exc, TemplateSyntaxError):
        return MailTemplateError(exc.name or name, f"syntax error at line {exc.lineno}: {exc.message}")
    if isinstance(exc, TemplateNotFound):
        return MailTemplateError(name, f"includes a missing template {exc.name!r}")
    if isinstance(exc, JinjaTemplateError):
        return MailTemplateError(name, f"{type(exc).__name__}: {exc}")
    # A filter or test blowing up inside a user template.
    return MailTemplateError(name, f"render failed: {type(exc).__name__}: {exc}")


def _view(**fields: str) -> Mapping[str, str]:
    """A read-only mapping of strings for the templates (`sender.company_name`, `partner.url`). The sandbox
    answers `obj.key` on a mapping with a plain item lookup, and a proxy offers templates no method that
    could change a view shared by later notices."""
    return MappingProxyType(fields)


# Job titles, partner names, categories and the sender repeat from notice to notice: clean them once.
# Candidate names do not repeat, and personal data is better not kept around: those are not cached.
_clean_shared = functools.lru_cache(maxsize=4096)(_clean_field)
_variant = functools.lru_cache(maxsize=256)(_safe_category)


@functools.lru_cache(maxsize=64)
def _sender_view(company_name: str, postal_address: str, contact_email: str) -> Mapping[str, str]:
    return _view(company_name=company_name, postal_address=postal_address, contact_email=contact_email)


@functools.lru_cache(maxsize=64)
def _desk_view(name: str, email: str, phone: str) -> Mapping[str, str]:
    return _view(name=name, email=email, phone=phone)


def recruiting_view(desk: RecruitingContact, locale: str) -> Mapping[str, str]:
    """The signature's `recruiting.name` / `.email` / `.phone` (empty strings when unknown)."""
    name = desk.name_en if locale != "ja" and desk.name_en else desk.name
    return _desk_view(name, desk.email or "", desk.phone or "")


def _context(ctx: NoticeContext, locale: str) -> dict[str, Any]:
    sender = ctx.sender
    company = sender.company_name
    if locale != "ja" and sender.company_name_en:
        company = sender.company_name_en
    partner = None
    if ctx.partner is not None:
        partner = _view(
            name=_clean_shared(ctx.partner.name),
            url=ctx.partner.url,
            description=(ctx.partner.description or "").strip(),
        )
    # Strings and two small read-only mappings of strings, nothing else: the sandbox has nothing
    # interesting to walk into, and its attribute lookups on them stay cheap.
    return {
        "kind": ctx.kind,
        "locale": locale,
        "variant": _variant(ctx.reason_category) or "",
        "candidate_name": _clean_field(ctx.candidate_name),
        "job_title": _clean_shared(ctx.job_title),
        "company_name": company,
        "sender": _sender_view(company, sender.postal_address, sender.contact_email),
        "partner": partner,
        "advertising": partner is not None,
        "unsubscribe_url": ctx.unsubscribe_url or "",
        "preferences_url": ctx.preferences_url or "",
        "preferences_days": ctx.preferences_days or "",
        **signature_values(ctx.recruiting or sender.recruiting_contact, locale),
        **ctx.extra,
    }


def signature_values(desk: RecruitingContact, locale: str) -> dict[str, Any]:
    """`recruiting` for the signature, and `reply_contact` (its address) for override templates that
    were written before the desk had its own setting."""
    view = recruiting_view(desk, locale)
    return {"recruiting": view, "reply_contact": view["email"]}


def render_notice(store: TemplateStore, ctx: NoticeContext) -> RenderedMail:
    """Render subject, text and HTML for one notice. Raises MailTemplateError on template problems and
    ValueError when the mail would break the advertising rules (partner block without an opt-out)."""
    if ctx.partner is not None:
        if not ctx.unsubscribe_url:
            raise ValueError("a notice with the partner section needs an unsubscribe URL (特定電子メール法)")
        sender = ctx.sender
        if not (sender.company_name and sender.postal_address and sender.contact_email):
            raise ValueError("a notice with the partner section needs the sender's name, address and contact")
        if not ctx.partner.url:
            raise ValueError("the partner block needs a URL")
    store.refresh_if_stale()
    chosen = store.select(ctx.kind, locale=ctx.locale, category=ctx.reason_category,
                          job_external_id=ctx.job_external_id)
    values = _context(ctx, chosen.locale)
    subject_name, text_name, html_name = chosen.names
    subject_t, text_t, html_t = chosen.compiled
    subject = clean_subject(store.render_compiled(subject_name, subject_t, values), store.subject_max_chars)
    if not subject:
        raise MailTemplateError(subject_name, "rendered an empty subject")
    text = store.render_compiled(text_name, text_t, values).replace("\r\n", "\n")
    html = store.render_compiled(html_name, html_t, values).replace("\r\n", "\n")
    return RenderedMail(
        subject=subject,
        text=text if text.endswith("\n") else text + "\n",
        html=html,
        template_name=chosen.template_name,
        template_version=chosen.version,
        locale=chosen.locale,
        advertising=values["advertising"],
    )
