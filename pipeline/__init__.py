"""arXiv metadata enrichment pipeline: Markdown paper lists -> Parquet tables."""

__version__ = "0.1.0"
