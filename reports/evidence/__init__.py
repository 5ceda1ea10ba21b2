"""Evidence for legal teams: bundles of every capture of a subject (`bundle`), the human-readable
parts (`docs`: summary, declaration, custody log; `templates/`), inert snapshots of captured pages
(`snapshot`; one capture shown outside a bundle: `view`) and verification (`verify`).

May import: `reports` (currency, tabular), `crawler.capture.warc` (to read WARC records), the
spine's leaves and store."""
