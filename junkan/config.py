"""Settings from JUNKAN_* environment variables (nested with `__`) and an optional junkan.toml.

The file is `JUNKAN_CONFIG_FILE` (which must exist), else `./junkan.toml` when there is one; it is looked
up each time settings are built, not at import. `get_settings()` refuses unknown keys and bad values with
a `ConfigError` that names each setting as the operator wrote it (see junkan/config_check.py).

Secrets are `SecretStr`: their repr is masked, so printing or logging a Settings object leaks nothing.

A setting that cannot work is refused here, before anything runs, rather than failing mid-run: every
number has a floor and a ceiling (a retention of 10^14 days overflows a date, 0 mail workers sends
nothing), and every time zone is a `TimeZoneName`, checked against the IANA database.
"""

from __future__ import annotations

import json
import os
import tomllib
from datetime import date, time
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from junkan.config_check import ConfigError, bad_values, unknown_env_vars, unknown_file_keys
from junkan.identity import is_valid_email, normalize_email

__all__ = ["ConfigError", "Settings", "TimeZoneName", "config_file", "get_settings"]

ENV_PREFIX = "JUNKAN_"
CONFIG_FILE_VARIABLE = "JUNKAN_CONFIG_FILE"
DEFAULT_CONFIG_FILE = Path("junkan.toml")
#: JUNKAN_* variables that are not settings, so the typo check leaves them alone: the config file's path,
#: the test suite's database, and the checkout a Prefect worker runs flows from (deployments/).
NOT_SETTINGS = frozenset({CONFIG_FILE_VARIABLE, "JUNKAN_TEST_DATABASE_URL", "JUNKAN_HOME"})


def _known_zone(name: str) -> str:
    # ZoneInfo also reads a relative file path ("../x") as a key; only real zone names pass.
    try:
        if name.strip() != name or not name or name.startswith(("/", ".")) or ".." in name:
            raise ValueError(name)
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError("not a time zone of the IANA database (e.g. Asia/Tokyo, UTC)") from None
    return name


#: A time-zone setting: an IANA name that `zoneinfo` can load, refused in one line otherwise.
TimeZoneName = Annotated[str, AfterValidator(_known_zone)]


def month_day(text: str) -> tuple[int, int]:
    """(month, day) of a "MM-DD" calendar day; "02-29" is one (it exists in leap years)."""
    try:
        month_s, day_s = text.strip().split("-")
        month, day = int(month_s), int(day_s)
        date(2024, month, day)  # a leap year
    except ValueError:
        raise ValueError(f"{text!r} is not a valid MM-DD day (e.g. 12-31)") from None
    return month, day


def _month_day_text(text: str) -> str:
    month_day(text)
    return text


#: A yearly closing day such as 年末年始's "12-31", checked when the settings are read.
MonthDay = Annotated[str, AfterValidator(_month_day_text)]


class _Section(BaseModel):
    # A key that names no setting is a typo: refuse it rather than run with the default.
    model_config = ConfigDict(extra="forbid")


class AtsSettings(_Section):
    kind: Literal["csv", "greenhouse", "lever"] = "csv"
    #: Name used for watermarks and keys; defaults to `kind`. Set it to run several sources.
    source_name: str | None = None
    base_url: str | None = None
    auth_url: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    user_id: str | None = None
    api_key: SecretStr | None = None
    path: Path | None = None
    #: Spreadsheet sources: the jobs sheet (求人一覧), CSV or XLSX; what the matcher reads of each job.
    jobs_path: Path | None = None
    phone_region: str = "JP"
    timeout_s: float = Field(default=30.0, gt=0, le=600)
    max_retries: int = Field(default=5, ge=0, le=20)
    page_size: int = Field(default=500, ge=1, le=10_000)
    #: Spreadsheet sources: the workbook sheet to read (default: the only sheet with a header).
    sheet: str | None = None
    #: A workbook is refused, before it is loaded, past these sizes (a ZIP of XML can be a bomb).
    max_uncompressed_mb: int = Field(default=200, ge=1, le=100_000)
    max_rows: int = Field(default=1_000_000, ge=1, le=100_000_000)
    max_columns: int = Field(default=200, ge=1, le=16_384)
    #: The ATS's web app, for the shortlist's 「ATSで開く」 links (default: Greenhouse
    #: https://app.greenhouse.io, Lever https://hire.lever.co; a spreadsheet has none).
    app_url: str | None = None

    @property
    def source(self) -> str:
        return self.source_name or self.kind

    @property
    def web_app_url(self) -> str | None:
        """Where a person opens in the ATS's own web app, without the trailing slash."""
        if self.kind == "csv":
            return None
        default = {"greenhouse": "https://app.greenhouse.io", "lever": "https://hire.lever.co"}[self.kind]
        return (self.app_url or default).rstrip("/")


