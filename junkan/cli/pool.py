"""`junkan pool …`: list the talent pool, tag members, export the latest run's matches, show the words the
matcher's vocabulary does not know.

Members are shown by their opaque `candidate_ref`. `--show-names` adds names, for an operator at a
terminal only: it is refused when the output is not a terminal (a file, a pipe, a log collector).
"""

from __future__ import annotations

import sys
from datetime import datetime, time
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from sqlalchemy import select
from sqlalchemy.orm import Session

from junkan.cli.days import command_runtime, parse_day
from junkan.db.models import Candidate
from junkan.db.models_pool import PotentialScore
from junkan.files import write_private
from junkan.pool.eligibility import pool_membership
from junkan.pool.evaluate import evaluate
from junkan.pool.evaluate import lines as evaluation_lines
from junkan.pool.export import latest_run_id, match_rows, to_csv, to_json, to_xlsx
from junkan.pool.refs import ref_map, resolve_refs
from junkan.pool.signals import load_signals
from junkan.pool.tags import TagImportError, add_tags, all_tags, clean_tag, read_tag_csv, tag_problem
from junkan.pool.vocabulary import ThesaurusError
from junkan.pool.vocabulary_report import lines, vocabulary_report
from junkan.runtime import Runtime

app = typer.Typer(help="Talent pool: members, tags, re-contact matches.", no_args_is_help=True)


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


@app.command("list")
def list_members(
    tag: Annotated[str | None, typer.Option("--tag", help="Only members with this tag.")] = None,
    show_names: Annotated[bool, typer.Option("--show-names", help="Show names (terminal only).")] = False,
) -> None:
    """Pool members as of now: ref, why, potential score, tags."""
    if show_names and not stdout_is_terminal():
        raise _fail("--show-names needs a terminal: names are not written to files or pipes", 2)
    rt = command_runtime()
    settings, engine, now = rt.settings, rt.engine, rt.clock.now()
    wanted = clean_tag(tag) if tag else None
    with Session(engine) as session:
        signals = load_signals(session, settings, now)
        membership = pool_membership(signals, settings, now)
        scores = {cid: (score, method) for cid, score, method in session.execute(
            select(PotentialScore.candidate_id, PotentialScore.score, PotentialScore.method))}
        members = [i for i in range(len(signals)) if membership.mask[i]]
        refs = ref_map([int(signals.candidate_ids[i]) for i in members], settings.links)
        names = _names(session, {int(signals.candidate_ids[i]) for i in members}) if show_names else {}
    header = "候補者ID\tプール理由\t潜在スコア\tタグ"
    typer.echo(f"氏名\t{header}" if show_names else header)
    shown = 0
    for i in members:
        cid = int(signals.candidate_ids[i])
        tags = all_tags(signals, i)
        if wanted and wanted not in tags:
            continue
        score = scores.get(cid)
        score_text = f"{score[0]:.1f}（{_score_source(score[1])}）" if score else "–"
        line = f"{refs[cid]}\t{membership.why[i]}\t{score_text}\t{', '.join(tags)}"
        if show_names:
            line = f"{names.get(cid) or ''}\t{line}"
        typer.echo(line)
        shown += 1
    typer.echo(f"{shown} member(s)", err=True)


def _members(session: Session, rt: Runtime) -> list[int]:
    """Current members (computed now, so tagging works before the first recontact run too)."""
    settings, now = rt.settings, rt.clock.now()
    signals = load_signals(session, settings, now)
    membership = pool_membership(signals, settings, now)
    return [int(c) for c in signals.candidate_ids[membership.mask]]


@app.command("tag")
def tag_members(
    refs: Annotated[list[str] | None, typer.Argument(help="candidate_ref values (c_…).")] = None,
    tag: Annotated[str | None, typer.Option("--tag", help="The tag to set.")] = None,
    from_csv: Annotated[Path | None, typer.Option("--csv", help="Import candidate_ref,tag rows.")] = None,
) -> None:
    """Set an operator tag on pool members, by ref or from a CSV file (columns candidate_ref,tag)."""
    rt = command_runtime()
    settings = rt.settings
    pairs: list[tuple[int, str]] = []
    rejected: list[str] = []
    with Session(rt.engine) as session:
        members = _members(session, rt)
        if from_csv is not None:
            try:
                rows, unreadable = read_tag_csv(from_csv)
            except TagImportError as exc:
                raise _fail(str(exc), 2) from None
            rejected.extend(f"{from_csv.name} row {n}: {problem}" for n, problem in unreadable)
            found = resolve_refs([r for _n, r, _t in rows], members, settings.links)
            for n, ref, value in rows:
                if (problem := tag_problem(value)) is not None:
                    rejected.append(f"{from_csv.name} row {n}: column tag {problem}")
                elif ref.lower() not in found:
                    rejected.append(
                        f"{from_csv.name} row {n}: column candidate_ref {ref!r} is not a pool member")
                else:
                    pairs.append((found[ref.lower()], value))
        if refs:
            if not tag or not clean_tag(tag):
                raise _fail("--tag is required (and must not be empty) when refs are given", 2)
            if (problem := tag_problem(tag)) is not None:
                raise _fail(f"--tag {problem}", 2)
            found = resolve_refs(refs, members, settings.links)
            for ref in refs:
                if ref.strip().lower() in found:
                    pairs.append((found[ref.strip().lower()], tag))
                else:
                    rejected.append(f"{ref!r} is not a pool member")
        if not pairs and not rejected:
            raise _fail("nothing to tag: give refs with --tag, or --csv FILE", 2)
        added = add_tags(session, pairs)
        session.commit()
    for line in rejected:
        typer.echo(line, err=True)
    typer.echo(f"{added} tag(s) added, {len(pairs) - added} already set, {len(rejected)} rejected")
    if rejected:
        raise typer.Exit(1)


