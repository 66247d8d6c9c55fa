"""Evaluation set for the matcher's vocabulary, in the style of issue 21 (docs/pool.md "Evaluation").

    python bench/match_vocabulary.py [--seed 7]

A scratch SQLite database holds 9 new jobs and a pool of 1,296 rejected candidates with every consent:
per job 10 **planted** people whose titles and skills share no character with the job (BtoBセールス / SFDC /
商談 for 法人営業 requiring Salesforce / 顧客折衝), 6 **false friends** whose titles share many (営業事務 for
法人営業, インフラ営業 for インフラエンジニア, データ入力 for データアナリスト …) and 4 **plain** people who
use the job's own words; the rest are other work. The real `plan_run` ranks the pool for every job with
the default settings (top 20, threshold 35), with and without the semantic parts, and prints per job and
overall: recall@20 of the planted people, of the plain people, and the false friends in the top 6.
A ninth job (総務) asks for general words no job vocabulary holds (規程, 文書, 会議), its planted people write
them as Sudachi's synonyms (ルール, ドキュメント, ミーティング); every job is also ranked with the vocabulary
but without the general synonyms (`general_synonyms=false`). Goals (issue 21): planted recall@20 >= 0.85,
at most one false friend in any job's top 6, plain recall unchanged.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy.orm import Session

from junkan.config import Settings
from junkan.db import make_engine, upgrade
from junkan.db.models import Application, Candidate, Consent, Job, RejectionReason
from junkan.pool.runs import plan_run

POOL = 1296
PLANTED, FRIENDS, PLAIN = 10, 6, 4

#: title, required skills; planted titles and skills (no character in common); false friends; plain.
CASES: list[tuple[str, list[str], list[str], list[str], list[str], list[str], list[str]]] = [
    ("法人営業", ["Salesforce", "顧客折衝", "新規開拓"],
     ["BtoBセールス", "アカウントエグゼクティブ", "フィールドセールス", "Account Executive"],
     ["SFDC", "商談", "新規顧客開拓", "セールスフォース"],
     ["営業事務", "営業アシスタント", "営業サポート事務"], ["受発注業務", "請求書作成", "営業サポート"],
     ["Salesforce", "顧客折衝", "新規開拓"]),
    ("インフラエンジニア", ["Kubernetes", "AWS", "Terraform"],
     ["SRE", "クラウドエンジニア", "Site Reliability Engineer", "DevOps Engineer"],
     ["k8s", "Amazon Web Services", "IaC", "EKS"],
     ["インフラ営業", "インフラ営業マネージャー"], ["法人営業", "提案営業", "ルート営業経験"],
     ["Kubernetes", "AWS", "Terraform"]),
    ("データアナリスト", ["Tableau", "統計学", "データ分析"],
     ["Business Analyst", "分析官", "BI Analyst"], ["タブロー", "Statistics", "Data Analysis", "Looker"],
     ["データ入力", "データ入力スタッフ", "データ入力オペレーター"],
     ["データエントリー", "タイピング", "Excel"],
     ["Tableau", "統計学", "データ分析"]),
    ("採用担当", ["採用業務", "ダイレクトリクルーティング", "面接"],
     ["リクルーター", "Talent Acquisition", "Recruiter"], ["Recruiting", "スカウト", "Interview", "ATS"],
     ["経理担当", "総務担当", "経理担当者"], ["仕訳入力", "経費精算", "備品管理"],
     ["採用業務", "ダイレクトリクルーティング", "面接"]),
    ("経理", ["簿記2級", "月次決算", "仕訳入力"],
     ["会計スタッフ", "Accountant", "会計事務"], ["日商簿記二級", "月次締め", "伝票入力", "記帳"],
     ["経営企画", "経営企画室", "経理部付秘書"], ["予算策定", "事業計画", "秘書業務"],
     ["簿記2級", "月次決算", "仕訳入力"]),
    ("バックエンドエンジニア", ["Go", "PostgreSQL", "Kubernetes"],
     ["Server-side Engineer", "Software Engineer", "サーバサイド開発"],
     ["Golang", "Postgres", "k8s", "gRPC"],
     ["バックオフィス事務", "バックオフィススタッフ"], ["Excel", "データ入力", "書類作成"],
     ["Go", "PostgreSQL", "Kubernetes"]),
    ("カスタマーサクセス", ["オンボーディング", "解約防止", "Salesforce"],
     ["CSM", "Customer Success Manager", "導入コンサルタント"], ["導入支援", "チャーン防止", "SFDC", "NPS"],
     ["カスタマーサポート", "カスタマーサービス"], ["電話対応", "メール対応", "クレーム対応"],
     ["オンボーディング", "解約防止", "Salesforce"]),
    ("看護師", ["看護師免許", "病棟経験", "採血"],
     ["ナース", "Nurse", "Registered Nurse"], ["急性期", "点滴", "RN", "バイタル"],
     ["看護助手", "看護補助"], ["介護職員初任者研修", "身体介護", "介助"],
     ["看護師免許", "病棟経験", "採血"]),
    # General words no job vocabulary holds, only Sudachi's synonym groups: 規程＝ルール, 文書＝ドキュメント,
    # 会議＝ミーティング＝打ち合わせ.
    ("総務", ["規程", "文書", "会議"],
     ["庶務", "役員秘書", "Secretary", "バックオフィス"],
     ["ルール", "ドキュメント", "ミーティング", "打ち合わせ"],
     ["税務", "総合受付", "事務長"], ["電話", "来客", "契約", "パソコン"],
     ["規程", "文書", "会議"]),
]
OTHERS = [("製造スタッフ", ["フォークリフト", "ライン作業"]), ("倉庫スタッフ", ["ピッキング", "梱包"]),
          ("販売スタッフ", ["レジ", "接客"]), ("介護職", ["介護福祉士", "身体介護"]),
          ("Webデザイナー", ["Photoshop", "Figma"]), ("マーケター", ["SEO", "広告運用"]),
          ("施工管理", ["施工管理", "CAD"]), ("調理スタッフ", ["調理師免許", "仕込み"])]
PLACES = ["東京都渋谷区", "大阪府大阪市", "神奈川県横浜市"]


def build(url: str, seed: int) -> dict[str, dict[int, str]]:
    """The company; returns, per job title, candidate id -> kind (planted, friend, plain)."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    engine = make_engine(url)
    kinds: dict[str, dict[int, str]] = {}
    with Session(engine) as s:
        reason = RejectionReason(source="bench", external_id="R1", name="他の候補者を優先",
                                 category="other_candidate", pool_eligibility="silver")
        s.add(reason)
        past: dict[str, Job] = {}

        def person(title: str, skills: list[str]) -> int:
            if title not in past:
                past[title] = Job(source="bench", external_id=f"P{len(past)}", title=title, status="closed",
                                  opened_at=now - timedelta(days=500))
                s.add(past[title])
            cand = Candidate(email_key=f"v{rng.random()}@bench.example", locale="ja", tags=[], skills=skills,
                             location=rng.choice(PLACES))
            s.add(cand)
            s.flush()
            decided = now - timedelta(days=rng.randint(220, 330))
            s.add(Application(source="bench", external_id=f"A{cand.id}", candidate_id=cand.id,
                              job_id=past[title].id, status="rejected", decided_at=decided,
                              applied_at=decided - timedelta(days=20), reason_id=reason.id,
                              stage_reached=rng.choice(["一次面接", "二次面接", "最終面接"]),
                              content_hash="v"))
            for purpose in ("talent_pool", "recontact"):
                s.add(Consent(candidate_id=cand.id, purpose=purpose, granted=True,
                              recorded_at=now - timedelta(days=100), source="bench"))
            return cand.id

        count = 0
        for k, (title, req, p_titles, p_skills, f_titles, f_skills, plain) in enumerate(CASES):
            s.add(Job(source="bench", external_id=f"N{k}", title=title, status="open", required_skills=req,
                      location=rng.choice(["東京都", "大阪府", "神奈川県"]),
                      opened_at=now - timedelta(days=2)))
            mine: dict[int, str] = {}
            for _ in range(PLANTED):
                skills = rng.sample(p_skills, rng.randint(2, len(p_skills)))
                mine[person(rng.choice(p_titles), skills)] = "planted"
            for _ in range(FRIENDS):
                mine[person(rng.choice(f_titles), rng.sample(f_skills, 2))] = "friend"
            for _ in range(PLAIN):
                mine[person(title, rng.sample(plain, rng.randint(2, len(plain))))] = "plain"
            kinds[title] = mine
            count += len(mine)
        while count < POOL:
            title, skills = rng.choice(OTHERS)
            person(title, skills)
            count += 1
        s.commit()
    engine.dispose()
    return kinds


