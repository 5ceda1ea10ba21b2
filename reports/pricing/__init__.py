"""Competitor pricing for distributors: per catalog model, who sells it at what price against
MSRP and landed cost, and since when, as data (`build`, `competitors`), rendered as a terminal
table (`table`), CSV, JSON and HTML with a price chart (`render`, `chart`, `templates/`).

May import: `reports` (currency, tabular), the spine's leaves, config and store."""