class MailSettings(_Section):
    backend: Literal["sendgrid", "smtp", "file"] = "file"
    from_email: str = "recruit@example.co.jp"
    #: The From display name; "<company_name> <recruiting_contact.name>" when unset.
    from_name: str | None = None
    #: Where replies go (the recruiting desk's mailbox when From is a no-reply address); none when unset.
    reply_to: str | None = None
    template_dir: Path | None = None
    outbox_dir: Path = Path("./outbox")
    sendgrid_api_key: SecretStr | None = None
    sendgrid_host: str = "https://api.sendgrid.com"
    asm_group_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    workers: int = Field(default=8, ge=1, le=64)
    max_retries: int = Field(default=4, ge=0, le=20)
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    #: CA bundle that signs the SMTP server's certificate (a private relay); the system store otherwise.
    smtp_ca_file: Path | None = None
    #: Socket timeout for one provider call (SendGrid request or SMTP command).
    timeout_s: float = Field(default=30.0, gt=0, le=600)
    #: Exponential backoff between retries of 5xx / timeouts: base * 2**(n-1), capped.
    backoff_base_s: float = Field(default=1.0, gt=0, le=600)
    backoff_max_s: float = Field(default=30.0, gt=0, le=3600)
    #: A 429 waits until X-RateLimit-Reset, but never longer than this per wait, and at most this often.
    rate_limit_max_wait_s: float = Field(default=60.0, gt=0, le=3600)
    rate_limit_retries: int = Field(default=10, ge=0, le=100)
    #: mailto: target of the List-Unsubscribe header; the sender's contact address when unset.
    unsubscribe_mailto: str | None = None
    #: An `unknown` message with no webhook event this long after its hand-over, while the webhook
    #: reported later messages, was never accepted: back to pending (junkan/outbox/settle.py).
    unknown_settle_s: float = Field(default=3600.0, gt=0, le=7 * 86400)


#: The business time zone unless `business.timezone` says otherwise.
DEFAULT_BUSINESS_TIMEZONE = "Asia/Tokyo"


class BusinessSettings(_Section):
    #: The employer's time zone: the sending window and business days of notices, report periods,
    #: retention days, as_of days, day-only ATS dates, the Date header. One setting for all of them.
    timezone: TimeZoneName = DEFAULT_BUSINESS_TIMEZONE


class NoticeSettings(_Section):
    delay_business_days: int = Field(default=2, ge=0, le=60)
    # Not a setting of its own: Settings hands down `business.timezone`, the zone the window is read in.
    _zone: str = PrivateAttr(default=DEFAULT_BUSINESS_TIMEZONE)
    window_start: time = time(9, 0)
    window_end: time = time(18, 0)
    #: What withdrawn (辞退) candidates receive: a thank-you notice, or nothing.
    withdrawn: Literal["thanks", "none"] = "thanks"
    #: The partner section is shown only with `partner_info` consent; `off` removes it for everyone.
    partner_section: Literal["consent", "off"] = "consent"
    #: Company closing days ("MM-DD") on top of weekends and public holidays; the usual 年末年始.
    extra_closed_days: list[MonthDay] = Field(default_factory=lambda: ["12-31", "01-01", "01-02", "01-03"])
    #: Decisions older than this when first seen get no notice (e.g. history imported on day one).
    max_age_days: int = Field(default=30, ge=1, le=3650)
    #: Template locale when the candidate's is unknown or has no templates.
    default_locale: str = "ja"

    @field_validator("window_end")
    @classmethod
    def _window_closes_after_it_opens(cls, end: time, info: ValidationInfo) -> time:
        start = info.data.get("window_start")
        if isinstance(start, time) and end <= start:
            raise ValueError(f"the sending window must close after it opens (window_start {start:%H:%M})")
        return end

    @property
    def timezone(self) -> str:
        """The business time zone (`business.timezone`) the window and business days are read in."""
        return self._zone


