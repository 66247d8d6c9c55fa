"""Generates a sample company's ATS export: about 2,000 applications over 12 months, about 100 hires.

The export is what a Japanese HR team really hands over: CP932, Japanese headers, a few full-width
e-mail addresses, and a handful of broken rows that ingest must quarantine rather than choke on.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from faker import Faker

JOBS: tuple[tuple[str, str], ...] = (
    ("バックエンドエンジニア", "開発本部"),
    ("フロントエンドエンジニア", "開発本部"),
    ("SRE", "開発本部"),
    ("データアナリスト", "データ戦略室"),
    ("機械学習エンジニア", "データ戦略室"),
    ("プロダクトマネージャー", "プロダクト部"),
    ("UI/UXデザイナー", "プロダクト部"),
    ("QAエンジニア", "開発本部"),
    ("法人営業", "営業本部"),
    ("インサイドセールス", "営業本部"),
    ("カスタマーサクセス", "カスタマー本部"),
    ("カスタマーサポート", "カスタマー本部"),
    ("マーケティング", "マーケティング部"),
    ("広報", "コーポレート本部"),
    ("人事（採用担当）", "コーポレート本部"),
    ("経理", "コーポレート本部"),
    ("法務", "コーポレート本部"),
    ("情報システム", "コーポレート本部"),
    ("事業企画", "経営企画室"),
    ("新卒総合職", "人事部"),
)

#: (reason, stage it typically happens at, weight)
REJECTION_REASONS: tuple[tuple[str, str, int], ...] = (
    ("スキル・経験が募集要件に満たない", "書類選考", 40),
    ("志望動機・カルチャーフィットの不一致", "一次面接", 18),
    ("他の候補者を優先", "二次面接", 14),
    ("ポジション充足", "書類選考", 8),
    ("最終面接で総合的に判断", "最終面接", 10),
    ("条件面（給与・勤務地）の不一致", "一次面接", 7),
    ("重複応募", "書類選考", 2),
    ("経歴詐称の疑い", "二次面接", 1),
)
STAGES = ("書類選考", "一次面接", "二次面接", "最終面接")
HEADERS = (
    "応募ID",
    "氏名",
    "メールアドレス",
    "電話番号",
    "応募日",
    "求人ID",
    "求人",
    "選考段階",
    "選考結果",
    "不採用理由",
    "選考結果日",
    "タレントプール同意",
    "パートナー案内同意",
    "再連絡同意",
)


@dataclass(frozen=True)
class CompanyStats:
    applications: int
    hires: int
    rejected: int
    withdrawn: int
    in_process: int
    reapplications: int
    malformed: int


def _to_fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def write_export(
    path: Path, *, today: date, seed: int = 7, n_applications: int = 2000, n_hires: int = 100
) -> CompanyStats:
    """Write the CP932 CSV export and return what it contains, for the demo's summary."""
    rng = random.Random(seed)
    fake = Faker("ja_JP")
    fake.seed_instance(seed)
    start = today - timedelta(days=365)
    hire_ids = set(rng.sample(range(n_applications), n_hires))
    people: list[tuple[str, str, str]] = []
    counts = {"hired": 0, "rejected": 0, "withdrawn": 0, "in_process": 0, "reapplied": 0}
    rows: list[list[str]] = []
    for i in range(n_applications):
        # About 4% are people who applied before (often after an earlier rejection): re-applicants.
        if people and rng.random() < 0.04:
            name, email, phone = rng.choice(people)
            counts["reapplied"] += 1
        else:
            name = fake.name()
            email = f"{fake.user_name()}{i}@example.jp"
            phone = fake.phone_number()
            people.append((name, email, phone))
        applied = start + timedelta(days=int(365 * (i / n_applications)) + rng.randint(0, 3))
        applied = min(applied, today)
        job_no = rng.randrange(len(JOBS))
        title, _dept = JOBS[job_no]
        decided = applied + timedelta(days=rng.randint(5, 35))
        reason = ""
        if i in hire_ids:
            status, stage = "採用", "最終面接"
            decided = min(decided, today)  # decided by now: a future decision date is implausible
            counts["hired"] += 1
        elif decided > today:
            status, stage, decided = "選考中", rng.choice(STAGES[:2]), None
            counts["in_process"] += 1
        elif rng.random() < 0.06:
            status, stage, reason = "辞退", rng.choice(STAGES), "他社で内定"
            counts["withdrawn"] += 1
        else:
            reason, stage, _ = rng.choices(REJECTION_REASONS, weights=[w for *_, w in REJECTION_REASONS])[0]
            status = "不採用"
            counts["rejected"] += 1
        pool = rng.random() < 0.6
        rows.append(
            [
                f"A{100000 + i}",
                name,
                _to_fullwidth(email) if rng.random() < 0.02 else email,
                phone,
                applied.strftime("%Y/%m/%d"),
                f"J{job_no + 1:03d}",
                title,
                stage,
                status,
                reason,
                decided.strftime("%Y/%m/%d") if decided else "",
                _yes(pool),
                _yes(pool and rng.random() < 0.8),
                _yes(pool and rng.random() < 0.75),
            ]
        )
    malformed = _break_some_rows(rows, rng)
    with path.open("w", encoding="cp932", newline="", errors="replace") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADERS)
        writer.writerows(rows)
    return CompanyStats(
        applications=n_applications,
        hires=counts["hired"],
        rejected=counts["rejected"],
        withdrawn=counts["withdrawn"],
        in_process=counts["in_process"],
        reapplications=counts["reapplied"],
        malformed=malformed,
    )


def _yes(flag: bool) -> str:
    return "はい" if flag else "いいえ"


def _break_some_rows(rows: list[list[str]], rng: random.Random) -> int:
    """Typos a real export contains: a missing @, an impossible date, an unknown status."""
    targets = rng.sample(range(len(rows)), 3)
    rows[targets[0]][2] = rows[targets[0]][2].replace("@", "")
    rows[targets[1]][4] = "2026/13/45"
    rows[targets[2]][8] = "保留"
    return len(targets)
