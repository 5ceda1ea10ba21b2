"""Delivery: digest files named by UTC time, and an email with a text and an HTML part that
arrives at a real SMTP server on loopback."""

from __future__ import annotations

import email
import socket
from dataclasses import replace
from email import policy

import pytest
from aiosmtpd.controller import Controller

from grayhound.pipeline import deliver_digest, produce_digest
from reports.digest.deliver import digest_filename, send_digest


class Inbox:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    """An SMTP server on 127.0.0.1 at a free port; stopped when the test ends."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield {"host": "127.0.0.1", "port": port, "inbox": inbox}
    controller.stop()


def flagged(world) -> None:
    run = world.run(0, {"bazaar": world.figures(10)})
    listing_id = world.listing(run, 0, 1, title="<b>Xiaomi 14 Pro</b>", price="449.00")
    world.judge(run, 0.6, world.finding(listing_id, "impersonation", 0.9, ["impersonation"]))


def test_digest_email_has_text_and_html_parts(world, example_config, smtp_server):
    flagged(world)
    digest = produce_digest(world.store, example_config, world.at(1))
    smtp = {
        "host": smtp_server["host"],
        "port": smtp_server["port"],
        "from": "grayhound@example.com",
        "to": ["brand@example.com", "legal@example.com"],
    }
    send_digest(digest, smtp)

    (message,) = smtp_server["inbox"].messages
    assert message["Subject"] == "grayhound digest: 1 new, 0 changed, 0 still open"
    assert message["To"] == "brand@example.com, legal@example.com"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "case #1" in text and "&lt;b&gt;Xiaomi 14 Pro&lt;/b&gt;" in html


def test_after_a_run_the_configured_formats_land_in_out_dir(
    config_world, example_config, smtp_server
):
    flagged(config_world)
    smtp = {"host": "127.0.0.1", "port": smtp_server["port"], "from": "a@b.c", "to": ["d@e.f"]}
    config = replace(
        example_config,
        digest=replace(example_config.digest, formats=("html", "csv"), smtp=smtp),
    )
    said = []
    outputs = deliver_digest(config, config_world.at(1), echo=said.append)

    assert {path.name for path in outputs.values()} == {
        "digest-20261120T070000Z.html",
        "digest-20261120T070000Z.csv",
    }
    assert all(path.parent == example_config.digest.out_dir for path in outputs.values())
    assert len(smtp_server["inbox"].messages) == 1
    # the store's first digest, delivered: then the case book the daily digests keep is made
    assert said[-1] == "digest: making the case book later digests keep up to date (once)…"
    db = config_world.store.db
    assert db.execute("SELECT COUNT(*) FROM digest_book").fetchone()[0] > 0
    assert db.execute("SELECT * FROM digest_pending").fetchall() == []


def test_digest_filename_is_the_utc_timestamp():
    assert digest_filename("2026-11-23T06:00:05.123Z", "md") == "digest-20261123T060005Z.md"
