"""The .eml file backend and the shared MIME builder: readable Japanese, proper headers, atomic writes."""

from __future__ import annotations

import email
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email import policy
from email.utils import parsedate_to_datetime
from pathlib import Path

from junkan.config import Settings
from junkan.mail.backends import OutgoingMail, build_backend
from junkan.mail.backends.file import FileBackend
from junkan.mail.backends.mime import build_message, list_unsubscribe_headers, to_bytes
from junkan.mail.sender_identity import SenderHeaders
from tests.mail_support import SENDER, notice_mail, shown_address, shown_headers

UNSUB = "https://junkan.example/u/eyJtIjoibXNnXzEifQ.abc-DEF_123" + "x" * 80


def rendered_mail(message_id: str = "msg_0001", **overrides: object) -> OutgoingMail:
    return notice_mail(message_id, job_title="営業職（東京）", unsubscribe=UNSUB, **overrides)


def backend(tmp_path: Path) -> FileBackend:
    return FileBackend(
        tmp_path / "outbox",
        replace(SENDER, reply_to="jobs@junkan.example"),
        clock=lambda: datetime(2026, 6, 3, 0, 0, tzinfo=UTC),
    )


def parse(path: Path) -> email.message.EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=policy.default)  # type: ignore[return-value]


def test_writes_a_readable_japanese_eml_named_by_message_id(tmp_path: Path) -> None:
    fb = backend(tmp_path)
    mail = rendered_mail()
    result = fb.send(mail, dry_run=False)
    path = tmp_path / "outbox" / "msg-msg_0001.eml"
    assert result.status == "accepted"
    assert result.provider_message_id == "<junkan.msg_0001@junkan.example>"
    assert [p.name for p in (tmp_path / "outbox").iterdir()] == ["msg-msg_0001.eml"]  # no temp files left

    msg = parse(path)
    assert msg["Subject"] == "【株式会社サンプル】選考結果のご連絡（営業職（東京））"
    assert msg["To"].addresses[0].display_name == "山田 太郎"
    assert msg["To"].addresses[0].addr_spec == "taro.yamada@example.com"
    assert msg["From"].addresses[0].display_name == "株式会社サンプル 採用担当"
    # Replies go to the desk the From line names.
    assert msg["Reply-To"].addresses[0].addr_spec == "jobs@junkan.example"
    assert msg["Reply-To"].addresses[0].display_name == "株式会社サンプル 採用担当"
    assert msg["Message-ID"] == "<junkan.msg_0001@junkan.example>"
    # 00:00 UTC is 09:00 in the notice time zone (JST), which is what the reader's client shows.
    assert msg["Date"] == "Wed, 03 Jun 2026 09:00:00 +0900"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg.get_content_type() == "multipart/alternative"
    parts = list(msg.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in parts)
    assert parts[0].get_content().replace("\r\n", "\n") == mail.text
    assert "ご応募いただき、誠にありがとうございました" in parts[1].get_content()

    raw = path.read_bytes()
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.isascii(), "headers must be RFC 2047 encoded"
    assert b"=?utf-8?" in head
    # A person opening the file in an editor reads the Japanese text as is (8-bit UTF-8 body).
    assert "ご期待に沿いかねる結果".encode() in body
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998


def test_list_unsubscribe_headers_keep_the_url_intact(tmp_path: Path) -> None:
    fb = backend(tmp_path)
    fb.send(rendered_mail(), dry_run=False)
    msg = parse(tmp_path / "outbox" / "msg-msg_0001.eml")
    assert (
        msg["List-Unsubscribe"]
        == f"<{UNSUB}>, <mailto:privacy@junkan.example?subject=unsubscribe%20msg_0001>"
    )
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"<{UNSUB}>".encode() in (tmp_path / "outbox" / "msg-msg_0001.eml").read_bytes()


def test_one_click_target_and_no_headers_without_an_unsubscribe_url() -> None:
    mail = rendered_mail(unsubscribe_post_url="https://junkan.example/u/post,1")
    headers = list_unsubscribe_headers(mail, None)
    assert headers["List-Unsubscribe"] == "<https://junkan.example/u/post%2C1>"
    assert list_unsubscribe_headers(rendered_mail(unsubscribe_url=None), "privacy@junkan.example") == {}
    transactional = rendered_mail(unsubscribe_url=None, advertising=False)
    msg = build_message(transactional, SenderHeaders("r@junkan.example"))
    assert msg["List-Unsubscribe"] is None and msg["List-Unsubscribe-Post"] is None


