"""The digest: what brand-protection staff read every morning, as data (`build`), crawl health
(`health`), rendered as HTML, Markdown, JSON and CSV (`render`, `templates/`) and delivered by file
or email (`deliver`).

May import: `reports` (currency, tabular), the spine's leaves, store and triage."""
