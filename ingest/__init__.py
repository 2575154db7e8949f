"""Batch ingest from scanner stations: folders (CLI, --watch) and the HTTP upload API."""
from __future__ import annotations

from ingest.batch import FileOutcome, IngestRun, create_batch, finish_batch, ingest_folder
from ingest.layout import IngestRootError, Item, Placement
from ingest.report import BatchReport, Progress, StderrProgress
from ingest.watch import watch_folder

__all__ = [
    "BatchReport",
    "FileOutcome",
    "IngestRootError",
    "IngestRun",
    "Item",
    "Placement",
    "Progress",
    "StderrProgress",
    "create_batch",
    "finish_batch",
    "ingest_folder",
    "watch_folder",
]
