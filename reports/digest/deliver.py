"""Delivering a digest: files in `[digest] out_dir`, and optionally an email through SMTP
(multipart/alternative: the Markdown text first, the HTML page preferred by mail clients)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from reports.digest.build import Digest
from reports.digest.render import EXTENSIONS, render_html, render_markdown, write

SMTP_TIMEOUT = 30  # seconds: a stuck mail server must not hang a scheduled run


def digest_filename(created_at: str, fmt: str) -> str:
    """digest-20261123T060000Z.html from the digest's UTC ISO timestamp."""
    stamp = created_at.split(".")[0].replace("-", "").replace(":", "").rstrip("Z") + "Z"
    return f"digest-{stamp}.{EXTENSIONS[fmt]}"


def write_digest_files(
    digest: Digest, formats: tuple[str, ...], out_dir: Path, evidence_dir: Path | None = None
) -> dict[str, Path]:
    """Write one file per format; return {format: path}."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for fmt in formats:
        path = out_dir / digest_filename(digest.created_at, fmt)
        with path.open("w", encoding="utf-8", newline="") as stream:  # piece by piece
            write(digest, fmt, stream, evidence_dir=str(evidence_dir) if evidence_dir else None)
        written[fmt] = path
    return written


def subject_line(digest: Digest) -> str:
    groups = digest.counts["groups"]
    warning = "[crawl warning] " if digest.health["warnings"] else ""
    return (
        f"{warning}grayhound digest: {groups['new']} new, {groups['changed']} changed, "
        f"{groups['still_open']} still open"
    )


def digest_email(digest: Digest, smtp: dict, evidence_dir: Path | None = None) -> EmailMessage:
    where = str(evidence_dir) if evidence_dir else None
    message = EmailMessage()
    message["Subject"] = smtp.get("subject") or subject_line(digest)
    message["From"] = smtp["from"]
    message["To"] = ", ".join(smtp["to"])
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="grayhound.local")
    message.set_content(render_markdown(digest, evidence_dir=where))
    message.add_alternative(render_html(digest, evidence_dir=where), subtype="html")
    return message


def send_digest(digest: Digest, smtp: dict, evidence_dir: Path | None = None) -> None:
    """Send the digest to `[digest] smtp.to`; raises OSError/smtplib.SMTPException on failure."""
    message = digest_email(digest, smtp, evidence_dir)
    with smtplib.SMTP(smtp["host"], smtp.get("port", 25), timeout=SMTP_TIMEOUT) as client:
        if smtp.get("starttls"):
            client.starttls()
        if smtp.get("username"):
            client.login(smtp["username"], smtp.get("password") or "")
        client.send_message(message)
