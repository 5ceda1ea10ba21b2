"""Configuration: grayhound.toml read, checked and turned into frozen records (`Config` and the
records of each section), every problem a one-line ConfigError naming the file, line and key.

Owns: the TOML contract of DESIGN.md, its records (`records`), the checks of each value
(`fields`), of how grayhound runs (`running`), brand terms that are everyday words (`vocabulary`:
a warning, not an error; its `frequencies` are the word lists the detectors read too) and of the brand side and the whole (`check`), and loading (`loader`). May import: `grayhound.errors` only; everything else imports it. Inside, the
order is records → fields → running → vocabulary → check → loader, never back; import the public names from
here."""

from grayhound.config.loader import load_config, parse_config
from grayhound.config.records import (
    DIGEST_FORMATS,
    Authorized,
    Brand,
    CatalogModel,
    Cluster,
    Config,
    Crawl,
    Digest,
    LandedCost,
    Pricing,
    Schedule,
    Serve,
    Source,
    Storage,
    storage_key,
)
from grayhound.config.vocabulary import frequencies

__all__ = [
    "DIGEST_FORMATS",
    "Authorized",
    "Brand",
    "CatalogModel",
    "Cluster",
    "Config",
    "Crawl",
    "Digest",
    "LandedCost",
    "Pricing",
    "Schedule",
    "Serve",
    "Source",
    "Storage",
    "frequencies",
    "load_config",
    "parse_config",
    "storage_key",
]
