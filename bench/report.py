"""Benchmark: the full KPI computation for a 12-month range on N applications in PostgreSQL, against the
same KPIs computed in pandas from the same rows (loading included).

    python bench/report.py --applications 1000000 [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

    python bench/report.py --applications 1000000 --keep --repeat 0           # generate once, keep it
    python bench/report.py --applications 1000000 --reuse bench_report_NNN    # time on it (3 runs)

It creates a scratch database next to the one in --database-url (dropped afterwards unless --keep) and
generates the data inside PostgreSQL with `INSERT … SELECT FROM generate_series` (no rows travel through
Python): ~0.85 N candidates, 200 jobs, N applications over 12 months (~60% rejected), one rejection notice
per rejection with a delivered event (40% also opened), partner-link clicks, referrals and ledger entries.
Then it times `junkan.reports.compute.compute_kpis` for the 12 months, and the pandas equivalent, checks
that both give the same figures, and prints the times and the ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url

from junkan.config import Settings
from junkan.db import make_engine
from junkan.reports.calendar import sla_rows
from junkan.reports.compute import compute_kpis, run_query, tune_transaction
from junkan.reports.periods import Period
from junkan.reports.registry import load_queries
from tests.db_support import fresh_postgresql_database

PERIOD = Period(date(2025, 12, 1), date(2026, 11, 30))

GENERATE = [
    "SELECT setseed(0.42)",
    """INSERT INTO job (id, source, external_id, title, department, status, updated_at)
       SELECT g, 'bench', 'J' || g, 'job ' || g, 'dept ' || (g % 12), 'open', now()
       FROM generate_series(1, 200) g""",
    """INSERT INTO candidate (id, email_key, locale, tags, created_at, updated_at)
       SELECT g, 'c' || g || '@example.com', 'ja', '[]', now(), now()
       FROM generate_series(1, :candidates) g""",
    """INSERT INTO application (id, source, external_id, candidate_id, job_id, status, applied_at, decided_at,
                                is_reapplication, content_hash, created_at, updated_at)
       SELECT g, 'bench', 'A' || g, 1 + (g::bigint * 7919) % :candidates, 1 + g % 200, s.status, s.applied,
              CASE WHEN s.status = 'in_process' THEN NULL
                   ELSE s.applied + (5 + random() * 30) * interval '1 day' END,
              random() < 0.04, 'x', s.applied + interval '1 day', now()
       FROM generate_series(1, :n) g,
       LATERAL (SELECT timestamptz '2025-11-01 00:00+09' + (g::float / :n) * interval '395 days'
                       + random() * interval '1 day' AS applied,
                       (ARRAY['rejected','rejected','rejected','rejected','rejected','rejected',
                              'hired','withdrawn','withdrawn','in_process'])[1 + floor(random() * 10)::int]
                       AS status, g AS k) s""",
    """INSERT INTO message (id, public_id, logical_key, kind, candidate_id, application_id, state, due_at,
                            advertising, locale, template_name, template_version, partner_name, ref_code,
                            attempts, accepted_at, sending_at, created_at, updated_at)
       SELECT a.id, 'p' || a.id, 'application:' || a.id || ':rejection', 'rejection', a.candidate_id, a.id,
              'delivered', a.decided_at, a.id % 2 = 0, 'ja', 'rejection', 'v' || (1 + a.id % 2),
              CASE WHEN a.id % 2 = 0 THEN 'careerrelay' END, CASE WHEN a.id % 2 = 0 THEN 'R' || a.id END,
              1, t.at, t.at, t.at, t.at
       FROM application a,
       LATERAL (SELECT a.decided_at + random() * interval '9 days' + a.id * interval '0 s' AS at) t
       WHERE a.status = 'rejected'""",
    """INSERT INTO email_event (id, sg_event_id, dedup_key, message_id, event, occurred_at, received_at,
                                source, payload)
       SELECT m.id * 2, 'd' || m.id, 'd' || m.id, m.id, 'delivered', m.accepted_at, m.accepted_at,
              'sendgrid', '{}'
       FROM message m""",
    """INSERT INTO email_event (id, sg_event_id, dedup_key, message_id, event, occurred_at, received_at,
                                source, payload)
       SELECT m.id * 2 + 1, 'o' || m.id, 'o' || m.id, m.id, 'open', m.accepted_at + interval '1 hour',
              m.accepted_at + interval '1 hour', 'sendgrid', '{}'
       FROM message m WHERE random() < 0.4""",
    """INSERT INTO click (id, message_id, link, clicked_at)
       SELECT m.id, m.id, 'partner', m.accepted_at + interval '2 hours'
       FROM message m WHERE m.partner_name IS NOT NULL AND random() < 0.2""",
    """INSERT INTO partner_referral (id, partner, ref_code, status, occurred_at, message_id, candidate_id,
                                     suspicious, reported_via, first_reported_at)
       SELECT m.id, 'careerrelay', m.ref_code, 'registered', m.accepted_at + interval '3 days', m.id,
              m.candidate_id, random() < 0.02, 'csv', now()
       FROM message m WHERE m.partner_name IS NOT NULL AND random() < 0.05""",
    """INSERT INTO partner_ledger (id, partner, kind, credits, value_yen, credit_no, reason, effective_at,
                                   created_at, idempotency_key)
       SELECT n, 'careerrelay', 'earned', 1, 300000, n, 'bench', r.occurred_at, now(), 'earned:' || n
       FROM (SELECT occurred_at, row_number() OVER (ORDER BY occurred_at, id) AS n FROM partner_referral) r
       WHERE n % 10 = 0""",
    """INSERT INTO partner_ledger (id, partner, kind, credits, value_yen, credit_no, earned_entry_id,
                                   hire_ref, reason, effective_at, created_at, idempotency_key)
       SELECT 1000000000 + id, 'careerrelay', 'redeemed', -1, -300000, credit_no, id, 'H' || id, 'bench',
              effective_at + interval '20 days', now(), 'redeemed:' || id
       FROM partner_ledger WHERE kind = 'earned' AND credit_no % 30 = 0""",
]


@contextmanager
def scratch(url: str, keep: bool, name: str | None = None) -> Iterator[str]:
    """A migrated scratch database: a new one, or `name` when reusing one kept by an earlier run."""
    admin = make_url(url)
    if not admin.drivername.startswith("postgresql"):
        raise SystemExit("the benchmark needs PostgreSQL")
    reuse = name is not None
    name = name or f"bench_report_{os.getpid()}"
    try:
        with fresh_postgresql_database(url, name, create=not reuse, drop=not (keep or reuse)) as scratch_url:
            yield scratch_url
    finally:
        if keep or reuse:
            print(f"kept database {name} (re-run with --reuse {name}; drop it with DROP DATABASE)")


def generate(engine: Engine, n: int) -> None:
    params = {"n": n, "candidates": max(1, int(n * 0.85))}
    with engine.begin() as conn:
        for stmt in GENERATE:
            # Integers only, so inlining is safe; the driver-level call leaves ':' in literals alone.
            for k, v in params.items():
                stmt = stmt.replace(f":{k}", str(int(v)))
            conn.exec_driver_sql(stmt.replace("%", "%%"))
    # As autovacuum would leave a live database: statistics and the visibility map (index-only scans).
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")


def summary(label: str, runs: list[float]) -> str:
    return (f"{label}: best {min(runs):.2f} s, median {statistics.median(runs):.2f} s "
            f"(runs: {', '.join(f'{t:.2f}' for t in runs)})")


def reused(engine: Engine, n: int) -> None:
    with engine.connect() as conn:
        found = conn.execute(text("SELECT count(*) FROM application")).scalar_one()
    if found != n:
        raise SystemExit(f"--reuse: the database holds {found:,} applications, not --applications {n:,}")
    # A migration run since may have added indexes; statistics as after a fresh generation.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    print(f"reusing {n:,} generated applications")


#: CPU seconds of the PostgreSQL server process of the last run of each side (None: not readable).
BACKEND_CPU: dict[str, float | None] = {}
_TICKS = os.sysconf("SC_CLK_TCK")


def backend_cpu(conn: Connection) -> float | None:
    """CPU seconds used so far by this connection's server process, when the server runs on this machine
    (wall-clock times on a shared machine measure the neighbours too; this does not). Parallel workers'
    CPU is not included."""
    pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _cpu_delta(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else after - before


def sql_kpis(engine: Engine, settings: Settings) -> dict[str, object]:
    with engine.connect() as conn:
        before = backend_cpu(conn)
        kpis, _ = compute_kpis(conn, PERIOD, settings)
        BACKEND_CPU["sql"] = _cpu_delta(before, backend_cpu(conn))
        conn.rollback()
    return {k: v["value"] for k, v in kpis.items() if v["value"] is not None}


def per_query(engine: Engine, settings: Settings) -> list[tuple[str, float]]:
    """Seconds of each KPI query (one run), slowest first: where the SQL side spends its time."""
    out = []
    with engine.connect() as conn:
        tune_transaction(conn)
        for q in load_queries():
            t0 = time.perf_counter()
            run_query(conn, q, PERIOD, settings)
            out.append((q.name, time.perf_counter() - t0))
        conn.rollback()
    return sorted(out, key=lambda x: -x[1])


def explain(engine: Engine, settings: Settings, names: list[str]) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of the named KPI queries, in the report's own transaction settings."""
    queries = {q.name: q for q in load_queries()}
    unknown = sorted(set(names) - set(queries))
    if unknown:
        raise SystemExit(f"--explain: no KPI query named {', '.join(unknown)} (known: {', '.join(queries)})")
    with engine.connect() as conn:
        tune_transaction(conn)
        for name in names:
            q = queries[name]
            plan = run_query(conn, replace(q, sql="EXPLAIN (ANALYZE, BUFFERS) " + strip_header(q.sql)),
                             PERIOD, settings)
            print(f"--- {name}")
            print("\n".join(r["QUERY PLAN"] for r in plan))
        conn.rollback()