def evaluate(url: str, kinds: dict[str, dict[int, str]], semantic: bool,
             general_synonyms: bool = True) -> dict[str, tuple[float, float, int]]:
    cfg = {"semantic": semantic, "general_synonyms": general_synonyms}
    settings = Settings(database_url=url, recontact=cfg, _env_file=None)  # type: ignore[call-arg,arg-type]
    engine = make_engine(url)
    now = datetime.now(UTC)
    with Session(engine) as session:
        plan = plan_run(session, settings, as_of=now.date(), now=now, mode="shortlist")
        session.rollback()
    engine.dispose()
    titles = {t.job_id: t.title for t in plan.targets}
    out = {}
    for title, mine in kinds.items():
        ranked = sorted((r["rank"], r["candidate_id"]) for r in plan.rows if titles[r["job_id"]] == title)
        top20 = [c for _, c in ranked[:20]]
        top6 = [c for _, c in ranked[:6]]
        planted = [c for c, k in mine.items() if k == "planted"]
        plain = [c for c, k in mine.items() if k == "plain"]
        out[title] = (sum(c in top20 for c in planted) / len(planted),
                      sum(c in top20 for c in plain) / len(plain),
                      sum(mine.get(c) == "friend" for c in top6))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'vocabulary-eval.db'}"
        upgrade(url)
        kinds = build(url, args.seed)
        before, after = evaluate(url, kinds, False), evaluate(url, kinds, True)
        no_general = evaluate(url, kinds, True, general_synonyms=False)
    print(f"pool {POOL:,} rejected candidates, {len(CASES)} new jobs; per job {PLANTED} planted (no "
          f"character in common), {FRIENDS} false friends, {PLAIN} plain; default settings (top 20, "
          "threshold 35)")
    print("(after without general synonyms: the vocabulary with JUNKAN_RECONTACT__GENERAL_SYNONYMS=false)")
    print(f"{'job':<14} {'planted recall@20':>28} {'plain recall@20':>26} {'false friends in top 6':>26}")
    print(f"{'':<14} {'before → w/o general → after':>28} {'before → w/o general → after':>26} "
          f"{'before → w/o → after':>26}")
    for title in kinds:
        b, n, a = before[title], no_general[title], after[title]
        print(f"{title:<14} {b[0]:>12.2f} → {n[0]:.2f} → {a[0]:.2f} {b[1]:>10.2f} → {n[1]:.2f} → {a[1]:.2f}"
              f" {b[2]:>14d} → {n[2]:d} → {a[2]:d}")
    for name, res in (("before", before), ("after without general synonyms", no_general), ("after", after)):
        planted = sum(v[0] for v in res.values()) / len(res)
        plain = sum(v[1] for v in res.values()) / len(res)
        worst = max(v[2] for v in res.values())
        print(f"{name}: planted recall@20 {planted:.3f}, plain recall@20 {plain:.3f}, "
              f"most false friends in one job's top 6: {worst}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
