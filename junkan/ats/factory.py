"""Builds the configured ATS adapter from settings, with errors that name the missing env var."""

from __future__ import annotations

import time
from collections.abc import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from junkan.ats import greenhouse, greenhouse_auth, lever
from junkan.ats.base import AtsAdapter, AtsError
from junkan.ats.csv_source import DEFAULT_TIMEZONE, CsvAdapter
from junkan.ats.greenhouse import GreenhouseAdapter
from junkan.ats.lever import LeverAdapter
from junkan.ats.writeback import AtsWriter, GreenhouseWriter, LeverWriter
from junkan.ats.xlsx_reader import WorkbookLimits
from junkan.config import AtsSettings, WritebackSettings
from junkan.http import Throttle, build_client

LEVER_DEFAULT_BASE_URL = "https://api.lever.co/v1"
GREENHOUSE_DEFAULT_BASE_URL = "https://harvest.greenhouse.io"
GREENHOUSE_DEFAULT_AUTH_URL = "https://auth.greenhouse.io"


class AtsConfigError(AtsError):
    """The settings do not describe a usable source (missing variable, missing file)."""


def _require(settings: AtsSettings, **fields: object) -> None:
    missing = [f"JUNKAN_ATS__{name.upper()}" for name, value in fields.items() if value in (None, "")]
    if missing:
        raise AtsConfigError(f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} required "
                             f"for {settings.kind}")


def build_adapter(settings: AtsSettings, *, timezone: str = DEFAULT_TIMEZONE,
                  sleep: Callable[[float], None] = time.sleep,
                  throttle: Throttle | None = None) -> AtsAdapter:
    """The adapter for `settings.kind`. Secrets are read from SecretStr only here, never logged.

    `throttle` runs before every API request (Greenhouse, Lever): the provider-wide rate limit.

    `timezone` is the business time zone (`settings.business.timezone`): a spreadsheet's dates without a
    zone are in it.
    """
    if settings.kind == "csv":
        _require(settings, path=settings.path)
        assert settings.path is not None
        if not settings.path.exists():
            raise AtsConfigError(f"JUNKAN_ATS__PATH points to a file that does not exist: {settings.path}")
        if settings.jobs_path is not None and not settings.jobs_path.exists():
            raise AtsConfigError(f"JUNKAN_ATS__JOBS_PATH points to a file that does not exist: "
                                 f"{settings.jobs_path}")
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise AtsConfigError(f"JUNKAN_BUSINESS__TIMEZONE is not a known time zone: {timezone!r}") \
                from None
        return CsvAdapter(settings.path, source=settings.source, phone_region=settings.phone_region,
                          sheet=settings.sheet, timezone=zone, limits=WorkbookLimits.of(settings),
                          jobs_path=settings.jobs_path)

    if settings.kind == "greenhouse":
        secret = settings.client_secret.get_secret_value() if settings.client_secret else None
        _require(settings, client_id=settings.client_id, client_secret=secret, user_id=settings.user_id)
        assert settings.client_id and secret and settings.user_id
        return GreenhouseAdapter(
            build_client(greenhouse_auth.VENDOR, settings, rate_limit_window_s=greenhouse.RATE_LIMIT_WINDOW_S,
                         sleep=sleep, throttle=throttle),
            base_url=settings.base_url or GREENHOUSE_DEFAULT_BASE_URL,
            auth_url=settings.auth_url or GREENHOUSE_DEFAULT_AUTH_URL,
            client_id=settings.client_id,
            client_secret=secret,
            user_id=settings.user_id,
            source=settings.source,
            per_page=settings.page_size,
        )

    if settings.kind == "lever":
        api_key = settings.api_key.get_secret_value() if settings.api_key else None
        _require(settings, api_key=api_key)
        assert api_key
        return LeverAdapter(
            build_client(lever.VENDOR, settings, rate_limit_window_s=lever.RATE_LIMIT_WINDOW_S, sleep=sleep,
                         throttle=throttle),
            api_key=api_key,
            base_url=settings.base_url or LEVER_DEFAULT_BASE_URL,
            source=settings.source,
            limit=min(settings.page_size, 100),
        )

    raise AtsConfigError(f"JUNKAN_ATS__KIND must be csv, greenhouse or lever (got {settings.kind!r})")


def build_writer(settings: AtsSettings, writeback: WritebackSettings, *,
                 sleep: Callable[[float], None] = time.sleep,
                 throttle: Throttle | None = None) -> AtsWriter | None:
    """The write-back client for `settings.kind`, under the same rate limit and retry policy as ingest;
    None for spreadsheets (their shortlist is the output)."""
    if settings.kind == "greenhouse":
        secret = settings.client_secret.get_secret_value() if settings.client_secret else None
        _require(settings, client_id=settings.client_id, client_secret=secret, user_id=settings.user_id)
        assert settings.client_id and secret and settings.user_id
        client = build_client(greenhouse_auth.VENDOR, settings, sleep=sleep, throttle=throttle,
                              rate_limit_window_s=greenhouse.RATE_LIMIT_WINDOW_S)
        auth = greenhouse_auth.GreenhouseAuth(
            auth_url=settings.auth_url or GREENHOUSE_DEFAULT_AUTH_URL, client_id=settings.client_id,
            client_secret=secret, user_id=settings.user_id, clock=client.clock)
        return GreenhouseWriter(client, base_url=settings.base_url or GREENHOUSE_DEFAULT_BASE_URL, auth=auth,
                                tag_name=writeback.tag_name)
    if settings.kind == "lever":
        api_key = settings.api_key.get_secret_value() if settings.api_key else None
        _require(settings, api_key=api_key)
        if not writeback.perform_as:
            raise AtsConfigError("JUNKAN_RECONTACT__WRITEBACK__PERFORM_AS is required for write-back to "
                                 "Lever (the Lever user the tags, notes and opportunities are written as)")
        assert api_key
        return LeverWriter(
            build_client(lever.VENDOR, settings, rate_limit_window_s=lever.RATE_LIMIT_WINDOW_S, sleep=sleep,
                         throttle=throttle),
            base_url=settings.base_url or LEVER_DEFAULT_BASE_URL, api_key=api_key,
            perform_as=writeback.perform_as, tag_name=writeback.tag_name)
    return None
