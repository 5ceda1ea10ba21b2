"""The triage UI that `grayhound serve` runs: a Datasette plugin with grayhound's own pages.

Owns: the Datasette instance and its metadata (`app`), the plugin hooks (`hooks`), sign-in and
who may do what (`auth`), the derived tables Datasette facets (the cases queue, crawl health,
competitor pricing: `derived`; the queue's refresh begun as the server starts: `startup`), the seller, network, listing, capture and pricing pages
(`pages`, gathering what they show in `views`), the listing's page image (`pageimages`),
crawled text as the pages show it (`shown`), the actions that change something (`actions`),
the price-history chart (`charts`), `templates/` and `static/`. Reads go through Datasette's read-only connection; every write goes through
grayhound's own functions (`grayhound.triage`, `reports.evidence`), never SQL from a page.

May import: the spine's leaves, config, store and triage; `reports` (currency),
`reports.digest` (case grouping, crawl health), `reports.evidence` (bundles, inert
snapshots) and `reports.pricing` (competitor pricing)."""