class RecruitingContact(_Section):
    """The recruiting desk (採用担当) named in every mail's signature: where candidates write or call."""

    name: str = "採用担当"
    #: The desk's name in English mail.
    name_en: str = "Recruiting Team"
    #: The desk's address; `mail.reply_to`, else `mail.from_email`, when unset.
    email: str | None = None
    phone: str | None = None


class SenderSettings(_Section):
    """Sender identity shown in advertising mail, as 特定電子メール法 requires."""

    company_name: str = "株式会社サンプル"
    postal_address: str = "〒100-0001 東京都千代田区千代田1-1"
    #: The privacy / opt-out contact of the legal footer (not the signature: see `recruiting_contact`).
    contact_email: str = "privacy@example.co.jp"
    #: Company name in English mail; `company_name` when unset.
    company_name_en: str | None = None
    recruiting_contact: RecruitingContact = Field(default_factory=RecruitingContact)


#: Shipped only so the demo works out of the box; anyone who has the source can forge links with it.
DEFAULT_LINK_SECRET = "change-me-in-production"


class LinkSettings(_Section):
    secret: SecretStr = SecretStr(DEFAULT_LINK_SECRET)
    #: Older secrets still accepted, so keys can be rotated without breaking mailed links.
    fallback_secrets: list[SecretStr] = Field(default_factory=list)
    public_base_url: str = "http://127.0.0.1:8000"
    tracking_max_age_days: int = Field(default=180, ge=1, le=3650)
    #: Careers page a `job:<id>` tracked link redirects to; placeholders {job_id}, {source}, {external_id}.
    job_url_template: str | None = None
    #: A tracked-link fetch this many seconds or less after the mail's delivery is a mail scanner's.
    scanner_after_delivery_s: float = Field(default=30.0, ge=0, le=3600)
    #: A fetch this many seconds or less after another link of the same mail was fetched: a scanner.
    scanner_burst_s: float = Field(default=5.0, ge=0, le=600)

    @property
    def uses_default_secret(self) -> bool:
        return self.secret.get_secret_value() == DEFAULT_LINK_SECRET


class PartnerSettings(_Section):
    #: Stable id used in the ledger and in referral attribution; never change it once in use.
    name: str = "careerrelay"
    #: What candidates read in the notice.
    display_name: str = "キャリアリレー"
    description: str | None = None
    kind: Literal["http", "csv"] = "csv"
    base_url: str | None = None
    token: SecretStr | None = None
    path: Path | None = None
    landing_url: str = "https://careerrelay.example/register"
    registrations_per_credit: int = Field(default=10, ge=1, le=1_000_000)
    counted_status: Literal["registered", "interviewed", "placed"] = "registered"
    credit_value_yen: int = Field(default=300_000, ge=0, le=10**12)
    credit_expiry_months: int | None = Field(default=None, ge=1, le=1200)
    #: Count referrals flagged suspicious (e.g. reported before the mail was accepted) toward credits.
    count_suspicious: bool = False
    #: Time zone of naive timestamps in the partner's reports.
    timezone: TimeZoneName = "Asia/Tokyo"
    #: The HTTP fetch re-asks this far behind the watermark, for late reports (re-imports are harmless).
    lookback_days: int = Field(default=7, ge=0, le=3650)
    timeout_s: float = Field(default=30.0, gt=0, le=600)
    max_retries: int = Field(default=5, ge=0, le=20)
    #: Which applications this partner's link may go to: job external ids and job departments (either
    #: matches; both empty = every application). See junkan/partner/choice.py.
    jobs: list[str] = Field(default_factory=list)
    departments: list[str] = Field(default_factory=list)
    #: Relative weight among the partners eligible for an application (1 and 3: a quarter and three).
    share: float = Field(default=1.0, gt=0, le=1_000_000)

    @property
    def has_source(self) -> bool:
        """Whether there is anything to sync: a report file (`csv`) or a stats API (`http`)."""
        return bool(self.path) if self.kind == "csv" else bool(self.base_url)


class WebhookSettings(_Section):
    sendgrid_public_key: str | None = None
    max_age_s: int = Field(default=600, ge=1, le=86_400)


