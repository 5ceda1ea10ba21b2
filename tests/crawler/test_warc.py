"""Reading WARC files a killed crawl left behind: every complete record, never the partial
gzip member at the end (warcio alone yields a broken record or raises there)."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.capture.warc import Exchange, WarcWriter, complete_records, payload_sha256


def _exchange(number: int) -> Exchange:
    body = f"<html><title>item {number}</title>{'x' * (300 * number)}</html>".encode()
    return Exchange(
        url=f"http://127.0.0.1:8301/item/{number}.html",
        method="GET",
        request_headers=[("Host", "127.0.0.1:8301")],
        request_body=b"",
        status=200,
        reason="OK",
        response_headers=[("Content-Type", "text/html")],
        body=body,
        fetched_at="2024-06-01T06:00:00.000Z",
    )


@pytest.fixture(scope="module")
def warc_file(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("warc")
    writer = WarcWriter(directory, 1, "bazaar")
    for number in range(1, 6):
        exchange = _exchange(number)
        writer.write_exchange(exchange, payload_sha256(exchange.body))
    writer.close()
    return directory / writer.relative


def test_a_whole_file_reads_completely(warc_file):
    types = [record.rec_type for _, record in complete_records(warc_file)]
    assert types == ["warcinfo"] + ["response", "request"] * 5


def test_a_cut_anywhere_yields_exactly_the_records_before_it(warc_file, tmp_path):
    data = warc_file.read_bytes()
    offsets = [offset for offset, _ in complete_records(warc_file)]
    ends = offsets[1:] + [len(data)]
    for cut in range(0, len(data), 97):
        cut_file = tmp_path / "cut.warc.gz"
        cut_file.write_bytes(data[:cut])
        read = [(o, r.content_stream().read()) for o, r in complete_records(cut_file, 512)]
        assert len(read) == sum(end <= cut for end in ends), cut


def test_garbage_after_the_last_record_is_ignored(warc_file, tmp_path):
    damaged = tmp_path / "damaged.warc.gz"
    damaged.write_bytes(warc_file.read_bytes() + b"\x1f\x8b\x08garbage")
    assert len(list(complete_records(damaged))) == 11


def test_a_continued_run_writes_a_new_file(tmp_path):
    first = WarcWriter(tmp_path, 7, "bazaar")
    first.write_exchange(_exchange(1), payload_sha256(_exchange(1).body))
    first.close()
    second = WarcWriter(tmp_path, 7, "bazaar")  # the same run, after a kill
    second.write_exchange(_exchange(2), payload_sha256(_exchange(2).body))
    second.close()
    assert first.relative != second.relative
    assert len(list(complete_records(tmp_path / first.relative))) == 3
