"""The crawler: what to fetch, fetching it politely, and turning responses into listings and sellers.

Owns: the one-process crawl (`runner`, `settings`, `middlewares`, `pipelines`, `progress`,
`resume`) and its folders: `pages/` (pure extraction), `spiders/` (what to fetch next),
`capture/` (WARC evidence), `cluster/` (Redis frontier, workers, the one store writer). May
import: the spine's leaves, config and store. Never `detectors` (the crawler never scores) or
`reports`."""
