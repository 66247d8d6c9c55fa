"""`make demo` end to end: the sample company is ingested and the notices are readable .eml files."""

from __future__ import annotations

import re
from email import policy
from email.parser import BytesParser

import openpyxl

from tests.flows.conftest import DemoRun


def test_demo_runs_daily_and_writes_japanese_notices(demo_run: DemoRun) -> None:
    summary, demo = demo_run.summary, demo_run.workdir

    # Of the three broken rows, the one without an @ is still a decision: stored, listed for review.
    assert "quarantined:  2 malformed rows" in summary
    assert "no address:   1 decisions stored without a usable address" in summary
    emails = sorted((demo / "outbox").glob("*.eml"))
    assert emails, summary
    msg = BytesParser(policy=policy.default).parsebytes(emails[0].read_bytes())
    body = msg.get_body(preferencelist=("plain",)).get_content()
    assert "ご応募" in body  # a Japanese notice, decoded correctly
    assert msg["To"] and "@" in str(msg["To"])
    assert "junkan.db" in summary
    reports = sorted((demo / "reports").glob("roi-*.html"))
    assert len(reports) == 1 and str(reports[0]) in summary
    page = reports[0].read_text(encoding="utf-8")

    def value(label: str) -> str:
        found = re.search(label + r'</td><td class="value">([^<]*)<', page)
        assert found, label
        return found.group(1)

    assert re.fullmatch(r"\d+\.\d%", value("フォローアップ率")), "a follow-up rate, not —"
    assert re.fullmatch(r"[+-]\d+\.\d%", value("採用単価の変化（ベースライン比）"))
    assert int(value("獲得クレジット")) > 0
    assert int(value("再応募数").replace(",", "")) > 0


def test_demo_shortlists_pool_members_for_the_jobs_that_just_opened(demo_run: DemoRun) -> None:
    summary, demo = demo_run.summary, demo_run.workdir

    found = re.search(r"re-contact: +\d+ run\(s\): (\d+) matches for (\d+) new job\(s\), (\d+) people",
                      summary)
    assert found, summary
    matches, jobs, people = (int(g) for g in found.groups())
    assert matches > 0 and people > 0 and jobs == 4  # the demo company's four jobs opened in the last days
    shortlists = sorted(demo.glob("recontact-*.xlsx"))
    assert shortlists and all(str(path) in summary for path in shortlists)
    rows = []
    for path in shortlists:
        book = openpyxl.load_workbook(path)
        for sheet in book.worksheets[1:]:  # the first is the summary
            header, *body = sheet.iter_rows(values_only=True)
            rows += [dict(zip(header, values, strict=True)) for values in body]
    assert len(rows) == matches
    assert {r["求人ID"] for r in rows} == {"J021", "J022", "J023", "J024"}
    # A spreadsheet source has no openings and no ATS to open: both columns stay empty.
    assert all(r["募集枠ID"] is None and r["ATSで開く"] is None and r["候補者ID"].startswith("c_")
               and "@" not in (r["一致の理由"] or "") for r in rows)
