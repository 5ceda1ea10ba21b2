"""grayhound: watch marketplaces and storefronts for gray-market and brand-impersonating resellers.

This package is the spine (ARCHITECTURE.md). Its folders: `config/` (grayhound.toml → records),
`store/` (the only SQL), `commands/` (the thin CLI), `demo/` (the fixture sites served on
loopback). Its modules: the leaves every stage shares (`models`, `errors`), the triage rules and
the run lock (`triage`, `lock`), and the orchestration the CLI and the schedule call (`detection`,
`pipeline`, `schedule`, `cli`). Leaves import nothing of grayhound; the stages (`crawler`,
`detectors`, `reports`) import only the leaves, config, store, triage and lock; only the
orchestration imports the stages."""

__version__ = "0.1.0"
