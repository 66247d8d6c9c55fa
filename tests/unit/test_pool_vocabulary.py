"""The shipped job vocabulary: occupations with their MHLW codes, the skill thesaurus, Sudachi's
normalisation, the head rule that keeps false friends apart, and an operator's file (docs/pool.md)."""

from __future__ import annotations

import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest

from junkan.pool.vocabulary import ThesaurusError, load_vocabulary, shipped
from junkan.pool.vocabulary.classify import Classifier
from junkan.pool.vocabulary.terms import term_key

ROOT = Path(__file__).resolve().parents[2]


def test_the_yaml_files_are_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["junkan"]
    for name in ("occupations.yaml", "skills.yaml"):
        assert (ROOT / "junkan/pool/vocabulary" / name).is_file()
        assert any(fnmatch(f"pool/vocabulary/{name}", p) for p in patterns)


def test_families_carry_mhlw_middle_groups_and_both_titles() -> None:
    v = shipped()
    assert len(v.families) >= 40 and len(set(v.skill_of.values())) >= 300
    for f in v.families.values():
        assert f.code.isdigit() and len(f.code) == 2 and f.mhlw and f.ja and f.en and f.aliases
    assert v.families["corporate_sales"].code == "34" and v.families["sales_admin"].code == "28"
    assert v.families["accounting"].ja == "経理" and v.families["backend"].en == "Backend Engineer"
    # Engineering is split where recruiting needs it; the non-engineering work a company hires for is there.
    for fid in ("backend", "frontend", "infrastructure", "data_analyst", "data_engineer", "ml_engineer",
                "inside_sales", "recruiting", "labor", "legal", "general_affairs", "finance", "marketing",
                "customer_success", "designer_ux", "product_manager", "clerical", "manufacturing",
                "logistics", "retail", "care", "nursing", "construction_manager"):
        assert fid in v.families


@pytest.mark.parametrize(("form", "canonical"), [
    ("k8s", "Kubernetes"),              # abbreviation
    ("SFDC", "Salesforce"),
    ("BQ", "BigQuery"),
    ("商談", "顧客折衝"),                # synonym
    ("月次締め", "月次決算"),
    ("日商簿記二級", "簿記2級"),          # notation variant
    ("簿記二級", "簿記2級"),
    ("ＡＷＳ", "AWS"),                   # full-width Latin (NFKC)
    ("Amazon Web Services", "AWS"),     # English form
    ("ｾｰﾙｽﾌｫｰｽ", "Salesforce"),        # half-width katakana
    ("サーバ構築", "サーバー構築"),        # Sudachi's normalised form: サーバ = サーバー
    ("アカウントマネジメント", "既存顧客対応"),
])
def test_thesaurus_paths(form: str, canonical: str) -> None:
    assert shipped().canonical_skill(form) == canonical


def test_sudachi_normalises_spelling_variants() -> None:
    assert term_key("サーバ") == term_key("サーバー") == term_key("ｻｰﾊﾞｰ")
    assert term_key("打合せ") == term_key("打ち合わせ")
    assert term_key("法人 営業") == term_key("法人営業") and term_key("Google  Cloud") == "google cloud"


@pytest.mark.parametrize(("title", "family"), [
    ("法人営業", "corporate_sales"),
    ("BtoBセールス", "corporate_sales"),
    ("アカウントエグゼクティブ", "corporate_sales"),
    ("SRE", "infrastructure"),
    ("クラウドエンジニア", "infrastructure"),
    ("リクルーター", "recruiting"),
    ("ｻｰﾊﾞｰｻｲﾄﾞエンジニア", "backend"),
    ("Senior Backend Developer", "backend"),
    ("バックエンドエンジニア（Go）", "backend"),
    # False friends: the head decides.
    ("営業事務", "sales_admin"),
    ("インフラ営業", "corporate_sales"),
    ("データ入力", "clerical"),
    ("データ入力担当", "clerical"),
    ("データアナリスト", "data_analyst"),
    ("営業アシスタント", "sales_admin"),
])
def test_titles_are_classified_by_their_head(title: str, family: str) -> None:
    found = Classifier(shipped()).of_job(title)
    assert found is not None and found.family == family and found.via == "title"


def test_a_bracketed_qualifier_does_not_decide_and_the_posting_or_skills_do() -> None:
    c = Classifier(shipped())
    assert c.of_job("エンジニア（営業支援システム）") is None
    posting = c.of_job("〇〇プロダクトの開発",
                       "ReactとTypeScriptで画面を作る、フロントエンドエンジニアの募集です。")
    assert posting is not None and (posting.family, posting.via) == ("frontend", "posting")
    skills = c.of_job("〇〇チーム", None, ["日商簿記二級", "月次締め", "Excel"])
    assert skills is not None and (skills.family, skills.via) == ("accounting", "skills")
    assert c.of_job("〇〇チーム", None, ["Excel"]) is None


