"""Evidence for legal teams: bundles of every capture of a subject (`bundle`, laid out as a zip or
a WACZ by `layout` and `wacz`, the WARC copied by `records`), the human-readable parts (`docs`,
`texts`, `templates/`: summary and declaration), the hash-chained custody log (`custody`),
Ed25519 signatures (`seal`), RFC 3161 timestamps (`timestamp`), page images rendered offline by
Chromium (`pictures`, `images`), inert snapshots (`snapshot`; one capture shown outside a bundle: `view`) and verification of bundles nobody
vouches for (`verify`, `sealcheck`, `untrusted`).

May import: `reports` (currency, tabular), `crawler.capture.warc` (to read WARC records), the
spine's leaves and store. Never crawls: its one network request, to the configured TSA, is
`timestamp.request_token`, which only the orchestration calls."""
