"""A digest that can be sent (issue 13): the subscribe link on the site and in the email, the
email as a complete MIME message (`qsite digest --eml`), sending it over SMTP (`--send`) to a
real SMTP server on 127.0.0.1 (aiosmtpd, started by the test), the record of what was sent,
and every refusal. The production templates are used: what is checked is what subscribers get."""

from __future__ import annotations

import email
import socket
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from qsite import cli
from qsite.mailer import SENT_FILE, read_sent

from conftest import BASE, SITE_YAML, copy_templates, post, write_files

FROM = "Learning Together <digest@example.org>"
TO = "learning-digest@lists.example.org"
SUBSCRIBE = "https://lists.example.org/learning-digest"
LEAVE = "mailto:digest-leave@example.org"
MAILING = (
    f"digest:\n  subscribe_url: {SUBSCRIBE}\n  unsubscribe_url: {LEAVE}\n"
    f'  from: "{FROM}"\n  to: {TO}\n'
)
POSTS = {
    "content/posts/a.md": post("Huddles that work", "2020-04-01", body="We met *every* morning."),
    "content/posts/b.md": post("Rough sleepers in winter", "2020-04-20", themes="[health-inequalities]"),
}
APRIL_DONE = "1588550400"  # 2020-05-04: April 2020 has ended
MID_APRIL = "1586952000"  # 2020-04-15: April 2020 is in progress


def make_site(root: Path, yaml: str = SITE_YAML + MAILING) -> Path:
    write_files(root, {**BASE, "site.yaml": yaml, **POSTS})
    copy_templates(root)
    return root


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", APRIL_DONE)
    for name in ("HOST", "PORT", "USER", "PASSWORD", "SECURITY"):
        monkeypatch.delenv(f"QSITE_SMTP_{name}", raising=False)
    return make_site(tmp_path / "site")