def test_header_injection_through_names_and_subject_is_neutralised(tmp_path: Path) -> None:
    fb = backend(tmp_path)
    mail = rendered_mail(
        to_name="山田\r\nBcc: evil@example.com",
        subject="結果\r\nBcc: evil@example.com",
        unsubscribe_url="https://junkan.example/u/x\r\nBcc: evil@example.com",
    )
    assert fb.send(mail, dry_run=False).status == "accepted"
    msg = parse(tmp_path / "outbox" / "msg-msg_0001.eml")
    assert msg["Bcc"] is None
    assert msg["Subject"] == "結果 Bcc: evil@example.com"
    assert [a.addr_spec for a in msg["To"].addresses] == ["taro.yamada@example.com"]
    assert "\n" not in msg["List-Unsubscribe"].replace("\r\n ", " ")


def test_dry_run_writes_to_a_separate_folder(tmp_path: Path) -> None:
    fb = backend(tmp_path)
    result = fb.send(rendered_mail(), dry_run=True)
    assert result.status == "accepted"
    assert (tmp_path / "outbox" / "dry-run" / "msg-msg_0001.eml").is_file()
    assert not (tmp_path / "outbox" / "msg-msg_0001.eml").exists()


def test_unsafe_message_ids_still_land_inside_the_outbox(tmp_path: Path) -> None:
    fb = backend(tmp_path)
    fb.send(rendered_mail(message_id="../../etc/passwd"), dry_run=False)
    files = list((tmp_path / "outbox").iterdir())
    assert len(files) == 1 and files[0].suffix == ".eml"
    assert files[0].resolve().parent == (tmp_path / "outbox").resolve()
    assert not (tmp_path / "etc").exists()


def test_resending_replaces_the_file_atomically_and_threads_do_not_collide(tmp_path: Path) -> None:
    fb = backend(tmp_path)
    fb.send(rendered_mail(subject="一回目"), dry_run=False)
    fb.send(rendered_mail(subject="二回目"), dry_run=False)
    assert parse(tmp_path / "outbox" / "msg-msg_0001.eml")["Subject"] == "二回目"
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(
            pool.map(lambda i: fb.send(rendered_mail(message_id=f"m{i:03d}"), dry_run=False), range(80))
        )
    assert {r.status for r in results} == {"accepted"}
    names = sorted(p.name for p in (tmp_path / "outbox").iterdir())
    assert len(names) == 81 and all(n.endswith(".eml") for n in names)


def test_unwritable_outbox_is_reported_not_raised(tmp_path: Path) -> None:
    blocker = tmp_path / "outbox"
    blocker.write_text("a file where the directory should be")
    result = FileBackend(blocker, SenderHeaders("r@junkan.example")).send(rendered_mail(), dry_run=False)
    assert result.status in {"retry", "fatal"}
    assert "taro" not in (result.error or "")


def test_build_backend_picks_the_file_backend(tmp_path: Path) -> None:
    settings = Settings(mail={"backend": "file", "outbox_dir": tmp_path / "eml"})  # type: ignore[arg-type]
    fb = build_backend(settings)
    assert isinstance(fb, FileBackend)
    assert fb.send(rendered_mail(), dry_run=False).status == "accepted"
    assert (tmp_path / "eml" / "msg-msg_0001.eml").is_file()
    fb.close()


def test_the_eml_from_settings_names_the_company_desk_and_reply_to_in_jst(tmp_path: Path) -> None:
    settings = Settings(  # type: ignore[call-arg]
        mail={"backend": "file", "outbox_dir": tmp_path / "eml", "from_email": "noreply@junkan.example",
              "reply_to": "saiyo@junkan.example"},
        sender={"company_name": "株式会社ジュンカン商事"},
        _env_file=None,
    )
    build_backend(settings).send(rendered_mail(), dry_run=False)
    raw = (tmp_path / "eml" / "msg-msg_0001.eml").read_bytes()
    shown = shown_headers(raw)
    assert shown_address(shown["From"]) == ("株式会社ジュンカン商事 採用担当", "noreply@junkan.example")
    assert shown_address(shown["Reply-To"]) == ("株式会社ジュンカン商事 採用担当", "saiyo@junkan.example")
    assert shown["Date"].endswith("+0900")
    assert parsedate_to_datetime(shown["Date"]).utcoffset() == timedelta(hours=9)
    # The Japanese display name travels RFC 2047-encoded; the raw header line is ASCII.
    from_line = next(line for line in raw.split(b"\r\n") if line.startswith(b"From:"))
    assert from_line.isascii() and b"=?utf-8?" in from_line


def test_outgoing_mail_repr_shows_no_personal_data() -> None:
    text = repr(rendered_mail())
    assert "taro" not in text and "山田" not in text and "msg_0001" in text


def test_smtp_bodies_are_7bit_safe() -> None:
    raw = to_bytes(build_message(rendered_mail(), SenderHeaders("r@junkan.example"), readable=False))
    assert raw.isascii()
