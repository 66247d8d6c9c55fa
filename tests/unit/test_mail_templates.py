"""Notice templates: selection, the partner section and its legal footer, injection, sandbox, versions."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from junkan.config import MailSettings, NoticeSettings, RecruitingContact, SenderSettings
from junkan.mail.templates import (
    MailTemplateError,
    NoticeContext,
    PartnerBlock,
    RenderedMail,
    TemplateStore,
    normalize_locale,
    partner_section_allowed,
    render_notice,
)

SENDER = SenderSettings(
    company_name="株式会社ジュンカン",
    postal_address="〒150-0002 東京都渋谷区渋谷2-1-1",
    contact_email="privacy@junkan.example",
    company_name_en="Junkan Inc.",
)
PARTNER = PartnerBlock(
    name="キャリアリレー",
    url="https://junkan.example/r/TOKEN-abc123",
    description="専任のキャリアアドバイザーが、無料でご相談に応じます。",
)
UNSUB = "https://junkan.example/u/UNSUB-token"


@pytest.fixture(scope="module")
def store() -> TemplateStore:
    return TemplateStore()


def notice(**overrides: object) -> NoticeContext:
    values: dict[str, object] = {
        "kind": "rejection",
        "sender": SENDER,
        "candidate_name": "山田 太郎",
        "job_title": "バックエンドエンジニア",
    }
    values.update(overrides)
    return NoticeContext(**values)  # type: ignore[arg-type]


def all_output(mail: RenderedMail) -> str:
    return "\n".join([mail.subject, mail.text, mail.html])


# -- defaults --------------------------------------------------------------------------------------
def test_japanese_is_the_default(store: TemplateStore) -> None:
    mail = render_notice(store, notice())
    assert mail.locale == "ja"
    assert mail.template_name == "ja/rejection"
    assert mail.subject == "【株式会社ジュンカン】選考結果のご連絡（バックエンドエンジニア）"
    assert mail.text.startswith("山田 太郎 様\n")
    for phrase in [
        "ご応募いただき、誠にありがとうございました",
        "ご期待に沿いかねる結果",
        "ご活躍をお祈り申し上げます",
    ]:
        assert phrase in mail.text
        assert phrase in mail.html
    assert "「バックエンドエンジニア」" in mail.text
    assert mail.html.lstrip().startswith("<!DOCTYPE html>") and 'lang="ja"' in mail.html
    assert len(mail.template_version) == 16


@pytest.mark.parametrize(
    ("asked", "served"),
    [
        (None, "ja"),
        ("", "ja"),
        ("ja-JP", "ja"),
        ("en", "en"),
        ("en-US", "en"),
        ("EN_gb", "en"),
        ("fr", "ja"),
        ("../../etc", "ja"),
    ],
)
def test_locale_selection_and_fallback(store: TemplateStore, asked: str | None, served: str) -> None:
    mail = render_notice(store, notice(locale=asked))
    assert mail.locale == served
    assert mail.template_name == f"{served}/rejection"


def test_english_notice_uses_the_english_company_name(store: TemplateStore) -> None:
    mail = render_notice(store, notice(locale="en", candidate_name="Alex Smith", job_title="Data Engineer"))
    assert mail.subject == "Your application for Data Engineer at Junkan Inc."
    assert mail.text.startswith("Dear Alex Smith,")
    assert "not be moving forward" in mail.text
    assert "株式会社" not in mail.text


def test_final_interview_gets_the_gentler_variant(store: TemplateStore) -> None:
    standard = render_notice(store, notice())
    gentle = render_notice(store, notice(reason_category="final_interview"))
    assert gentle.template_name == "ja/rejection.final_interview"
    assert "最終面接" in gentle.text and "最終面接" not in standard.text
    assert "最終選考" in gentle.subject
    assert gentle.template_version != standard.template_version
    en = render_notice(store, notice(reason_category="FINAL_INTERVIEW", locale="en"))
    assert en.template_name == "en/rejection.final_interview"


def test_unknown_category_falls_back_to_the_standard_notice(store: TemplateStore) -> None:
    for category in ["silver", "position_filled", "../x", "has space", None]:
        assert render_notice(store, notice(reason_category=category)).template_name == "ja/rejection"


def test_withdrawn_candidates_get_a_thank_you_notice(store: TemplateStore) -> None:
    mail = render_notice(store, notice(kind="withdrawal"))
    assert mail.template_name == "ja/withdrawal"
    assert "辞退" in mail.text and "ご期待に沿いかねる" not in mail.text
    assert mail.subject == "【株式会社ジュンカン】ご応募いただきありがとうございました"
    en = render_notice(store, notice(kind="withdrawal", locale="en"))
    assert en.subject == "Thank you for your interest in Junkan Inc."


def test_missing_name_and_job_title_still_read_well(store: TemplateStore) -> None:
    mail = render_notice(store, notice(candidate_name=None, job_title=None))
    assert mail.text.startswith("ご応募者 様")
    assert "弊社の求人にご応募いただき" in mail.text
    assert mail.subject == "【株式会社ジュンカン】選考結果のご連絡"
    assert "None" not in all_output(mail)


# -- partner section and 特定電子メール法 ------------------------------------------------------------------
def test_partner_section_policy() -> None:
    default = NoticeSettings()
    assert partner_section_allowed({"partner_info"}, default)
    assert partner_section_allowed({"talent_pool", "partner_info"}, default)
    assert not partner_section_allowed(set(), default)
    assert not partner_section_allowed({"talent_pool", "recontact"}, default)
    assert not partner_section_allowed({"partner_info"}, NoticeSettings(partner_section="off"))


def test_with_consent_the_partner_block_and_the_legal_footer_appear(store: TemplateStore) -> None:
    consents = {"partner_info"}
    partner = PARTNER if partner_section_allowed(consents, NoticeSettings()) else None
    mail = render_notice(store, notice(partner=partner, unsubscribe_url=UNSUB))
    assert mail.advertising is True
    for part in (mail.text, mail.html):
        assert PARTNER.url in part
        assert "キャリアリレー" in part and "無料" in part
        assert PARTNER.description in part  # type: ignore[operator]
        # Sender identity, postal address, contact and a working opt-out.
        assert SENDER.company_name in part
        assert SENDER.postal_address in part
        assert SENDER.contact_email in part
        assert UNSUB in part
    assert f'href="{PARTNER.url}"' in mail.html
    assert f'href="{UNSUB}"' in mail.html


@pytest.mark.parametrize("consents", [set(), {"talent_pool"}, {"recontact", "talent_pool"}])
@pytest.mark.parametrize("locale", ["ja", "en"])
def test_without_partner_consent_there_is_no_partner_link_at_all(
    store: TemplateStore, consents: set[str], locale: str
) -> None:
    partner = PARTNER if partner_section_allowed(consents, NoticeSettings()) else None
    assert partner is None
    mail = render_notice(store, notice(partner=partner, unsubscribe_url=None, locale=locale))
    out = all_output(mail)
    assert mail.advertising is False
    assert "junkan.example/r/" not in out
    assert "TOKEN-abc123" not in out
    assert "キャリアリレー" not in out and "キャリア相談" not in out
    assert "career consultation" not in out.lower()
    assert "careerrelay" not in out.lower()


def test_policy_off_removes_the_partner_block_even_with_consent(store: TemplateStore) -> None:
    off = NoticeSettings(partner_section="off")
    partner = PARTNER if partner_section_allowed({"partner_info"}, off) else None
    mail = render_notice(store, notice(partner=partner))
    assert PARTNER.url not in all_output(mail)


def test_a_partner_block_without_an_opt_out_is_refused(store: TemplateStore) -> None:
    with pytest.raises(ValueError, match="unsubscribe"):
        render_notice(store, notice(partner=PARTNER, unsubscribe_url=None))
    anonymous = SenderSettings(
        company_name="株式会社ジュンカン", postal_address="", contact_email="a@b.example"
    )
    with pytest.raises(ValueError, match="address"):
        render_notice(store, notice(partner=PARTNER, unsubscribe_url=UNSUB, sender=anonymous))


# -- injection -------------------------------------------------------------------------------------
def test_template_syntax_in_a_name_is_printed_literally(store: TemplateStore) -> None:
    mail = render_notice(store, notice(candidate_name="{{7*7}} {% raw %}", job_title="{{ config }}{#x#}"))
    assert "{{7*7}}" in mail.text and "49" not in mail.text
    assert "{{7*7}}" in mail.html
    assert "{{ config }}{#x#}" in mail.subject


def test_html_in_names_and_titles_is_escaped_in_html_and_literal_in_text(store: TemplateStore) -> None:
    name = '<script>alert("x")</script>'
    title = 'R&D <b onmouseover="steal()">Lead</b>'
    mail = render_notice(
        store, notice(candidate_name=name, job_title=title, partner=PARTNER, unsubscribe_url=UNSUB)
    )
    assert "<script>" not in mail.html and "<b " not in mail.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in mail.html
    assert "R&amp;D &lt;b onmouseover=" in mail.html
    assert name in mail.text and title in mail.text  # plain text shows what the ATS holds


def test_crlf_in_a_job_title_cannot_inject_headers(store: TemplateStore) -> None:
    mail = render_notice(store, notice(job_title="Engineer\r\nBcc: victim@example.com\r\n\r\nbody"))
    assert "\r" not in mail.subject and "\n" not in mail.subject
    assert mail.subject == "【株式会社ジュンカン】選考結果のご連絡（Engineer Bcc: victim@example.com body）"
    # In the body a multi-line value cannot forge paragraphs either.
    assert "Engineer Bcc: victim@example.com body" in mail.text


def test_control_and_bidi_characters_are_removed_and_the_subject_is_capped(store: TemplateStore) -> None:
    mail = render_notice(store, notice(job_title="A\x00B\x1bC\u202eD\tE" + "長" * 400))
    assert mail.subject.startswith("【株式会社ジュンカン】選考結果のご連絡（ABCD E長")
    assert len(mail.subject) == 150 and mail.subject.endswith("…")
    assert "\x00" not in mail.text and "\u202e" not in mail.text


def test_a_sandbox_escape_fails_with_an_error_naming_the_template(tmp_path: Path) -> None:
    (tmp_path / "ja").mkdir()
    (tmp_path / "ja" / "rejection.txt").write_text("{{ ''.__class__.__mro__[1].__subclasses__() }}\n")
    store = TemplateStore(tmp_path)
    with pytest.raises(MailTemplateError) as info:
        render_notice(store, notice())
    assert info.value.template_name == "ja/rejection.txt"
    assert "ja/rejection.txt" in str(info.value) and "sandbox" in str(info.value)


@pytest.mark.parametrize(
    "source",
    [
        "{{ candidate_name.__class__ }}",
        "{{ sender.__class__.__base__ }}",
        "{% for c in ''.__class__.__mro__ %}{{ c }}{% endfor %}",
    ],
)
def test_other_sandbox_probes_fail_too(tmp_path: Path, source: str) -> None:
    (tmp_path / "ja").mkdir()
    (tmp_path / "ja" / "rejection.html").write_text(source)
    with pytest.raises(MailTemplateError, match=r"ja/rejection\.html"):
        render_notice(TemplateStore(tmp_path), notice())


def test_a_template_cannot_change_the_sender_shown_in_later_notices(tmp_path: Path) -> None:
    # The sender view is shared by every notice of a run; a template writing to it must fail, and the
    # next notice still shows the configured sender.
    write(tmp_path / "ja" / "rejection.txt",
          '{{ sender.update({"company_name": "x"}) }}{{ sender.__setitem__("company_name", "x") }}\n')
    with pytest.raises(MailTemplateError, match=r"ja/rejection\.txt"):
        render_notice(TemplateStore(tmp_path), notice(partner=PARTNER, unsubscribe_url=UNSUB))
    mail = render_notice(TemplateStore(), notice(partner=PARTNER, unsubscribe_url=UNSUB))
    assert "送信者：株式会社ジュンカン" in mail.text


def test_broken_user_templates_fail_clearly(tmp_path: Path) -> None:
    (tmp_path / "ja").mkdir()
    (tmp_path / "ja" / "rejection.txt").write_text("{% if %}\n")
    with pytest.raises(MailTemplateError, match=r"ja/rejection\.txt.*syntax error"):
        render_notice(TemplateStore(tmp_path), notice())
    (tmp_path / "ja" / "rejection.txt").write_text("{{ candidate_nmae }}\n")  # typo: StrictUndefined
    with pytest.raises(MailTemplateError, match="candidate_nmae"):
        render_notice(TemplateStore(tmp_path), notice())
    (tmp_path / "ja" / "rejection.txt").write_text('{% include "ja/_nope.txt" %}\n')
    with pytest.raises(MailTemplateError, match="_nope"):
        render_notice(TemplateStore(tmp_path), notice())


def test_unknown_kind_and_missing_directory(store: TemplateStore, tmp_path: Path) -> None:
    with pytest.raises(MailTemplateError, match="no template"):
        render_notice(store, notice(kind="newsletter"))  # no templates for this kind
    with pytest.raises(ValueError):
        render_notice(store, notice(kind="../rejection"))
    with pytest.raises(ValueError, match="does not exist"):
        TemplateStore(tmp_path / "missing")


# -- overrides -------------------------------------------------------------------------------------
def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_override_dir_wins_file_by_file(tmp_path: Path) -> None:
    write(tmp_path / "ja" / "rejection.subject.txt", "選考結果について（{{ company_name }}）\n")
    store = TemplateStore.from_settings(MailSettings(template_dir=tmp_path), NoticeSettings())
    mail = render_notice(store, notice())
    assert mail.subject == "選考結果について（株式会社ジュンカン）"
    assert "ご期待に沿いかねる結果" in mail.text  # body still the packaged default
    assert mail.template_name == "ja/rejection"


def test_override_layout_changes_every_notice(tmp_path: Path) -> None:
    layout = (Path(__file__).parents[2] / "junkan/templates/mail/ja/_layout.txt").read_text(encoding="utf-8")
    write(
        tmp_path / "ja" / "_layout.txt",
        layout.replace("{{ recruiting.name }}\n", "人事部 採用チーム\n"),
    )
    store = TemplateStore(tmp_path)
    for kind, category in [("rejection", None), ("rejection", "final_interview"), ("withdrawal", None)]:
        mail = render_notice(store, notice(kind=kind, reason_category=category))
        assert "株式会社ジュンカン\n人事部 採用チーム\n" in mail.text


def test_a_job_template_can_extend_the_default_and_replace_one_block(tmp_path: Path) -> None:
    write(
        tmp_path / "jobs" / "J-7" / "ja" / "rejection.txt",
        '{% extends "ja/rejection.txt" %}{% block signature %}J-7 採用チーム 一同\n{% endblock %}',
    )
    mail = render_notice(
        TemplateStore(tmp_path), notice(job_external_id="J-7", partner=PARTNER, unsubscribe_url=UNSUB)
    )
    assert mail.template_name == "jobs/J-7/ja/rejection"
    assert "ご期待に沿いかねる結果" in mail.text and "J-7 採用チーム 一同" in mail.text
    assert PARTNER.url in mail.text and SENDER.postal_address in mail.text  # shared blocks still there


def test_per_job_override(tmp_path: Path) -> None:
    write(
        tmp_path / "jobs" / "J-42" / "ja" / "rejection.txt",
        "{{ candidate_name }} 様\n{{ job_title }} の募集は、多数のご応募により締め切りました。\n",
    )
    write(tmp_path / "jobs" / "J-42" / "ja" / "rejection.final_interview.txt", "最終面接 J-42 専用\n")
    store = TemplateStore(tmp_path)
    job = render_notice(store, notice(job_external_id="J-42"))
    assert job.template_name == "jobs/J-42/ja/rejection"
    assert "多数のご応募により締め切りました" in job.text
    assert (
        job.subject == "【株式会社ジュンカン】選考結果のご連絡（バックエンドエンジニア）"
    )  # default subject
    final = render_notice(store, notice(job_external_id="J-42", reason_category="final_interview"))
    assert final.text == "最終面接 J-42 専用\n"
    other = render_notice(store, notice(job_external_id="J-43"))
    assert other.template_name == "ja/rejection"
    # An English candidate for the same job: the locale wins over the (Japanese-only) job override.
    assert render_notice(store, notice(job_external_id="J-42", locale="en")).template_name == "en/rejection"


@pytest.mark.parametrize("job_id", ["../ja", "..", ".hidden", "a/b", "a\\b", "x\ny"])
def test_unsafe_job_ids_never_reach_the_file_system(tmp_path: Path, job_id: str) -> None:
    write(tmp_path / "ja" / "rejection.txt", "override\n")
    mail = render_notice(TemplateStore(tmp_path), notice(job_external_id=job_id))
    assert mail.template_name == "ja/rejection"


# -- versions --------------------------------------------------------------------------------------
def test_version_is_stable_across_stores_and_distinct_per_template(store: TemplateStore) -> None:
    again = TemplateStore()
    assert render_notice(store, notice()).template_version == render_notice(again, notice()).template_version
    versions = {
        render_notice(store, notice(kind=k, locale=loc, reason_category=c)).template_version
        for k, c in [("rejection", None), ("rejection", "final_interview"), ("withdrawal", None)]
        for loc in ["ja", "en"]
    }
    assert len(versions) == 6
    # The data does not change the version, only the templates do.
    assert (
        render_notice(store, notice(candidate_name="別の人")).template_version
        == render_notice(store, notice()).template_version
    )


def test_version_changes_when_a_template_or_an_included_partial_changes(tmp_path: Path) -> None:
    write(tmp_path / "ja" / "rejection.txt", 'v1 {% include "ja/_note.txt" %}\n')
    write(tmp_path / "ja" / "_note.txt", "note one\n")
    store = TemplateStore(tmp_path, reload_check_s=0)  # check for edits before every render
    first = render_notice(store, notice())
    assert first.text == "v1 note one\n"

    note = tmp_path / "ja" / "_note.txt"
    note.write_text("note two\n")
    # Edits are detected by modification time; make sure it differs even on coarse-grained file systems.
    st = note.stat()
    os.utime(note, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
    second = render_notice(store, notice())
    assert second.text == "v1 note two\n"
    assert second.template_version != first.template_version

    write(tmp_path / "ja" / "rejection.txt", 'v2 {% include "ja/_note.txt" %}\n')
    third = render_notice(TemplateStore(tmp_path), notice())
    assert third.text == "v2 note two\n"
    assert len({first.template_version, second.template_version, third.template_version}) == 3


def test_normalize_locale() -> None:
    assert normalize_locale("ja-JP") == "ja"
    assert normalize_locale(None, "en") == "en"
    assert normalize_locale("zz-top-123") == "zz"
    assert normalize_locale("日本語") == "ja"


def test_rendering_is_thread_safe(store: TemplateStore) -> None:
    contexts = [
        notice(
            candidate_name=f"候補者{i}",
            locale=["ja", "en"][i % 2],
            reason_category=[None, "final_interview"][i % 3 == 0],
        )
        for i in range(200)
    ]
    expected = [render_notice(store, c) for c in contexts]
    fresh = TemplateStore()
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda c: render_notice(fresh, c), contexts))
    assert got == expected


def test_a_store_compiles_once_and_reads_no_file_per_render(tmp_path: Path) -> None:
    layout = (Path(__file__).parents[2] / "junkan/templates/mail/ja/_layout.txt").read_text(encoding="utf-8")
    write(tmp_path / "ja" / "_layout.txt", layout.replace("{{ recruiting.name }}\n", "人事部\n"))
    body = '{% extends "ja/_layout.txt" %}{% block body %}本文\n{% endblock %}'
    write(tmp_path / "ja" / "rejection.txt", body)
    store = TemplateStore(tmp_path, reload_check_s=None)
    first = render_notice(store, notice())
    for path in (tmp_path / "ja").iterdir():
        path.unlink()  # from now on, any file access for these templates would fail
    again = render_notice(store, notice(candidate_name="別の 人"))
    assert "人事部" in again.text and "本文" in again.text and "別の 人" in again.text
    assert (again.template_name, again.template_version) == (first.template_name, first.template_version)
    assert again.text == first.text.replace("山田 太郎", "別の 人")


@pytest.mark.parametrize(("locale", "desk", "mail_line", "phone_line"), [
    ("ja", "採用担当", "メール：saiyo@junkan.example", "電話：03-1234-5678"),
    ("en", "Recruiting Team", "Email: saiyo@junkan.example", "Phone: 03-1234-5678"),
])
def test_the_signature_gives_the_recruiting_desk_and_the_footer_keeps_the_privacy_address(
    store: TemplateStore, locale: str, desk: str, mail_line: str, phone_line: str
) -> None:
    contact = RecruitingContact(email="saiyo@junkan.example", phone="03-1234-5678")
    mail = render_notice(store, notice(locale=locale, partner=PARTNER, unsubscribe_url=UNSUB,
                                       recruiting=contact))
    footer_start = "送信者：" if locale == "ja" else "Sender: "
    signature, _, footer = mail.text.partition(footer_start)
    assert desk in signature and mail_line in signature and phone_line in signature
    assert SENDER.contact_email not in signature
    assert SENDER.contact_email in footer
    html_signature, _, html_footer = mail.html.partition(footer_start)
    assert 'href="mailto:saiyo@junkan.example"' in html_signature and "03-1234-5678" in html_signature
    assert SENDER.contact_email not in html_signature and SENDER.contact_email in html_footer


def test_without_a_desk_address_the_signature_has_no_contact_line(store: TemplateStore) -> None:
    mail = render_notice(store, notice())
    assert "メール：" not in mail.text and "お問い合わせ" not in mail.text
    assert SENDER.contact_email not in mail.text
