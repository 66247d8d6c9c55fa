"""Builds the adapter for a configured partner (`kind` = http | csv) and validates the partner list."""

from __future__ import annotations

import time
from collections.abc import Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from junkan.config import PartnerSettings, Settings
from junkan.http import build_client
from junkan.partner.csv_report import CsvReportSource
from junkan.partner.http import HttpPartnerSource
from junkan.partner.records import PartnerError, PartnerSource


def partner_timezone(partner: PartnerSettings) -> ZoneInfo:
    try:
        return ZoneInfo(partner.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise PartnerError(f"partner {partner.name}: unknown timezone {partner.timezone!r}") from exc


def configured_partners(settings: Settings) -> list[PartnerSettings]:
    """Every configured partner; names must be unique because they key the ledger and the referrals."""
    partners = settings.all_partners()
    seen: set[str] = set()
    for partner in partners:
        if not partner.name or len(partner.name) > 64:
            raise PartnerError(f"partner name {partner.name!r} must be 1-64 characters")
        if partner.name in seen:
            raise PartnerError(f"partner {partner.name!r} is configured twice; give each one its own name")
        seen.add(partner.name)
        if partner.registrations_per_credit < 1:
            raise PartnerError(f"partner {partner.name}: registrations_per_credit must be at least 1")
        if partner.credit_value_yen < 0:
            raise PartnerError(f"partner {partner.name}: credit_value_yen must not be negative")
        if partner.credit_expiry_months is not None and partner.credit_expiry_months < 1:
            raise PartnerError(f"partner {partner.name}: credit_expiry_months must be at least 1 (or unset)")
    return partners


def syncable_partners(settings: Settings) -> list[PartnerSettings]:
    """Partners with a report file or stats API; one without (the built-in default) is skipped, not failed."""
    return [p for p in configured_partners(settings) if p.has_source]


def find_partner(settings: Settings, name: str) -> PartnerSettings:
    partners = configured_partners(settings)
    for partner in partners:
        if partner.name == name:
            return partner
    known = ", ".join(p.name for p in partners)
    raise PartnerError(f"unknown partner {name!r}; configured partners: {known}")


def make_source(partner: PartnerSettings, *, sleep: Callable[[float], None] = time.sleep) -> PartnerSource:
    tz = partner_timezone(partner)
    if partner.kind == "http":
        token = partner.token.get_secret_value() if partner.token else ""
        return HttpPartnerSource(
            partner.name,
            partner.base_url or "",
            token,
            build_client(f"partner {partner.name}", partner, sleep=sleep),
            tz=tz,
        )
    if partner.path is None:
        raise PartnerError(f"partner {partner.name}: kind is csv but no path is set (JUNKAN_PARTNER__PATH)")
    return CsvReportSource(partner.name, partner.path, tz=tz)
