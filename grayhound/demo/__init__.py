"""The demo: the bundled fixture sites (fixtures/sites/) served on 127.0.0.1, and the whole loop
on them (`run`: serve, crawl, detect, digest).

Owns: the stdlib HTTP servers and router (`sites`), rendering fixture data into responses
(`render`, `routes`), each site (`bazaar`, `storefronts`), a generated large marketplace for
benchmarks (`large`) and fault injection for tests (`faults`). The sites import nothing of
grayhound; `run` imports the crawler and the pipeline, like a command."""