def test_an_operator_file_adds_and_overrides_entries(tmp_path: Path) -> None:
    path = tmp_path / "thesaurus.csv"
    path.write_text("正規形,別名,種別\nSalesforce,セールスフォース・ドットコム、SF\n"
                    "ジョブ管理,JP1、ジョブスケジューラ,スキル\n法人営業,エンタープライズセールス,職種\n"
                    "Tableau,ビッグクエリ,スキル\n", encoding="utf-8-sig")
    v = load_vocabulary(path)
    assert v.canonical_skill("SF") == "Salesforce" and v.canonical_skill("jp1") == "ジョブ管理"
    assert v.canonical_skill("ビッグクエリ") == "Tableau"      # moved from the shipped BigQuery entry
    assert v.canonical_skill("BQ") == "BigQuery"              # the rest of the shipped entry stays
    assert Classifier(v).of_job("エンタープライズセールス").family == "corporate_sales"  # type: ignore[union-attr]
    assert shipped().canonical_skill("SF") is None             # the shipped vocabulary is untouched


def test_a_yaml_operator_file_works_too(tmp_path: Path) -> None:
    path = tmp_path / "thesaurus.yaml"
    path.write_text("- 正規形: 社内ポータル開発\n  別名: [ポータル刷新]\n  種別: スキル\n", encoding="utf-8")
    assert load_vocabulary(path).canonical_skill("ポータル刷新") == "社内ポータル開発"


@pytest.mark.parametrize(("name", "text", "message"), [
    ("t.csv", "正規形,別名,種別\nSalesforce,SF,スキル\n,JP1,スキル\n", "t.csv 3行目: 正規形が空です"),
    ("t.csv", "正規形,別名,種別\nSalesforce,SF,技能\n",
     "t.csv 2行目: 種別「技能」は スキル か 職種 にしてください"),
    ("t.csv", "正規形,別名,種別\nSalesforce,SF,スキル\nSAP,SF,スキル\n",
     "t.csv 3行目: 別名「SF」は 2行目で「Salesforce」にも割り当てられています"),
    ("t.csv", "name,alias\nx,y\n", "t.csv: 見出し行に 正規形,別名（,種別）が必要です"),
    ("t.yaml", "- 正規形: A\n  別名: [B]\n- 正規形: C\n  種別: スキル\n",
     "t.yaml 3行目: 別名がありません（「C」）"),
    ("t.txt", "x", "t.txt: .yaml か .csv のファイルにしてください"),
])
def test_a_bad_entry_refuses_the_file_with_its_line(tmp_path: Path, name: str, text: str,
                                                    message: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ThesaurusError) as err:
        load_vocabulary(path)
    assert str(err.value) == message


def test_general_synonyms_come_from_sudachis_groups_and_keep_the_head_rule() -> None:
    from junkan.pool.vocabulary.synonyms import synonym_signature

    # One group each: linked, whatever the script or spelling.
    assert synonym_signature("顧客") == synonym_signature("クライアント") == synonym_signature("ｸﾗｲｱﾝﾄ")
    assert synonym_signature("打ち合わせ") == synonym_signature("ミーティング") == synonym_signature("会議")
    assert synonym_signature("給与") == synonym_signature("賃金")
    assert synonym_signature("顧客") != synonym_signature("給与")
    # The head carries the group, the words before it stay: 法人セールス is 法人営業, not 個人営業.
    assert synonym_signature("法人セールス") == synonym_signature("法人営業")
    assert synonym_signature("個人営業") != synonym_signature("法人営業")
    # 営業事務 is 事務 work, in no group: never a synonym of any 営業. PC is in four groups: no link.
    assert synonym_signature("営業事務") is None
    assert synonym_signature("PC") is None and synonym_signature("パソコン") is not None


def test_a_word_the_thesaurus_knows_gets_no_general_synonym() -> None:
    from junkan.pool.semantic import Semantics

    sem = Semantics(shipped())
    # 法人営業 is a thesaurus skill: its key is the thesaurus's, and Sudachi's group (営業＝セールス) does not
    # make the unknown 法人セールス one of its forms.
    key = sem.skill_key("法人営業")
    assert key == sem.skill_key("BtoB営業") and sem.synonym(key) is None
    assert sem.synonym_links((sem.skill_key("法人セールス"),), {key}) == {}
    # Two words it does not know, one group: linked, the opening's key to the person's.
    client, customer = sem.skill_key("クライアント"), sem.skill_key("顧客")
    assert sem.synonym_links((customer,), {client, key}) == {client: customer}
    assert sem.synonym_links((sem.skill_key("PC"),), {sem.skill_key("パソコン")}) == {}


def test_a_group_the_vocabulary_splits_links_nothing() -> None:
    from junkan.pool.semantic import Semantics
    from junkan.pool.vocabulary.synonyms import synonym_signature

    # Sudachi puts 介護 and 看護 in one group; the job vocabulary has care and nursing apart.
    assert synonym_signature("介護") == synonym_signature("看護")
    sem = Semantics(shipped())
    care, nursing = sem.skill_key("介護"), sem.skill_key("看護")
    assert sem.synonym(care) is None and sem.synonym_links((care,), {nursing}) == {}
    # A group it does not split still links.
    assert sem.synonym(sem.skill_key("ミーティング")) == sem.synonym(sem.skill_key("打ち合わせ")) is not None
