"""Generates a sample company's ATS export: about 2,000 applications over 12 months, about 100 hires.

The export is what a Japanese HR team really hands over: CP932, Japanese headers, a few full-width
e-mail addresses, and a handful of broken rows that ingest must quarantine rather than choke on.
Applicants carry skills and tags, and the company keeps a jobs sheet (求人一覧) whose newest jobs opened
in the last days: the people it rejected 6–12 months ago with 人材プール consent are who `recontact`
finds for them.
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

#: Per job of JOBS: (必須スキル, 歓迎スキル, 勤務地).
JOB_SKILLS: tuple[tuple[tuple[str, ...], tuple[str, ...], str], ...] = (
    (("Python", "Go", "SQL"), ("AWS", "Docker"), "東京都"),
    (("TypeScript", "React"), ("Next.js", "デザインシステム"), "東京都"),
    (("Linux", "AWS", "Terraform"), ("Kubernetes", "Go"), "東京都"),
    (("SQL", "Python"), ("Tableau", "統計"), "東京都"),
    (("Python", "機械学習"), ("PyTorch", "AWS"), "東京都"),
    (("プロダクトマネジメント", "要件定義"), ("SQL", "SaaS"), "東京都"),
    (("Figma", "UIデザイン"), ("ユーザーリサーチ",), "東京都"),
    (("テスト設計", "自動テスト"), ("Python", "CI/CD"), "大阪府"),
    (("法人営業", "SaaS"), ("Salesforce", "提案書作成"), "大阪府"),
    (("インサイドセールス", "Salesforce"), ("MA ツール",), "大阪府"),
    (("カスタマーサクセス", "SaaS"), ("Salesforce", "オンボーディング", "カスタマーサポート"), "東京都"),
    (("カスタマーサポート", "Zendesk"), ("英語",), "福岡県"),
    (("デジタルマーケティング", "広告運用"), ("SEO", "Google Analytics"), "東京都"),
    (("広報", "プレスリリース"), ("SNS 運用",), "東京都"),
    (("採用", "人事"), ("ダイレクトリクルーティング",), "東京都"),
    (("経理", "月次決算"), ("英語", "連結会計"), "東京都"),
    (("契約審査", "法務"), ("英語",), "東京都"),
    (("社内SE", "ネットワーク"), ("Google Workspace",), "東京都"),
    (("事業計画", "財務分析"), ("SQL", "M&A"), "東京都"),
    (("コミュニケーション",), ("英語",), "東京都"),
)
#: Jobs that opened in the last days (days before the export's date): new ids, so the people who applied
#: to the older job of the same family are not "already applied" to them.
NEW_JOBS: tuple[tuple[str, str, str, int, tuple[str, ...], tuple[str, ...], str, str], ...] = (
    ("J021", "シニアバックエンドエンジニア（決済基盤）", "開発本部", 1, ("Python", "Go", "SQL"),
     ("AWS", "Docker", "Kubernetes"), "東京都",
     "決済基盤のバックエンド API を設計・開発します。"
     "Python と Go のサービスを、SQL の設計から AWS での運用まで担当します。"),
    ("J022", "データエンジニア", "データ戦略室", 2, ("SQL", "Python"), ("AWS", "Tableau"), "東京都",
     "分析基盤のデータパイプラインを構築し、SQL と Python でデータマートを整備します。"),
    ("J023", "エンタープライズ営業", "営業本部", 3, ("法人営業", "SaaS"), ("Salesforce", "提案書作成"),
     "大阪府",
     "大手企業向けに SaaS の提案営業を行います。Salesforce での案件管理が中心です。"),
    # カスタマー支援: no job vocabulary holds it; Sudachi's synonym groups make it カスタマーサポート.
    ("J024", "カスタマーサクセス（リーダー）", "カスタマー本部", 4, ("カスタマーサクセス", "SaaS"),
     ("Salesforce", "オンボーディング", "カスタマー支援"), "東京都",
     "導入企業のオンボーディングと活用支援をリードし、解約率の改善を担います。"),
)
#: The job that opens on the day the demo is run, after its two past days (same fields as NEW_JOBS, opened
#: that day): 総務 work, which nobody in the pool applied for; who said on their own page they want it is
#: listed first (junkan/demo/visits.py). No required skills, as many real postings.
LATER_JOB = ("J025", "総務担当", "コーポレート本部", 0, (), ("簿記2級", "社内規程管理"), "東京都",
               "オフィス運営、社内規程の管理、株主総会の準備など総務業務全般を担当します。")
JOBS_SHEET_HEADERS = ("求人ID", "求人名", "状態", "募集開始日", "募集終了日", "必須スキル", "歓迎スキル",
                      "勤務地", "部署", "仕事内容")
_TAGS = ("リファラル", "スカウト経由", "イベント参加", "ダイレクト応募")

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
    "スキル",
    "タグ",
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
    # A second generator for skills and tags, so the rest of the company is what it was before they existed.
    extra = random.Random(seed + 1)
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
        proposed = applied + timedelta(days=rng.randint(5, 35))
        decided: date | None = proposed
        reason = ""
        if i in hire_ids:
            status, stage = "採用", "最終面接"
            decided = min(proposed, today)  # decided by now: a future decision date is implausible
            counts["hired"] += 1
        elif proposed > today:
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
                _skills(extra, job_no),
                extra.choice(_TAGS) if extra.random() < 0.3 else "",
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


def _skills(rng: random.Random, job_no: int) -> str:
    """Two to four skills from the applicant's job family, in the 、-separated form exports use."""
    required, preferred, _ = JOB_SKILLS[job_no]
    family = list(dict.fromkeys([*required, *preferred]))
    return "、".join(rng.sample(family, min(len(family), rng.randint(2, 4))))