class CostInputs(_Section):
    """One month's recruiting costs in yen (ISO/TS 30407:2017 cost-per-hire inputs) and Junkan's own cost.

    Unset means "not known", never zero: a KPI fed by a missing input shows "—" and names it.
    """

    #: First day of the month the figures are for, "YYYY-MM".
    month: str
    advertising_yen: int | None = Field(default=None, ge=0, le=10**13)
    agency_fees_yen: int | None = Field(default=None, ge=0, le=10**13)
    #: Other external costs (job boards, assessments, background checks, travel of candidates …).
    other_external_yen: int | None = Field(default=None, ge=0, le=10**13)
    #: The recruiters' time (salaries and benefits of the recruiting staff, pro rata).
    recruiter_time_yen: int | None = Field(default=None, ge=0, le=10**13)
    #: Internal costs ISO 30407 counts only in the internal form (CPHI), e.g. hiring managers' time.
    other_internal_yen: int | None = Field(default=None, ge=0, le=10**13)
    #: Junkan's running cost (hosting, e-mail provider, operator time): the denominator of ROI.
    running_cost_yen: int | None = Field(default=None, ge=0, le=10**13)
    #: First-year pay of the month's hires, for the hire-cost ratio; optional.
    first_year_pay_yen: int | None = Field(default=None, ge=0, le=10**13)


class ReportBaseline(_Section):
    """What the report compares against: configured figures, or a baseline period computed like any other."""

    reapplication_rate: float | None = Field(default=None, ge=0, le=1)
    cost_per_hire_yen: float | None = Field(default=None, ge=0, le=10**12)
    #: A baseline period (local dates, inclusive); used for each figure not configured above.
    period_from: date | None = None
    period_to: date | None = None


