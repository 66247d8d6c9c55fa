"""Settings from JUNKAN_* environment variables (nested with `__`) and an optional junkan.toml.

Secrets are `SecretStr`: their repr is masked, so printing or logging a Settings object leaks nothing.
"""

from __future__ import annotations

import os
from datetime import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


class AtsSettings(BaseModel):
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
    phone_region: str = "JP"
    timeout_s: float = 30.0
    max_retries: int = 5
    page_size: int = 500

    @property
    def source(self) -> str:
        return self.source_name or self.kind


class MailSettings(BaseModel):
    backend: Literal["sendgrid", "smtp", "file"] = "file"
    from_email: str = "recruit@example.co.jp"
    from_name: str = "採用担当"
    reply_to: str | None = None
    template_dir: Path | None = None
    outbox_dir: Path = Path("./outbox")
    sendgrid_api_key: SecretStr | None = None
    sendgrid_host: str = "https://api.sendgrid.com"
    asm_group_id: int | None = None
    workers: int = 8
    max_retries: int = 4
    smtp_host: str = "localhost"
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    #: CA bundle that signs the SMTP server's certificate (a private relay); the system store otherwise.
    smtp_ca_file: Path | None = None
    #: Socket timeout for one provider call (SendGrid request or SMTP command).
    timeout_s: float = 30.0
    #: Exponential backoff between retries of 5xx / timeouts: base * 2**(n-1), capped.
    backoff_base_s: float = 1.0
    backoff_max_s: float = 30.0
    #: A 429 waits until X-RateLimit-Reset, but never longer than this per wait, and at most this often.
    rate_limit_max_wait_s: float = 60.0
    rate_limit_retries: int = 10
    #: mailto: target of the List-Unsubscribe header; the sender's contact address when unset.
    unsubscribe_mailto: str | None = None


class NoticeSettings(BaseModel):
    delay_business_days: int = 2
    timezone: str = "Asia/Tokyo"
    window_start: time = time(9, 0)
    window_end: time = time(18, 0)
    #: What withdrawn (辞退) candidates receive: a thank-you notice, or nothing.
    withdrawn: Literal["thanks", "none"] = "thanks"
    #: The partner section is shown only with `partner_info` consent; `off` removes it for everyone.
    partner_section: Literal["consent", "off"] = "consent"
    #: Company closing days ("MM-DD") on top of weekends and public holidays; the usual 年末年始.
    extra_closed_days: list[str] = Field(default_factory=lambda: ["12-31", "01-01", "01-02", "01-03"])
    #: Decisions older than this when first seen get no notice (e.g. history imported on day one).
    max_age_days: int = 30
    #: Template locale when the candidate's is unknown or has no templates.
    default_locale: str = "ja"


class SenderSettings(BaseModel):
    """Sender identity shown in advertising mail, as 特定電子メール法 requires."""

    company_name: str = "株式会社サンプル"
    postal_address: str = "〒100-0001 東京都千代田区千代田1-1"
    contact_email: str = "privacy@example.co.jp"
    #: Company name in English mail; `company_name` when unset.
    company_name_en: str | None = None


#: Shipped only so the demo works out of the box; anyone who has the source can forge links with it.
DEFAULT_LINK_SECRET = "change-me-in-production"


class LinkSettings(BaseModel):
    secret: SecretStr = SecretStr(DEFAULT_LINK_SECRET)
    #: Older secrets still accepted, so keys can be rotated without breaking mailed links.
    fallback_secrets: list[SecretStr] = Field(default_factory=list)
    public_base_url: str = "http://127.0.0.1:8000"
    tracking_max_age_days: int = 180
    #: Careers page a `job:<id>` tracked link redirects to; placeholders {job_id}, {source}, {external_id}.
    job_url_template: str | None = None

    @property
    def uses_default_secret(self) -> bool:
        return self.secret.get_secret_value() == DEFAULT_LINK_SECRET


