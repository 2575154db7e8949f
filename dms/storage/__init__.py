"""Object storage: a folder in embedded mode, S3/MinIO when scaled out."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dms.storage.base import ObjectStore, content_key, page_image_mime
from dms.storage.local import LocalObjectStore
from dms.storage.registry import make_object_store, register_object_store

if TYPE_CHECKING:
    from dms.storage.s3 import S3ObjectStore

__all__ = [
    "LocalObjectStore",
    "ObjectStore",
    "S3ObjectStore",
    "content_key",
    "page_image_mime",
    "make_object_store",
    "register_object_store",
]


def __getattr__(name: str) -> Any:
    # S3ObjectStore pulls in boto3; load it only when someone asks for it.
    if name == "S3ObjectStore":
        from dms.storage.s3 import S3ObjectStore

        return S3ObjectStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
