"""Reports: what people read, built from what the store holds. Reports never fetch and never score.

Owns: the digest and triage views (`digest/`), legal evidence bundles (`evidence/`),
competitor pricing (`pricing/`), the triage UI that `grayhound serve` runs (`serve/`, a Datasette
plugin), and what they share: `exports` (export listings), `tabular`
(CSV/JSONL written safely), `links` and `crawledtext` (crawled URLs and text in HTML and
Markdown), `currency` (money as a buyer reads it), `crawlsummary` (a crawl run
in a few lines). May import: the spine's leaves, config, store and triage; `evidence/` also reads
WARC records through `crawler.capture.warc`. The folders do not import each other, except
`serve/`, which presents the other three."""