class PartnerSettings(BaseModel):
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
    registrations_per_credit: int = 10
    counted_status: Literal["registered", "interviewed", "placed"] = "registered"
    credit_value_yen: int = 300_000
    credit_expiry_months: int | None = None
    #: Count referrals flagged suspicious (e.g. reported before the mail was accepted) toward credits.
    count_suspicious: bool = False
    #: Time zone of naive timestamps in the partner's reports.
    timezone: str = "Asia/Tokyo"
    #: The HTTP fetch re-asks this far behind the watermark, for late reports (re-imports are harmless).
    lookback_days: int = 7
    timeout_s: float = 30.0
    max_retries: int = 5

    @property
    def has_source(self) -> bool:
        """Whether there is anything to sync: a report file (`csv`) or a stats API (`http`)."""
        return bool(self.path) if self.kind == "csv" else bool(self.base_url)


class WebhookSettings(BaseModel):
    sendgrid_public_key: str | None = None
    max_age_s: int = 600


class MatchWeights(BaseModel):
    """How much each part of the match score counts; normalised by their sum, so any scale works."""

    required_skills: float = Field(default=0.40, ge=0)
    preferred_skills: float = Field(default=0.10, ge=0)
    text: float = Field(default=0.25, ge=0)
    location: float = Field(default=0.10, ge=0)
    potential: float = Field(default=0.15, ge=0)


class RecontactSettings(BaseModel):
    """Talent pool, potential score and the `recontact` flow (docs/pool.md)."""

    #: `shortlist`: a digest for recruiters (artifact + CSV); `auto`: re-contact mails through the outbox.
    mode: Literal["shortlist", "auto"] = "shortlist"
    #: First run only: an opening is new when it opened within this many days.
    new_opening_days: int = Field(default=14, ge=1)
    #: Calendar months after the last rejection before anyone is matched again.
    cooldown_months: int = Field(default=6, ge=0)
    #: At most one re-contact per person in this many days.
    recontact_interval_days: int = Field(default=90, ge=0)
    #: Pool membership lasts this long after the `talent_pool` consent was given (retention).
    pool_consent_days: int = Field(default=365, ge=1)
    top_k: int = Field(default=20, ge=1)
    #: Minimum match score (0–100) to be listed.
    threshold: float = Field(default=35.0, ge=0, le=100)
    #: Bucket limits on the match score: 強い一致 from `strong`, 良い一致 from `good`, 部分一致 below.
    strong: float = Field(default=70.0, ge=0, le=100)
    good: float = Field(default=50.0, ge=0, le=100)
    weights: MatchWeights = Field(default_factory=MatchWeights)
    #: Share of the people matched in `auto` mode held out (not mailed), to measure the lift; 0 = off.
    holdout_share: float = Field(default=0.10, ge=0, lt=1)
    #: Re-applications from the pool needed before the potential score switches to the trained model.
    min_outcomes_for_model: int = Field(default=200, ge=10)
    #: ... of which at least this many ended in a hire (and as many did not).
    min_hires_for_model: int = Field(default=20, ge=2)
    #: Openings listed in one re-contact mail.
    max_openings_per_mail: int = Field(default=3, ge=1, le=10)
    #: How much of a past job's description counts as the candidate's text (characters).
    text_max_chars: int = Field(default=200, ge=0)
    #: Where the shortlist CSV of each run is written.
    shortlist_dir: Path = Path("./shortlists")
    #: Calendar of the cooldown and the "new opening" window.
    timezone: str = "Asia/Tokyo"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="JUNKAN_",
        env_nested_delimiter="__",
        toml_file=os.environ.get("JUNKAN_CONFIG_FILE", "junkan.toml"),
        extra="ignore",
    )

    database_url: str = "sqlite:///./junkan.db"
    ats: AtsSettings = Field(default_factory=AtsSettings)
    mail: MailSettings = Field(default_factory=MailSettings)
    notice: NoticeSettings = Field(default_factory=NoticeSettings)
    sender: SenderSettings = Field(default_factory=SenderSettings)
    links: LinkSettings = Field(default_factory=LinkSettings)
    partners: list[PartnerSettings] = Field(default_factory=list)
    partner: PartnerSettings = Field(default_factory=PartnerSettings)
    webhook: WebhookSettings = Field(default_factory=WebhookSettings)
    recontact: RecontactSettings = Field(default_factory=RecontactSettings)

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
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls), file_secret_settings)

    def all_partners(self) -> list[PartnerSettings]:
        """Several partners via `partners` (TOML list), else the single `JUNKAN_PARTNER__*` one."""
        return self.partners or [self.partner]


def get_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]
