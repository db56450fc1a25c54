"""Sending the learning digest: one edition as a complete email (``qsite digest --eml``), sent
over SMTP (``--send``), and the record of the editions already sent.

Kept out of the pipeline on purpose: a build never reads the environment, opens a connection or
changes a file outside its output folder. This module takes the two email editions the build
rendered (``email.html`` and ``email.txt``, byte for byte) and wraps them with the standard
``email`` package into one ``multipart/alternative`` message, so the text edition is what a
text-only client shows and the HTML edition what every other client shows.

The SMTP server and its credentials come from environment variables only (``QSITE_SMTP_*``,
see :func:`smtp_from_env`), never from ``site.yaml``, which is committed and public: in CI they
are repository secrets. Passwords are sent only over TLS (STARTTLS or TLS from the start).

Every edition sent is recorded in ``digest-sent.yaml`` beside ``site.yaml`` (a file to commit,
so the record travels with the site and the send workflow sees it): ``--send`` refuses an
edition listed there unless given ``--again``, so pressing a button twice does not mail every
subscriber twice.
"""

from __future__ import annotations

import json
import os
import smtplib
import ssl
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path

from qsite import strict_yaml
from qsite.config import SiteConfig
from qsite.digest import Edition
from qsite.problems import ConfigError, Problem

SENT_FILE = "digest-sent.yaml"
SECURITY = ("starttls", "tls", "none")
DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
ENV = {
    "host": "QSITE_SMTP_HOST",
    "port": "QSITE_SMTP_PORT",
    "user": "QSITE_SMTP_USER",
    "password": "QSITE_SMTP_PASSWORD",
    "security": "QSITE_SMTP_SECURITY",
}
TIMEOUT = 60.0  # seconds for each step of the SMTP conversation


# ---------------------------------------------------------------------------------------------
# The message


def missing_settings(config: SiteConfig) -> list[Problem]:
    """What ``site.yaml`` must say before an edition can be mailed: who sends it, to which list,
    and where a subscriber leaves (mail to a list without a way out is what spam filters drop)."""
    digest = config.digest
    needed = [
        ("from", digest.sender, 'from: "Learning Together <digest@example.org>"'),
        ("to", digest.to, "to: learning-digest@lists.example.org"),
        ("subscribe_url", digest.leave_url, "subscribe_url: https://lists.example.org/learning-digest"),
    ]
    return [
        Problem("site.yaml", None, f"digest.{key} is not set, and an emailed edition needs it",
                f"add it under 'digest:' in site.yaml, e.g. {example}")
        for key, value, example in needed
        if not value
    ]


def compose(config: SiteConfig, edition: Edition, html: bytes, text: bytes, now: datetime) -> EmailMessage:
    """The edition as one message: its plain-text and HTML editions as alternatives (text first,
    as RFC 2046 orders them: the last one a client can show wins), with the headers a mail client
    and a mailing list expect. ``html`` and ``text`` are the built files, unchanged."""
    problems = missing_settings(config)
    if problems:
        raise ConfigError(problems)
    digest = config.digest
    message = EmailMessage(policy=SMTP)
    message["Subject"] = f"{edition.title} · {config.title} learning digest"
    message["From"] = digest.sender
    message["To"] = digest.to
    message["Date"] = format_datetime(now)
    domain = parseaddr(digest.sender)[1].rpartition("@")[2]
    message["Message-ID"] = make_msgid(domain=domain)
    message["List-Unsubscribe"] = f"<{digest.leave_url}>"
    message["List-Archive"] = f"<{edition.permalink}>"
    message.set_content(text.decode("utf-8"), cte="quoted-printable")
    message.add_alternative(html.decode("utf-8"), subtype="html", cte="quoted-printable")
    return message


def eml_bytes(message: EmailMessage) -> bytes:
    """The message as an ``.eml`` file: what it would be on the wire (CRLF line ends)."""
    return message.as_bytes(policy=SMTP)


# ---------------------------------------------------------------------------------------------
# The server


@dataclass(frozen=True)
class Smtp:
    host: str
    port: int
    security: str  # one of SECURITY
    user: str = ""
    password: str = ""

    def __repr__(self) -> str:  # never print a password, not even in a traceback
        return f"Smtp({self.host}:{self.port}, {self.security}, user={self.user!r})"