def write_jobs_sheet(path: Path, *, today: date, seed: int = 7, later: date | None = None) -> int:
    """The CP932 jobs sheet (求人一覧): JOBS open for months (a few closed), NEW_JOBS opened in the last
    days, and with `later` the LATER_JOB opened that day. Returns how many jobs opened in the last days
    (before `today`)."""
    rng = random.Random(seed + 2)
    rows: list[list[str]] = []
    for no, ((title, dept), (required, preferred, place)) in enumerate(zip(JOBS, JOB_SKILLS, strict=True)):
        opened = today - timedelta(days=rng.randint(200, 400))
        closed = no % 7 == 3
        rows.append([f"J{no + 1:03d}", title, "募集終了" if closed else "募集中", opened.strftime("%Y/%m/%d"),
                     (today - timedelta(days=rng.randint(10, 60))).strftime("%Y/%m/%d") if closed else "",
                     "、".join(required), "、".join(preferred), place, dept,
                     f"{dept}で{title}として働きます。"])
    for job_id, title, dept, days_ago, required, preferred, place, text in NEW_JOBS:
        rows.append([job_id, title, "募集中", (today - timedelta(days=days_ago)).strftime("%Y/%m/%d"), "",
                     "、".join(required), "、".join(preferred), place, dept, text])
    if later is not None:
        job_id, title, dept, _, required, preferred, place, text = LATER_JOB
        rows.append([job_id, title, "募集中", later.strftime("%Y/%m/%d"), "", "、".join(required),
                     "、".join(preferred), place, dept, text])
    with path.open("w", encoding="cp932", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(JOBS_SHEET_HEADERS)
        writer.writerows(rows)
    return len(NEW_JOBS)


def _yes(flag: bool) -> str:
    return "はい" if flag else "いいえ"


def _break_some_rows(rows: list[list[str]], rng: random.Random) -> int:
    """Typos a real export contains: a missing @, an impossible date, an unknown status."""
    targets = rng.sample(range(len(rows)), 3)
    rows[targets[0]][2] = rows[targets[0]][2].replace("@", "")
    rows[targets[1]][4] = "2026/13/45"
    rows[targets[2]][8] = "保留"
    return len(targets)
