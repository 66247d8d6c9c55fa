"""`roi-report` end to end: files written, summary and one table artifact per section published."""

from __future__ import annotations

import email
import email.policy
from datetime import date
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from sqlalchemy import Engine

from flows.roi_report import roi_report
from tasks.report import ARTIFACT_KEY
from tests.flows._artifacts import newest_text
from tests.integration._report_data import load_october


def test_roi_report_defaults_to_the_previous_month(engine: Engine, database_url: str, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    load_october(engine)
    monkeypatch.setenv("JUNKAN_DATABASE_URL", database_url)
    monkeypatch.setenv("JUNKAN_REPORT__OUTPUT_DIR", str(tmp_path))
    state = roi_report(as_of=date(2026, 11, 1), return_state=True)
    result = state.result()
    assert result["period"] == "2026-10"
    with get_client(sync_client=True) as client:
        assert client.read_flow_run(state.state_details.flow_run_id).name == "roi-report 2026-10"
    assert result["rejections"] == 6 and result["follow_up_rate"] == 0.25
    for ext in ("html", "pdf", "xlsx", "json"):
        assert (tmp_path / f"roi-2026-10.{ext}").is_file(), ext
    assert (tmp_path / "roi-2026-10.pdf").read_bytes().startswith(b"%PDF")
    # The headline cards as a table in Japanese, with their change and baseline columns.
    summary = newest_text(ARTIFACT_KEY)
    assert "| 指標 | 値 | 前期間比 | 導入前 | 備考 |" in summary and "| フォローアップ率 | 25.0% |" in summary
    assert f"{ARTIFACT_KEY}-follow-up" in result["artifacts"]
    assert "25.0%" in newest_text(f"{ARTIFACT_KEY}-follow-up")


def test_roi_report_takes_a_period_from_the_form(engine: Engine, database_url: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    load_october(engine)
    monkeypatch.setenv("JUNKAN_DATABASE_URL", database_url)
    monkeypatch.setenv("JUNKAN_REPORT__OUTPUT_DIR", str(tmp_path))
    # As the API hands it over from the form: JSON strings.
    state = roi_report(period={"start": "2026-10-01", "end": "2026-10-31"}, lang="en", return_state=True)
    assert state.result()["period"] == "2026-10"
    backwards = roi_report(period={"start": "2026-10-31", "end": "2026-10-01"}, return_state=True)
    assert backwards.is_failed()
    assert "period ends (2026-10-01) before it starts (2026-10-31)" in str(backwards.message)


def test_the_monthly_run_mails_the_pdf_to_each_recipient_once(engine: Engine, database_url: str,
                                                               tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    load_october(engine)
    monkeypatch.setenv("JUNKAN_DATABASE_URL", database_url)
    monkeypatch.setenv("JUNKAN_REPORT__OUTPUT_DIR", str(tmp_path / "reports"))
    monkeypatch.setenv("JUNKAN_MAIL__OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setenv("JUNKAN_REPORT__RECIPIENTS", "keiei@example.co.jp, jinji@example.co.jp")
    result = roi_report(as_of=date(2026, 11, 1))
    assert result["mail"]["recipients"] == 2 and result["mail"]["sent"] == 2
    mails = sorted((tmp_path / "outbox").glob("msg-*.eml"))
    assert len(mails) == 2
    pdf = (tmp_path / "reports" / "roi-2026-10.pdf").read_bytes()
    for path in mails:
        parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        (attachment,) = parsed.iter_attachments()
        assert attachment.get_content() == pdf
    summary = newest_text(ARTIFACT_KEY)
    assert "配布先 2 件：今回送信 2 件" in summary
    assert "example.co.jp" not in summary and "example.co.jp" not in str(result)

    # The run again (a retry, or by hand with recompute): nothing more is mailed.
    again = roi_report(as_of=date(2026, 11, 1), recompute=True)
    assert again["mail"]["sent"] == 0 and again["mail"]["already"] == 2
    assert len(list((tmp_path / "outbox").glob("msg-*.eml"))) == 2


def test_no_recipients_or_no_whole_month_means_no_mail_and_the_artifact_says_why(
        engine: Engine, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    load_october(engine)
    monkeypatch.setenv("JUNKAN_DATABASE_URL", database_url)
    monkeypatch.setenv("JUNKAN_REPORT__OUTPUT_DIR", str(tmp_path))
    assert roi_report(as_of=date(2026, 11, 1))["mail"] == {"recipients": 0, **dict.fromkeys(
        ("enqueued", "already", "sent", "failed", "stopped", "unknown", "pending", "fatal"), 0)}
    assert "配布先が設定されていないため、メールは送っていません" in newest_text(ARTIFACT_KEY)

    monkeypatch.setenv("JUNKAN_REPORT__RECIPIENTS", "keiei@example.co.jp")
    roi_report(period={"start": "2026-10-01", "end": "2026-10-15"})
    assert "月単位の締まった期間ではないため" in newest_text(ARTIFACT_KEY)
