"""The one retry condition of the Prefect tasks (tasks/retry.py): which failures are worth a later retry."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.exc import DBAPIError

from junkan.ats.errors import AtsError
from junkan.config import ConfigError
from junkan.http import HttpError
from junkan.partner.records import PartnerError
from tasks.retry import is_transient


def _db_error(invalidated: bool) -> DBAPIError:
    return DBAPIError("SELECT 1", None, Exception("server closed the connection"),
                      connection_invalidated=invalidated)


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (HttpError("greenhouse GET /v3/jobs answered 503", vendor="greenhouse", retryable=True), True),
        (HttpError("SendGrid GET /v3/x failed with 401", vendor="SendGrid", status=401), False),
        (PartnerError("partner a GET /v1/referrals answered 500", retryable=True), True),
        (PartnerError("partner a: unreadable report"), False),
        (httpx.ConnectError("refused"), True),
        (TimeoutError(), True),
        (_db_error(invalidated=True), True),
        (_db_error(invalidated=False), False),
        (AtsError("export.csv: required column(s) missing (status)"), False),
        (ConfigError(["JUNKAN_MAIL__BACKEND: 'smpt' is not one of sendgrid, smtp, file"]), False),
        (ValueError("a bug"), False),
    ],
)
def test_only_failures_that_may_heal_are_retried(exc: BaseException, transient: bool) -> None:
    assert is_transient(exc) is transient