@dataclass
class Inbox:
    """What the SMTP server received: one envelope per message."""

    port: int
    envelopes: list[Any] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd's hook
        self.envelopes.append(envelope)
        return "250 Message accepted"

    def messages(self) -> list[EmailMessage]:
        return [email.message_from_bytes(e.original_content, policy=policy.default) for e in self.envelopes]  # type: ignore[misc]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    """A real SMTP server on 127.0.0.1, and the environment that points qsite at it."""
    box = Inbox(free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    monkeypatch.setenv("QSITE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("QSITE_SMTP_PORT", str(box.port))
    monkeypatch.setenv("QSITE_SMTP_SECURITY", "none")  # a relay on this machine: no TLS, no login
    try:
        yield box
    finally:
        controller.stop()


def built(site: Path, tmp_path: Path, period: str = "2020-04") -> tuple[bytes, bytes]:
    """The email edition's two files as `qsite build` writes them."""
    out = tmp_path / "built"
    assert cli.main(["build", "--source", str(site), "--output", str(out), "--quiet", "--no-search"]) == 0
    return (out / f"digest/{period}/email.html").read_bytes(), (out / f"digest/{period}/email.txt").read_bytes()


# --- subscribing -------------------------------------------------------------------------------


def test_subscribe_link_on_the_home_page_edition_pages_and_in_the_email(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert cli.main(["build", "--source", str(site), "--output", str(out), "--quiet", "--no-search"]) == 0
    for page in ("index.html", "digest/2020-04/index.html"):
        assert f'href="{SUBSCRIBE}"' in (out / page).read_text(encoding="utf-8"), page
    html = (out / "digest/2020-04/email.html").read_text(encoding="utf-8")
    assert f'href="{SUBSCRIBE}"' in html
    assert f'<a href="{LEAVE}"' in html and ">Unsubscribe</a>" in html
    text = (out / "digest/2020-04/email.txt").read_text(encoding="utf-8")
    assert f"Subscribe by email: {SUBSCRIBE}" in text
    assert f"Unsubscribe: {LEAVE}" in text

    # Without a subscribe_url, nothing offers one.
    root = make_site(tmp_path / "plain", SITE_YAML)
    out = tmp_path / "plain-out"
    assert cli.main(["build", "--source", str(root), "--output", str(out), "--quiet", "--no-search"]) == 0
    for page in ("index.html", "digest/2020-04/index.html", "digest/2020-04/email.html", "digest/2020-04/email.txt"):
        text = (out / page).read_text(encoding="utf-8").lower()
        assert "by email" not in text and "unsubscribe" not in text, page


def test_the_email_keeps_a_600px_table_for_outlook(site: Path, tmp_path: Path) -> None:
    """Outlook for Windows ignores max-width: only it reads the conditional 600px table, which
    must wrap the whole column (opened before it, closed after it)."""
    html = built(site, tmp_path)[0].decode()
    opening = '<!--[if mso]><table role="presentation" align="center" width="600"'
    assert html.count(opening) == 1 and html.count("<!--[if mso]></td></tr></table><![endif]-->") == 1
    start, container = html.index(opening), html.index('class="container"')
    end = html.index("<!--[if mso]></td></tr></table><![endif]-->")
    assert start < container < html.index("Unsubscribe</a>") < end
    assert "max-width: 600px" in html[container:container + 400]  # every other client: the fluid column


# --- the email as a file -----------------------------------------------------------------------


def test_eml_is_a_complete_mime_message_with_both_editions(site: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    html, text = built(site, tmp_path)
    eml = tmp_path / "april.eml"
    before = datetime.now(UTC).replace(microsecond=0)
    assert cli.main(["digest", "2020-04", "--eml", str(eml), "--source", str(site)]) == 0
    assert f"Wrote {eml}" in capsys.readouterr().out
    assert not (site / "output").exists()  # in memory: the output folder is not touched
    assert not (site / SENT_FILE).exists()  # written, not sent

    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
    # byte for byte the built files (MIME ends every text part with a line break)
    assert parts[0].get_content().replace("\r\n", "\n").rstrip("\n") == text.decode().rstrip("\n")
    assert parts[1].get_content().replace("\r\n", "\n").rstrip("\n") == html.decode().rstrip("\n")
    assert message["Subject"] == "April 2020 · Test Site learning digest"
    assert parseaddr(message["From"]) == ("Learning Together", "digest@example.org")
    assert message["To"] == TO
    assert message["List-Unsubscribe"] == f"<{LEAVE}>"
    assert message["List-Archive"] == "<https://example.org/digest/2020-04/>"
    message_id = message["Message-ID"].strip()
    assert message_id.startswith("<") and message_id.endswith("@example.org>")
    assert parsedate_to_datetime(message["Date"]) >= before  # when it was made, not SOURCE_DATE_EPOCH
    assert b"\r\n" in eml.read_bytes() and max(len(line) for line in eml.read_bytes().split(b"\r\n")) <= 998


def test_eml_needs_sender_list_and_a_way_to_unsubscribe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", APRIL_DONE)
    root = make_site(tmp_path / "site", SITE_YAML)
    assert cli.main(["digest", "2020-04", "--eml", str(tmp_path / "x.eml"), "--source", str(root)]) == 2
    err = capsys.readouterr().err
    for key in ("digest.from", "digest.to", "digest.subscribe_url"):
        assert f"site.yaml: error: {key} is not set" in err
    assert not (tmp_path / "x.eml").exists()


def test_a_bad_address_in_site_yaml_is_reported_with_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_site(tmp_path / "site", SITE_YAML + "digest:\n  from: editors\n")
    assert cli.main(["digest", "2020-04", "--source", str(root)]) == 2
    assert "site.yaml:19: error: digest.from should be an email address, not 'editors'" in capsys.readouterr().err


# --- sending -----------------------------------------------------------------------------------


def test_send_delivers_exactly_one_message_and_records_it(site: Path, inbox: Inbox, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    html, text = built(site, tmp_path)
    capsys.readouterr()
    assert cli.main(["digest", "--send", "--source", str(site)]) == 0  # the latest finished edition
    assert "Sent “April 2020 · Test Site learning digest”" in capsys.readouterr().out
    [envelope] = inbox.envelopes
    assert envelope.mail_from == "digest@example.org"
    assert envelope.rcpt_tos == [TO]
    [message] = inbox.messages()
    assert message.get_content_type() == "multipart/alternative"
    plain, rich = message.iter_parts()
    assert plain.get_content().replace("\r\n", "\n").rstrip("\n") == text.decode().rstrip("\n")
    assert rich.get_content().replace("\r\n", "\n").rstrip("\n") == html.decode().rstrip("\n")
    [sending] = read_sent(site)
    assert (sending.period, sending.to, sending.message_id) == ("2020-04", TO, message["Message-ID"].strip())
    assert not (site / "output").exists()


def test_an_edition_already_sent_is_refused_unless_again(site: Path, inbox: Inbox,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["digest", "2020-04", "--send", "--source", str(site)]) == 0
    record = (site / SENT_FILE).read_text(encoding="utf-8")
    capsys.readouterr()
    assert cli.main(["digest", "2020-04", "--send", "--source", str(site)]) == 2
    err = capsys.readouterr().err
    assert f"{SENT_FILE}: error: the April 2020 edition was already sent" in err
    assert "add --again to send it once more" in err
    assert len(inbox.envelopes) == 1 and (site / SENT_FILE).read_text(encoding="utf-8") == record

    assert cli.main(["digest", "2020-04", "--send", "--again", "--source", str(site)]) == 0
    assert len(inbox.envelopes) == 2
    first, second = read_sent(site)
    assert first.period == second.period == "2020-04" and first.message_id != second.message_id


def test_an_edition_in_progress_is_not_sent(site: Path, inbox: Inbox, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", MID_APRIL)
    assert cli.main(["digest", "2020-04", "--send", "--source", str(site)]) == 2
    err = capsys.readouterr().err
    assert "2020-04: error: the April 2020 edition is still in progress (until 2020-04-30), so it is not sent" in err
    assert inbox.envelopes == [] and not (site / SENT_FILE).exists()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "QSITE_SMTP_HOST: error: is not set, so there is no mail server to send through"),
        ({"QSITE_SMTP_HOST": "127.0.0.1", "QSITE_SMTP_SECURITY": "none", "QSITE_SMTP_USER": "u",
          "QSITE_SMTP_PASSWORD": "hunter2-pw"},
         "QSITE_SMTP_SECURITY: error: is none, so the password would cross the network unencrypted"),
        ({"QSITE_SMTP_HOST": "127.0.0.1", "QSITE_SMTP_USER": "u"},
         "QSITE_SMTP_PASSWORD: error: is not set, but the other half of the login is"),
        ({"QSITE_SMTP_HOST": "127.0.0.1", "QSITE_SMTP_PORT": "seventy"},
         "QSITE_SMTP_PORT: error: 'seventy' is not a port number"),
        ({"QSITE_SMTP_HOST": "127.0.0.1", "QSITE_SMTP_SECURITY": "ssl3"},
         "QSITE_SMTP_SECURITY: error: should be one of starttls, tls, none, not 'ssl3'"),
    ],
)
def test_smtp_settings_come_from_the_environment_and_are_checked(
    site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], env: dict[str, str], message: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["digest", "2020-04", "--send", "--source", str(site)]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "hunter2-pw" not in err
    assert not (site / SENT_FILE).exists()


def test_send_refuses_drafts_and_scheduled_posts(site: Path, inbox: Inbox, capsys: pytest.CaptureFixture[str]) -> None:
    for flag in ("--drafts", "--future"):
        assert cli.main(["digest", "2020-04", "--send", flag, "--source", str(site)]) == 2
        assert "--send: error: a digest that is sent holds published posts only" in capsys.readouterr().err
    assert cli.main(["digest", "2020-04", "--again", "--source", str(site)]) == 2
    assert inbox.envelopes == []


def test_a_server_that_is_not_there_records_nothing(site: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()  # nothing listens there
    monkeypatch.setenv("QSITE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("QSITE_SMTP_PORT", str(port))
    monkeypatch.setenv("QSITE_SMTP_SECURITY", "none")
    assert cli.main(["digest", "2020-04", "--send", "--source", str(site)]) == 2
    assert f"127.0.0.1:{port}: error: the mail server did not take the digest" in capsys.readouterr().err
    assert not (site / SENT_FILE).exists()


def test_a_damaged_record_stops_sending(site: Path, inbox: Inbox, capsys: pytest.CaptureFixture[str]) -> None:
    (site / SENT_FILE).write_text('"2020-04":\n  - sent: yesterday\n', encoding="utf-8")
    assert cli.main(["digest", "2020-04", "--send", "--source", str(site)]) == 2
    assert f"{SENT_FILE}:2: error: each sending needs sent, to and message_id" in capsys.readouterr().err
    assert inbox.envelopes == []


@pytest.fixture
def certificate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ssl.SSLContext:
    """A server certificate for 127.0.0.1 that this test's clients trust (through SSL_CERT_FILE,
    which ssl.create_default_context reads): TLS is verified exactly as against a real server."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True, timeout=60,
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def _editor_only(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"editor", b"pw-1")
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_send_over_tls_with_a_login(site: Path, certificate: ssl.SSLContext, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str], security: str) -> None:
    box = Inbox(free_port())
    # (aiosmtpd offers AUTH over implicit TLS only if told not to wait for STARTTLS)
    tls: dict[str, Any] = ({"tls_context": certificate, "require_starttls": True, "auth_require_tls": True}
                           if security == "starttls" else {"ssl_context": certificate, "auth_require_tls": False})
    controller = Controller(box, hostname="127.0.0.1", port=box.port, authenticator=_editor_only, **tls)
    controller.start()
    try:
        for name, value in {"HOST": "127.0.0.1", "PORT": str(box.port), "SECURITY": security,
                            "USER": "editor", "PASSWORD": "wrong"}.items():
            monkeypatch.setenv(f"QSITE_SMTP_{name}", value)
        assert cli.main(["digest", "2020-04", "--send", "--source", str(site)]) == 2
        assert "the mail server did not take the digest" in capsys.readouterr().err
        assert box.envelopes == [] and not (site / SENT_FILE).exists()

        monkeypatch.setenv("QSITE_SMTP_PASSWORD", "pw-1")
        assert cli.main(["digest", "2020-04", "--send", "--source", str(site)]) == 0
        assert len(box.envelopes) == 1 and [s.period for s in read_sent(site)] == ["2020-04"]
    finally:
        controller.stop()


def test_starttls_never_falls_back_to_plain_text(site: Path, inbox: Inbox, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("QSITE_SMTP_SECURITY", "starttls")  # the inbox server offers no STARTTLS
    monkeypatch.setenv("QSITE_SMTP_USER", "editor")
    monkeypatch.setenv("QSITE_SMTP_PASSWORD", "pw-1")
    assert cli.main(["digest", "2020-04", "--send", "--source", str(site)]) == 2
    assert "STARTTLS extension not supported by server" in capsys.readouterr().err
    assert inbox.envelopes == [] and not (site / SENT_FILE).exists()


def test_qsite_digest_says_how_to_send_the_edition(site: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["digest", "2020-04", "--source", str(site), "--output", str(tmp_path / "out")]) == 0
    assert "send it:     qsite digest 2020-04 --send  (or --eml FILE for a mail client)" in capsys.readouterr().out
