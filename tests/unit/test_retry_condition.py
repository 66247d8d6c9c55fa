"""The one retry condition of the Prefect tasks (tasks/common.py): which failures are worth a later retry."""

from __future__ import annotations

import ast
from pathlib import Path

import httpx
import pytest
from sqlalchemy.exc import DBAPIError

from junkan.ats.base import AtsError
from junkan.config import ConfigError
from junkan.http import HttpError
from junkan.partner.records import PartnerError
from tasks.common import is_transient, retry_transient

ROOT = Path(__file__).resolve().parents[2]


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


class _FailedState:
    """What Prefect hands a retry condition: a state whose result() re-raises the task's exception."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def result(self) -> None:
        raise self.exc


@pytest.mark.parametrize(
    ("exc", "retried"),
    [
        # The vendor client has already tried these max_retries + 1 times: the task must not try them again
        # (ingest's 3 task retries on top of the ATS client's 5 made one page up to 24 requests).
        (HttpError("greenhouse GET /v3/jobs answered 503 after 6 attempts", vendor="greenhouse",
                   retryable=True), False),
        (PartnerError("partner a GET /v1/referrals answered 500", retryable=True), False),
        (httpx.ConnectError("refused"), False),
        # Only the task can retry a lost database connection: it starts again on a fresh one.
        (_db_error(invalidated=True), True),
        (_db_error(invalidated=False), False),
        (ConfigError(["JUNKAN_MAIL__BACKEND: 'smpt' is not one of sendgrid, smtp, file"]), False),
        (ValueError("a bug"), False),
    ],
)
def test_each_failure_is_retried_by_one_layer_only(exc: BaseException, retried: bool) -> None:
    assert retry_transient(None, None, _FailedState(exc)) is retried


def _task_decorators() -> list[tuple[str, dict[str, ast.expr]]]:
    found = []
    for path in sorted((ROOT / "tasks").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "task":
                found.append((path.name, {k.arg: k.value for k in node.keywords if k.arg}))
    return found


def test_every_task_that_retries_uses_the_one_condition() -> None:
    retrying = [(name, kw) for name, kw in _task_decorators() if "retries" in kw]
    assert len(retrying) >= 10  # ingest, notify, engagement, partner, consent, recontact, retention
    for name, keywords in retrying:
        condition = keywords.get("retry_condition_fn")
        assert isinstance(condition, ast.Name) and condition.id == "retry_transient", name
