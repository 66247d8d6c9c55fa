"""Junkan: rejected applicants as an asset, not a dead end. The library never imports Prefect."""

__version__ = "0.1.0"
