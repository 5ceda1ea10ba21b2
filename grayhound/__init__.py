"""grayhound: watch marketplaces and storefronts for gray-market and brand-impersonating resellers."""

__version__ = "0.1.0"