class ReportSettings(_Section):
    #: A rejection is followed up when its notice was accepted by the end of this many business days.
    follow_up_sla_business_days: int = Field(default=5, ge=1, le=60)
    #: Below this many candidates in a group, a comparison says "not enough data".
    min_group_size: int = Field(default=30, ge=1, le=1_000_000)
    baseline: ReportBaseline = Field(default_factory=ReportBaseline)
    costs: list[CostInputs] = Field(default_factory=list)
    #: A CSV of monthly costs (columns as in CostInputs); rows here win over `costs` for the same month.
    costs_csv: Path | None = None
    #: Where `junkan report` and the `roi-report` flow write files.
    output_dir: Path = Path("./reports")
    #: The day Junkan started following up (local date). Rejections decided before it are history, shown
    #: apart from the rates that judge Junkan's work. Unset: the first decision Junkan sent a notice for.
    go_live: date | None = None
    #: Internal addresses the monthly report's PDF is mailed to (JUNKAN_REPORT__RECIPIENTS: a JSON list,
    #: or addresses separated by commas). Empty: the report is not mailed, and the run says so.
    recipients: Annotated[list[str], NoDecode] = Field(default_factory=list, max_length=50,
                                                       json_schema_extra={"withheld": True})
    #: A PDF larger than this is not attached: the mail says where the file is instead (docs/kpis.md).
    attachment_max_mb: int = Field(default=10, ge=1, le=25)

    @field_validator("recipients", mode="before")
    @classmethod
    def _listed(cls, value: Any) -> Any:
        """An environment variable holds a JSON list or comma-separated addresses; TOML a list."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                try:
                    return json.loads(text)
                except ValueError:
                    raise ValueError("not a JSON list of addresses") from None
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("recipients")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        """Each a usable address, normalised (junkan.identity) and listed once."""
        out: list[str] = []
        for raw in value:
            address = normalize_email(raw)
            if not is_valid_email(address):
                # The position, not the value: a setting's error message is printed and logged.
                raise ValueError(f"entry {value.index(raw) + 1} is not an e-mail address")
            if address not in out:
                out.append(address)  # type: ignore[arg-type]
        return out


class MatchWeights(_Section):
    """How much each part of the match score counts; normalised by their sum, so any scale works."""

    required_skills: float = Field(default=0.40, ge=0, le=1000)
    preferred_skills: float = Field(default=0.10, ge=0, le=1000)
    text: float = Field(default=0.25, ge=0, le=1000)
    location: float = Field(default=0.10, ge=0, le=1000)
    potential: float = Field(default=0.15, ge=0, le=1000)
    #: Same occupation family as the opening (a neighbouring or learned family counts less).
    occupation: float = Field(default=0.25, ge=0, le=1000)


class WritebackSettings(_Section):
    """What `recontact` writes back into the source ATS (docs/pool.md "Write-back"); spreadsheets get none.

    Each action is switched on and off by itself: JUNKAN_RECONTACT__WRITEBACK__TAG=false and so on.
    """

    #: The candidate tag (Greenhouse) / opportunity tag (Lever) a matched person gets.
    tag: bool = True
    #: A Japanese note with the new job and why the person matched.
    note: bool = True
    #: The person added as a prospect on the new job (Greenhouse) or as a new opportunity for the posting
    #: (Lever, linked to the person by their e-mail address).
    prospect: bool = False
    #: A note on a re-contacted person's new application saying it came from re-contact.
    reapplied_note: bool = True
    #: A note on that application once it ended in a hire: the hire from re-contact, seen in the ATS.
    hired_note: bool = True
    tag_name: str = Field(default="Junkan: 再コンタクト候補", min_length=1, max_length=100)
    #: Lever: the user the notes, tags and opportunities are written as (`perform_as`).
    perform_as: str | None = None
    #: Writes claimed per batch; each batch's claim is committed before any call goes out.
    batch_size: int = Field(default=100, ge=1, le=10_000)
    #: A write claimed longer ago than this was interrupted (a crash): the next run reconciles it.
    lease_s: int = Field(default=300, ge=10, le=86_400)


class RecontactSettings(_Section):
    """Talent pool, potential score and the `recontact` flow (docs/pool.md)."""

    #: `shortlist`: a digest for recruiters (artifact + CSV); `auto`: re-contact mails through the outbox.
    mode: Literal["shortlist", "auto"] = "shortlist"
    #: First run only: an opening is new when it opened within this many days.
    new_opening_days: int = Field(default=14, ge=1, le=3650)
    #: Calendar months after the last rejection before anyone is matched again.
    cooldown_months: int = Field(default=6, ge=0, le=1200)
    #: At most one re-contact per person in this many days.
    recontact_interval_days: int = Field(default=90, ge=0, le=3650)
    top_k: int = Field(default=20, ge=1, le=10_000)
    #: Minimum match score (0–100) to be listed.
    threshold: float = Field(default=35.0, ge=0, le=100)
    #: Bucket limits on the match score: 強い一致 from `strong`, 良い一致 from `good`, 部分一致 below.
    strong: float = Field(default=70.0, ge=0, le=100)
    good: float = Field(default=50.0, ge=0, le=100)
    weights: MatchWeights = Field(default_factory=MatchWeights)
    #: Points (0–100 scale) added on top of the weighted sum when the opening's occupation family is one
    #: the person chose on their own page (docs/pool.md "The person's own choices"): more than a past
    #: application to that family gives (20–29), since the person's own word is the better signal; 0 = off.
    interest_bonus: float = Field(default=30.0, ge=0, le=100)
    #: Share of the people matched in `auto` mode held out (not mailed), to measure the lift; 0 = off.
    holdout_share: float = Field(default=0.10, ge=0, lt=1)
    #: Re-applications from the pool needed before the potential score switches to the trained model.
    min_outcomes_for_model: int = Field(default=200, ge=10, le=10_000_000)
    #: ... of which at least this many ended in a hire (and as many did not).
    min_hires_for_model: int = Field(default=20, ge=2, le=10_000_000)
    #: Openings listed in one re-contact mail.
    max_openings_per_mail: int = Field(default=3, ge=1, le=10)
    #: Canonical skills and occupation families (docs/pool.md "Vocabulary"); off: the matcher compares
    #: spellings only, as before issue 21 (`junkan pool evaluate` shows both).
    semantic: bool = True
    #: With `semantic`: general synonyms from Sudachi's synonym groups (顧客＝クライアント) for skills and
    #: tags the thesaurus does not know, at half a thesaurus match (docs/pool.md "Vocabulary").
    general_synonyms: bool = True
    #: An operator's vocabulary file (YAML, or CSV with the headers 正規形,別名,種別) that adds entries to
    #: the shipped thesaurus or overrides them; a bad entry refuses the file with its line.
    thesaurus_path: Path | None = None
    #: How much of a past job's description counts as the candidate's text (characters).
    text_max_chars: int = Field(default=200, ge=0, le=20_000)
    #: Where the shortlist of each run is written, and as what: an Excel workbook (one sheet per job and a
    #: summary, Japanese headers) or a CSV with the same Japanese columns.
    shortlist_dir: Path = Path("./shortlists")
    shortlist_format: Literal["xlsx", "csv"] = "xlsx"
    #: Eligible people per matcher partition; each partition is one Prefect task (docs/pool.md "Partitions").
    partition_size: int = Field(default=250_000, ge=1, le=100_000_000)
    #: Where the partitions run: `thread` (the flow's own process, one after another) or `dask`.
    task_runner: Literal["thread", "dask"] = "thread"
    #: Scheduler of an existing Dask cluster, e.g. `tcp://10.0.0.5:8786`; unset, a `dask` run starts a
    #: local cluster of its own for the run.
    dask_address: str | None = None
    writeback: WritebackSettings = Field(default_factory=WritebackSettings)
    #: `ui`: the flow pauses for a recruiter to approve the matches in the Prefect UI before any mail or
    #: write-back; `none`: no pause.
    approval: Literal["none", "ui"] = "none"
    #: A pause not answered within this many seconds approves nobody (nothing is sent or written).
    approval_timeout_s: int = Field(default=86_400, ge=1, le=30 * 86_400)


class ConsentSettings(_Section):
    """How long a consent grant lasts; renewal mails before a `talent_pool` grant lapses (docs/privacy.md)."""

    #: Days a grant of each purpose is valid from when it was recorded; unset = never expires.
    #: `talent_pool_days` is also how long a person stays in the talent pool (it replaced
    #: `recontact.pool_consent_days`).
    talent_pool_days: int = Field(default=365, ge=1, le=3650)
    partner_info_days: int | None = Field(default=None, ge=1, le=3650)
    recontact_days: int | None = Field(default=None, ge=1, le=3650)
    #: Renewal mails (kind `consent_renewal`) through the outbox; off unless switched on.
    renewal_enabled: bool = False
    #: A renewal mail goes out this many days before a `talent_pool` grant expires.
    renewal_days_before: int = Field(default=7, ge=1, le=365)
    #: A renewal link in a mail works this long after it was sent.
    renewal_link_max_age_days: int = Field(default=30, ge=1, le=365)
    #: The link to the preference page 「今後のご案内の設定」, which every mail carries, works this long after
    #: the mail was sent (junkan/web/preference_page.py).
    preference_link_max_age_days: int = Field(default=180, ge=7, le=730)

    def validity_days(self, purpose: str) -> int | None:
        """Days a grant of `purpose` lasts; None = it never expires (also for unknown purposes)."""
        days: int | None = getattr(self, f"{purpose}_days", None)
        return days


#: Shipped only so the demo works out of the box; see docs/privacy.md (Audit) before changing a live one.
DEFAULT_HASH_KEY = "change-me-in-production-retention"


class RetentionRule(_Section):
    """The retention of one ATS source (overrides `retention.rejected_days`)."""

    #: Days after the last decision before a rejected or withdrawn candidate without pool consent goes.
    rejected_days: int = Field(default=180, ge=1, le=3650)


class RetentionSettings(_Section):
    """Automatic anonymisation, erasure and the keyed e-mail hash (docs/privacy.md)."""

    #: Days after the last decision before a rejected or withdrawn candidate without `talent_pool`
    #: consent is anonymised (business-zone calendar days, `business.timezone`).
    rejected_days: int = Field(default=180, ge=1, le=3650)
    #: Per ATS source name (`ats.source_name`): its own `rejected_days`.
    sources: dict[str, RetentionRule] = Field(default_factory=dict)
    #: HMAC-SHA256 key of suppressions and tombstones. Changing it forgets every stored hash.
    hash_key: SecretStr = SecretStr(DEFAULT_HASH_KEY)
    #: Candidates scrubbed per transaction.
    batch_size: int = Field(default=500, ge=1, le=100_000)

    @property
    def uses_default_key(self) -> bool:
        return self.hash_key.get_secret_value() == DEFAULT_HASH_KEY

    def key_bytes(self) -> bytes:
        return self.hash_key.get_secret_value().encode("utf-8")

    def rejected_days_for(self, source: str) -> int:
        rule = self.sources.get(source)
        return rule.rejected_days if rule is not None else self.rejected_days


class LimitSettings(_Section):
    """The Prefect limits `junkan setup` creates (docs/operations.md, "Overlap and provider limits")."""

    #: SendGrid requests per second, across every worker and run (limit `junkan-sendgrid`).
    sendgrid_per_second: float = Field(default=10.0, gt=0, le=10_000)
    #: ATS API requests per second, across every worker and run (limit `junkan-ats`).
    ats_per_second: float = Field(default=5.0, gt=0, le=10_000)
    #: A flow that sends waits this long for another sending run to finish, then is refused.
    send_wait_s: float = Field(default=3600.0, gt=0, le=86_400)
    #: The sending slot is a lease its run renews: a worker killed mid-run frees it this long after.
    #: Prefect's API accepts 60 s to a day.
    send_lease_s: float = Field(default=300.0, ge=60, le=86400)


class AlertSettings(_Section):
    """Where the Prefect automations of deployments/automations.yaml send their notifications."""

    #: `none`: `junkan setup` creates no notification block and no automations.
    notify: Literal["none", "slack", "email", "webhook"] = "none"
    #: Name of the Prefect notification block `junkan setup` saves.
    block_name: str = "junkan-alerts"
    slack_webhook_url: SecretStr | None = None
    #: `webhook`: any URL that takes a JSON POST `{"subject": …, "body": …}` (chat tools, an in-house hook).
    webhook_url: SecretStr | None = None
    #: `email`: sent through SendGrid with this key (JUNKAN_MAIL__SENDGRID_API_KEY when unset).
    email_to: list[str] = Field(default_factory=list)
    email_from: str | None = None
    sendgrid_api_key: SecretStr | None = None
    #: A sending run emits `junkan.messages.unknown` / `junkan.messages.failed` from this many messages on.
    unknown_threshold: int = Field(default=1, ge=1, le=1_000_000)
    failed_threshold: int = Field(default=10, ge=1, le=1_000_000)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="JUNKAN_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    database_url: str = "sqlite:///./junkan.db"
    business: BusinessSettings = Field(default_factory=BusinessSettings)
    ats: AtsSettings = Field(default_factory=AtsSettings)
    mail: MailSettings = Field(default_factory=MailSettings)
    notice: NoticeSettings = Field(default_factory=NoticeSettings)
    sender: SenderSettings = Field(default_factory=SenderSettings)
    links: LinkSettings = Field(default_factory=LinkSettings)
    partners: list[PartnerSettings] = Field(default_factory=list)
    partner: PartnerSettings = Field(default_factory=PartnerSettings)
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)
    report: ReportSettings = Field(default_factory=ReportSettings)
    recontact: RecontactSettings = Field(default_factory=RecontactSettings)
    consent: ConsentSettings = Field(default_factory=ConsentSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment wins over the file, so an operator can override one value for one run.
        sources = [init_settings, env_settings]
        path = config_file()
        if path is not None:
            try:
                sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError([f"{path}: not valid TOML: {exc}"]) from None
        return (*sources, file_secret_settings)

    @model_validator(mode="after")
    def _hand_down_zone(self) -> Settings:
        self.notice._zone = self.business.timezone
        return self

    def all_partners(self) -> list[PartnerSettings]:
        """Several partners via `partners` (TOML list), else the single `JUNKAN_PARTNER__*` one."""
        return self.partners or [self.partner]


def config_file() -> Path | None:
    """The TOML file to read now: `JUNKAN_CONFIG_FILE` (missing = a typo), else ./junkan.toml if any."""
    named = os.environ.get(CONFIG_FILE_VARIABLE)
    if named:
        path = Path(named).expanduser()
        if not path.is_file():
            raise ConfigError([f"{CONFIG_FILE_VARIABLE}: {path} does not exist (or is not a file)"])
        return path
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


def _read_file(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from None


def get_settings(**overrides: Any) -> Settings:
    """Settings from the environment and the config file; ConfigError listing every problem otherwise."""
    environ = dict(os.environ)
    path = config_file()
    file_data = _read_file(path)
    unknown = unknown_env_vars(Settings, environ, prefix=ENV_PREFIX, not_settings=NOT_SETTINGS)
    if path is not None:
        unknown += unknown_file_keys(Settings, file_data, file=path)
    problems = [message for _, message in unknown]
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        problems += bad_values(Settings, exc, environ=environ, prefix=ENV_PREFIX, file=path,
                               file_data=file_data, reported={loc for loc, _ in unknown})
    if problems:
        raise ConfigError(problems)
    return settings