def strip_header(sql: str) -> str:
    return "\n".join(line for line in sql.splitlines() if not line.startswith("--"))


def pandas_kpis(engine: Engine, settings: Settings) -> dict[str, object]:
    """The same definitions in pandas, from the rows loaded into data frames (loading is timed too)."""
    import pandas as pd

    start, end = (pd.Timestamp(t) for t in PERIOD.bounds(settings.business.timezone))
    with engine.connect() as conn:
        before = backend_cpu(conn)
        apps = pd.read_sql("SELECT id, candidate_id, job_id, status, applied_at, decided_at,"
                           " is_reapplication,"
                           " created_at FROM application", conn)
        msgs = pd.read_sql("SELECT id, application_id, kind, state, cancelled_reason, accepted_at,"
                           " sending_at,"
                           " template_name, template_version, partner_name FROM message", conn)
        events = pd.read_sql("SELECT message_id, event FROM email_event", conn)
        clicks = pd.read_sql("SELECT message_id, link, clicked_at FROM click", conn)
        refs = pd.read_sql("SELECT partner, status, occurred_at, suspicious FROM partner_referral", conn)
        ledger = pd.read_sql("SELECT partner, kind, value_yen, effective_at FROM partner_ledger", conn)
        BACKEND_CPU["pandas"] = _cpu_delta(before, backend_cpu(conn))
    out: dict[str, object] = {}
    applied = apps[(apps.applied_at >= start) & (apps.applied_at < end)]
    decided = apps[(apps.decided_at >= start) & (apps.decided_at < end)]
    out["applications"] = len(applied)
    for name, status in (("hires", "hired"), ("rejections", "rejected"), ("withdrawals", "withdrawn")):
        out[name] = int((decided.status == status).sum())
    # Follow-up, with the same SLA calendar as the SQL.
    cal = pd.DataFrame(sla_rows(PERIOD, settings)).sort_values("day_start")
    for c in cal.columns:
        cal[c] = pd.to_datetime(cal[c], utc=True).astype(apps.decided_at.dtype)
    rej = decided[decided.status == "rejected"].sort_values("decided_at")
    rej = pd.merge_asof(rej, cal, left_on="decided_at", right_on="day_start")
    notices = msgs[msgs.kind == "rejection"].copy()
    notices["policy"] = (notices.state == "suppressed") | (
        (notices.state == "cancelled") & (notices.cancelled_reason == "candidate_anonymised"))
    per = notices.groupby("application_id").agg(accepted_at=("accepted_at", "min"), policy=("policy", "max"))
    rej = rej.merge(per, left_on="id", right_index=True, how="left")
    on_time = rej.accepted_at.notna() & (rej.accepted_at < rej.deadline)
    excluded = rej.accepted_at.isna() & ((rej.policy == True) | (  # noqa: E712
        rej.policy.isna() & (rej.created_at >= rej.stale_after)))
    eligible = len(rej) - int(excluded.sum())
    out["follow_up_rate"] = int(on_time.sum()) / eligible if eligible else None
    # E-mail.
    sent_at = msgs.accepted_at.fillna(msgs.sending_at)
    sent = msgs[(sent_at >= start) & (sent_at < end)]
    ev = events[events.message_id.isin(sent.id)]
    has = {e: set(ev[ev.event == e].message_id) for e in ("delivered", "bounce", "open", "click")}
    own = set(clicks[(clicks.link != "unsubscribe") & clicks.message_id.isin(sent.id)].message_id)
    ids = sent.id
    clicked = ids.isin(has["click"] | own)
    opened = ids.isin(has["open"])
    bounced = ids.isin(has["bounce"]) | (sent.state == "bounced")
    # Delivery, bounces and opens are of the mails the provider reported on (email_provider_events.sql).
    reported = ids.isin(set(ev.message_id)) | sent.state.isin(["delivered", "bounced"])
    delivered = reported & (ids.isin(has["delivered"]) | (sent.state == "delivered") | opened | clicked)
    n = len(sent)
    if n:
        out["email_clicked_rate"] = clicked.sum() / n
    if reported.sum():
        out["email_delivered_rate"] = delivered.sum() / reported.sum()
        out["email_bounced_rate"] = bounced.sum() / reported.sum()
        out["email_opened_rate"] = opened.sum() / reported.sum()
    # Partner.
    pc = clicks[(clicks.link == "partner") & (clicks.clicked_at >= start) & (clicks.clicked_at < end)]
    pc = pc.merge(msgs[["id", "partner_name"]], left_on="message_id", right_on="id")
    out["partner_link_clicks"] = int(pc.partner_name.notna().sum())
    reg = refs[(refs.status == "registered") & (refs.occurred_at >= start) & (refs.occurred_at < end)]
    out["partner_registrations"] = int((~reg.suspicious).sum())
    in_period = (msgs.accepted_at >= start) & (msgs.accepted_at < end)
    with_link = int((msgs.partner_name.notna() & in_period).sum())
    if with_link:
        out["partner_registration_rate"] = out["partner_registrations"] / with_link
    led = ledger[(ledger.effective_at >= start) & (ledger.effective_at < end)]
    out["credits_earned"] = int((led.kind == "earned").sum())
    out["credits_redeemed"] = int((led.kind == "redeemed").sum())
    out["credit_value"] = int(-led[led.kind == "redeemed"].value_yen.sum())
    # Re-application rate.
    rejected = set(apps[(apps.status == "rejected") & (apps.decided_at < start)].candidate_id)
    back = applied[applied.is_reapplication & applied.candidate_id.isin(rejected)].candidate_id.nunique()
    # One definition of a re-application (sql/reports/reapplication_rate.sql): the people, not applications.
    out["reapplications"] = int(back)
    if rejected:
        out["reapplication_rate"] = back / len(rejected)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--applications", type=int, default=100_000)
    parser.add_argument("--database-url", default=os.environ.get(
        "JUNKAN_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--reuse", metavar="DB", help="time on a database kept by an earlier --keep run "
                        "(same --applications) instead of generating one; it is migrated to head and kept")
    parser.add_argument("--repeat", type=int, default=3,
                        help="timed runs of each side (best is shown); 0 only generates (with --keep)")
    parser.add_argument("--explain", metavar="QUERY,…", help="print EXPLAIN (ANALYZE, BUFFERS) of these KPI "
                        "queries (file names without .sql) before timing")
    parser.add_argument("--sql-only", action="store_true", help="time the SQL side only (no pandas)")
    args = parser.parse_args()
    with scratch(args.database_url, args.keep, args.reuse) as url:
        engine = make_engine(url)
        if args.reuse:
            reused(engine, args.applications)
        else:
            started = time.perf_counter()
            generate(engine, args.applications)
            print(f"generated {args.applications:,} applications (with messages, events, clicks, referrals, "
                  f"ledger) in {time.perf_counter() - started:.1f} s")
        settings = Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]
        if args.explain:
            explain(engine, settings, args.explain.split(","))
        if args.repeat < 1:
            return 0
        times: dict[str, list[float]] = {"sql": [], "pandas": []}
        cpu: dict[str, list[str]] = {"sql": [], "pandas": []}
        results: dict[str, dict[str, object]] = {}
        for _ in range(args.repeat):
            for side, fn in (("sql", sql_kpis), ("pandas", pandas_kpis))[:1 if args.sql_only else 2]:
                t0, c0 = time.perf_counter(), time.process_time()
                results[side] = fn(engine, settings)
                times[side].append(time.perf_counter() - t0)
                server = BACKEND_CPU.get(side)
                here = time.process_time() - c0
                cpu[side].append(f"{here:.2f}" if server is None else f"{server:.2f}+{here:.2f}")
                print(f"  {side}: {times[side][-1]:.2f} s wall, CPU server+python {cpu[side][-1]} s, "
                      f"load average {os.getloadavg()[0]:.1f}", flush=True)
        if args.sql_only:
            print(summary("SQL (compute_kpis)", times["sql"]))
            print("per query: " + ", ".join(f"{n} {t:.2f} s" for n, t in per_query(engine, settings)))
            return 0
        common = sorted(set(results["pandas"]) & set(results["sql"]))
        differ = [k for k in common if abs(float(results["sql"][k]) - float(results["pandas"][k])) > 1e-12]  # type: ignore[arg-type]
        print(f"KPIs for {PERIOD.start} – {PERIOD.end}: {len(results['sql'])} figures, "
              f"{len(common)} cross-checked with pandas, {len(differ)} differ {differ or ''}")
        for k in ("applications", "rejections", "follow_up_rate", "email_opened_rate", "credits_earned"):
            print(f"  {k} = {results['sql'].get(k)}")
        print(summary("SQL (compute_kpis)", times["sql"]) + f", CPU server+python: {', '.join(cpu['sql'])}")
        print(summary("pandas (load + compute)", times["pandas"])
              + f", CPU server+python: {', '.join(cpu['pandas'])}")
        med = statistics.median(times["pandas"]) / statistics.median(times["sql"])
        print(f"ratio pandas / SQL: {min(times['pandas']) / min(times['sql']):.1f}x best, {med:.1f}x median"
              "   goals: SQL < 5 s, ratio >= 5x")
        print("per query: " + ", ".join(f"{n} {t:.2f} s" for n, t in per_query(engine, settings)))
        return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