def smtp_from_env(environ: Mapping[str, str] = os.environ) -> Smtp:
    """The server to send through, from ``QSITE_SMTP_HOST`` (required), ``QSITE_SMTP_PORT``
    (default 587, 465 with TLS), ``QSITE_SMTP_SECURITY`` (``starttls``, the default; ``tls``;
    ``none``, only for a relay on this machine), ``QSITE_SMTP_USER`` and ``QSITE_SMTP_PASSWORD``.
    Every problem at once, as usage errors (exit 2)."""
    problems: list[Problem] = []

    def bad(name: str, message: str, fix: str | None = None) -> None:
        problems.append(Problem(ENV[name], None, message, fix))

    host = environ.get(ENV["host"], "").strip()
    if not host:
        bad("host", "is not set, so there is no mail server to send through",
            f"set {ENV['host']} (and {ENV['user']}, {ENV['password']}) in the environment, "
            "or as repository secrets for the send workflow; never in site.yaml")
    security = environ.get(ENV["security"], "").strip().lower() or "starttls"
    if security not in SECURITY:
        bad("security", f"should be one of {', '.join(SECURITY)}, not {security!r}")
        security = "starttls"
    raw_port = environ.get(ENV["port"], "").strip()
    port = DEFAULT_PORTS[security]
    if raw_port:
        if raw_port.isdigit() and 0 < int(raw_port) < 65536:
            port = int(raw_port)
        else:
            bad("port", f"{raw_port[:20]!r} is not a port number (1 to 65535)")
    user = environ.get(ENV["user"], "")
    password = environ.get(ENV["password"], "")
    if bool(user) != bool(password):
        bad("user" if not user else "password", "is not set, but the other half of the login is",
            f"set both {ENV['user']} and {ENV['password']}, or neither")
    if password and security == "none":
        bad("security", "is none, so the password would cross the network unencrypted",
            f"set {ENV['security']}=starttls (or tls), as the mail provider says")
    if problems:
        raise ConfigError(problems)
    return Smtp(host, port, security, user, password)


def send(message: EmailMessage, smtp: Smtp, timeout: float = TIMEOUT) -> None:
    """Hand the message to the server; ConfigError (exit 2) saying why if it is not accepted."""
    context = ssl.create_default_context()
    try:
        client: smtplib.SMTP
        if smtp.security == "tls":
            client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=timeout)
        with client:
            if smtp.security == "starttls":
                client.starttls(context=context)
            if smtp.user:
                client.login(smtp.user, smtp.password)
            refused = client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise ConfigError([Problem(f"{smtp.host}:{smtp.port}", None, f"the mail server did not take the digest: {exc}",
                                   "nothing was recorded as sent; check the QSITE_SMTP_* settings and try again")
                           ]) from None
    if refused:
        who = ", ".join(sorted(refused))
        raise ConfigError([Problem(f"{smtp.host}:{smtp.port}", None, f"the mail server refused {who}",
                                   "check digest.to in site.yaml")])


# ---------------------------------------------------------------------------------------------
# What has been sent


@dataclass(frozen=True)
class Sending:
    period: str  # the edition's key: 2020-04, 2020-W16
    sent: str  # ISO 8601 time
    to: str
    message_id: str


def read_sent(root: Path) -> list[Sending]:
    """Every sending recorded in ``digest-sent.yaml`` (none if there is no such file); a file
    qsite cannot read is a usage error naming its line, so a damaged record never lets an
    edition go out twice."""
    path = root / SENT_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(SENT_FILE, None, f"cannot read it: {exc}")]) from None
    fix = "restore it from git: it is written by 'qsite digest --send' (periods, each a list of sent/to/message_id)"
    try:
        doc = strict_yaml.load(text)
    except strict_yaml.YamlProblem as exc:
        raise ConfigError([Problem(SENT_FILE, exc.line, exc.message, fix)]) from None
    if doc.value is None:
        return []
    sendings: list[Sending] = []
    if not isinstance(doc.value, dict):
        raise ConfigError([Problem(SENT_FILE, doc.first_line, "should list periods, each with its sendings", fix)])
    for period, items in doc.value.items():
        if not isinstance(items, list):
            raise ConfigError([Problem(SENT_FILE, doc.line(period), f"{period}: should be a list of sendings", fix)])
        for i, item in enumerate(items):
            keys = ("sent", "to", "message_id")
            if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in keys):
                raise ConfigError([Problem(SENT_FILE, doc.line(period, i), "each sending needs sent, to and message_id",
                                           fix)])
            sendings.append(Sending(str(period), item["sent"], item["to"], item["message_id"]))
    return sendings


def record_sent(root: Path, sending: Sending) -> Path:
    """Add ``sending`` to ``digest-sent.yaml``, rewriting it whole and in one rename, so a crash
    leaves the old record or the new one, never half a file."""
    sendings = [*read_sent(root), sending]
    lines = [
        "# Learning digest editions sent with 'qsite digest PERIOD --send', written by qsite.",
        "# It refuses to send an edition listed here again unless given --again. Commit this file.",
    ]
    periods: dict[str, list[Sending]] = {}
    for s in sendings:
        periods.setdefault(s.period, []).append(s)
    for period, items in periods.items():
        lines.append(f"{json.dumps(period)}:")
        for s in items:
            lines.append(f"  - sent: {json.dumps(s.sent)}")
            lines.append(f"    to: {json.dumps(s.to, ensure_ascii=False)}")
            lines.append(f"    message_id: {json.dumps(s.message_id)}")
    path = root / SENT_FILE
    fd, tmp = tempfile.mkstemp(prefix=".digest-sent.", dir=root)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def sendings_of(sendings: list[Sending], period: str) -> list[Sending]:
    return [s for s in sendings if s.period == period]