def _names(session: Session, candidate_ids: set[int]) -> dict[int, str | None]:
    return {cid: name for cid, name in session.execute(
        select(Candidate.id, Candidate.display_name).where(Candidate.id.in_(candidate_ids)))}


def _score_source(version: str) -> str:
    """Which score the number is (docs/pool.md "Potential score"), in the column's language."""
    return "ルール" if version == "rules" else f"モデル {version}"


@app.command("matches")
def export_matches(
    fmt: Annotated[str, typer.Option("--format", help="csv, xlsx or json.")] = "csv",
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file instead of stdout.")] = None,
    lang: Annotated[str, typer.Option("--lang", help="ja (shortlist columns) or en (csv only).")] = "ja",
    with_names: Annotated[bool, typer.Option("--with-names", help="Add 氏名 (csv and xlsx).")] = False,
) -> None:
    """The latest recontact run's matches. csv and xlsx: the Japanese shortlist (求人ID, 求人名, 順位, …,
    ATSで開く; xlsx has one sheet per job and a summary); `--lang en` gives the CSV's English columns;
    json keeps the English keys job_id, opening_id, rank, score, candidate_ref, application_id, why.
    A CSV written to a file starts with a BOM (for Excel); to a terminal it does not."""
    if fmt not in ("csv", "json", "xlsx"):
        raise _fail(f"--format must be csv, xlsx or json, not {fmt!r}", 2)
    if lang not in ("ja", "en"):
        raise _fail(f"--lang must be ja or en, not {lang!r}", 2)
    to_terminal = out is None and stdout_is_terminal()
    if fmt == "xlsx" and to_terminal:
        raise _fail("--format xlsx writes a workbook: give --out FILE (or redirect the output)", 2)
    if with_names and (fmt == "json" or lang == "en"):
        raise _fail("--with-names adds 氏名 to the Japanese csv or xlsx only", 2)
    rt = command_runtime()
    settings = rt.settings
    with Session(rt.engine) as session:
        run_id = latest_run_id(session)
        if run_id is None:
            raise _fail("no recontact run yet: run `junkan run recontact` first", 1)
        rows = match_rows(session, settings, run_id, extra=True)
        names = _names(session, {r["candidate_id"] for r in rows}) if with_names else None
    if fmt == "json":
        data = (to_json(rows) + "\n").encode("utf-8")
    elif fmt == "xlsx":
        data = to_xlsx(rows, names=names)
    else:
        data = to_csv(rows, lang=lang, names=names, bom=not to_terminal)
    if out is not None:
        write_private(out, data)
        typer.echo(f"{len(rows)} match(es) of run {run_id} written to {out}", err=True)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()


@app.command("vocabulary")
def vocabulary() -> None:
    """Titles, skills and tags of the pool and the open jobs that map to no occupation or canonical skill,
    with counts, most frequent first, and the links learned from history (docs/pool.md "Vocabulary")."""
    rt = command_runtime()
    try:
        with Session(rt.engine) as session:
            report = vocabulary_report(session, rt.settings, rt.clock.now())
    except ThesaurusError as exc:
        raise _fail(str(exc), 2) from None
    for line in lines(report):
        typer.echo(line)


@app.command("evaluate")
def evaluate_matcher(
    since: Annotated[str | None, typer.Option(
        "--since", help="Only jobs opened on or after this date (YYYY-MM-DD, company time zone).")] = None,
) -> None:
    """Back-test: where the matcher would have ranked each pooled person who re-applied, the day the job
    opened; recall@K and median rank with and without the semantic parts, side by side."""
    rt = command_runtime()
    start = None
    if since is not None:
        day = parse_day(since, "--since")
        start = datetime.combine(day, time.min, tzinfo=ZoneInfo(rt.settings.business.timezone))
    try:
        with Session(rt.engine) as session:
            result = evaluate(session, rt.settings, start)
    except ThesaurusError as exc:
        raise _fail(str(exc), 2) from None
    for line in evaluation_lines(result):
        typer.echo(line)
