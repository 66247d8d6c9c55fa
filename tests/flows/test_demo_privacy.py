"""The whole demo under Prefect: no candidate's name, e-mail or phone outside Junkan's database (issue 13 §6).

Everything Prefect keeps is searched: the Python log records of the run, the API's logs, states, parameters
and artifacts, the result files (persistence on, the most an operator can turn on), and the Prefect server's
own database file. So are Junkan's own outputs other than the mails themselves: file names, the shortlist
CSVs, the report, and the quarantine reasons in Junkan's database.
"""

from __future__ import annotations

import csv
import json
import re
import sqlite3
from collections.abc import Iterable
from pathlib import Path

import openpyxl
import pypdf
from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL
from sqlalchemy import create_engine, text

from tests.flows._persisted import api_records, stored_files
from tests.flows.conftest import DemoRun


def _personal_values(export: Path) -> set[str]:
    """Each candidate's name, e-mail and phone, in the forms they may take once stored or logged."""
    values: set[str] = set()
    with export.open(encoding="cp932", newline="") as handle:
        for row in csv.DictReader(handle):
            name, email, phone = row["氏名"].strip(), row["メールアドレス"].strip(), row["電話番号"].strip()
            if name:
                values |= {name, name.replace(" ", ""), name.replace(" ", "\u3000")}
            if "@" in email:
                values |= {email, email.lower()}
            digits = re.sub(r"\D", "", phone)
            if len(digits) >= 10:
                # As typed, and normalised to E.164 (+81 and the number without its trunk 0).
                values |= {phone, digits, "+81" + digits.lstrip("0")}
    return values


#: Lengths of the pieces `_ruled_out` looks up: three characters for a short name, six for anything longer
#: (a phone's digits: every three-digit piece is in a text full of timestamps and ids).
_PIECE_LENGTHS = (3, 6)


def _pieces(text: str) -> dict[int, set[str]]:
    """Every piece of `text` of each length of _PIECE_LENGTHS (length -> pieces)."""
    return {n: {text[i:i + n] for i in range(len(text) - n + 1)} for n in _PIECE_LENGTHS}


def _ruled_out(form: str, pieces: dict[int, set[str]]) -> bool:
    """True only if `form` cannot be in the text `pieces` were cut from: a piece of `form` is not among them.

    A few set lookups instead of a scan of the whole text: nearly all of the 10,000 or so forms searched are
    ruled out so, and only the rest are looked for in full (a tenth of the time)."""
    lengths = [n for n in _PIECE_LENGTHS if n <= len(form)]
    if not lengths:
        return False
    n = lengths[-1]
    return any(form[i:i + n] not in pieces[n] for i in range(len(form) - n + 1))


def _found(texts: dict[str, str], values: Iterable[str]) -> list[str]:
    """'where: value' for each personal value that appears, as written or as JSON escapes it (\\u82b1)."""
    forms = {value: {value, json.dumps(value)[1:-1]} for value in values}
    joined = "\n\x00\n".join(texts.values())  # one pass per value over everything, then say where
    pieces = _pieces(joined)
    hits = [value for value, written in forms.items()
            if any(not _ruled_out(form, pieces) and form in joined for form in written)]
    return [f"{where}: {value}" for value in hits for where, body in texts.items()
            if any(form in body for form in forms[value])]


def _sqlite_text(path: Path) -> dict[str, str]:
    """Every text value of every table of a SQLite database file (table -> its text)."""
    out: dict[str, str] = {}
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            cells = [str(cell) for row in conn.execute(f'SELECT * FROM "{table}"') for cell in row
                     if isinstance(cell, str | bytes)]
            out[f"prefect server db table {table}"] = "\n".join(cells)
    return out


def test_the_demo_leaves_no_personal_data_in_prefect_logs_results_artifacts_or_files(
    demo_run: DemoRun,
) -> None:
    demo = demo_run.workdir
    values = _personal_values(demo / "ats-export.csv")
    assert len(values) > 4000, "every candidate of the demo company is searched for"
    # The notices themselves do carry the addresses: the search finds what is there.
    mails = {str(p): p.read_text(errors="replace") for p in (demo / "outbox").glob("*.eml")}
    assert _found(mails, values)

    recorded = api_records(demo_run.started)
    assert any(where.startswith("artifact ") for where in recorded)
    assert any(where.startswith("log ") for where in recorded)
    assert any(where.endswith(" parameters") for where in recorded)
    assert _found(recorded, values) == []
    logged = {f"python log {i} ({r.name})": r.getMessage() for i, r in enumerate(demo_run.records)}
    assert any("prefect.flow_runs" in where for where in logged), sorted({r.name for r in demo_run.records})
    assert _found(logged, values) == []
    stored = {where: raw.decode("utf-8", errors="replace")
              for where, raw in stored_files(demo_run.prefect_home).items()}
    assert len(stored) >= 10, "results are persisted, one per flow run and task run at least"
    assert _found(stored, values) == []

    names = {str(p.relative_to(demo)): p.name for p in demo.rglob("*")}
    assert _found(names, values) == [], "file names are opaque"
    # The report and its monthly mail to the internal recipient (reports/mail/*.eml) included.
    outputs = {str(p): _readable_text(p) for p in [*demo.glob("recontact-*"), *demo.glob("reports/**/*")]
               if p.is_file()}
    assert outputs, "the shortlists and the report were written"
    assert any("/reports/mail/" in where for where in outputs), "the report's mail was written"
    assert _found(outputs, values) == []
    with create_engine(f"sqlite:///{demo / 'junkan.db'}").connect() as conn:
        reasons = conn.execute(text("SELECT reason FROM quarantine")).scalars().all()
    assert reasons, "the demo's broken rows are quarantined with a reason"
    assert _found({f"quarantine reason {i}": r for i, r in enumerate(reasons)}, values) == []


def _readable_text(path: Path) -> str:
    """What a reader of the file sees: the cells of a workbook, the text of a PDF, else the file as text."""
    if path.suffix == ".xlsx":
        book = openpyxl.load_workbook(path, read_only=True)
        return "\n".join(str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                         for v in row if v is not None)
    if path.suffix == ".pdf":
        return "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(path).pages)
    return path.read_text(encoding="utf-8-sig")


def test_the_prefect_servers_own_database_holds_no_personal_data(demo_run: DemoRun) -> None:
    url = PREFECT_SERVER_DATABASE_CONNECTION_URL.value()
    assert url and url.startswith("sqlite+aiosqlite:///"), f"the test harness's server database: {url}"
    tables = _sqlite_text(Path(url.removeprefix("sqlite+aiosqlite:///")))
    assert tables["prefect server db table log"], "the run's logs are in the server's database"
    assert tables["prefect server db table artifact"], "and its artifacts"
    assert _found(tables, _personal_values(demo_run.workdir / "ats-export.csv")) == []
