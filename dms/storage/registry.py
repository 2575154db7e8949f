"""Pick the object store named in settings; other backends plug in by name."""

from __future__ import annotations

from collections.abc import Callable

from dms.errors import ConfigError
from dms.settings import Settings
from dms.storage.base import ObjectStore

Factory = Callable[[Settings], ObjectStore]

_FACTORIES: dict[str, Factory] = {}


def register_object_store(name: str) -> Callable[[Factory], Factory]:
    """Decorator: ``@register_object_store("s3") def make(settings) -> ObjectStore``."""

    def decorator(factory: Factory) -> Factory:
        _FACTORIES[name] = factory
        return factory

    return decorator


def known_object_stores() -> list[str]:
    return sorted(_FACTORIES)


def make_object_store(settings: Settings) -> ObjectStore:
    """Build the store for ``settings.object_store`` (for S3 this creates the bucket if missing)."""
    factory = _FACTORIES.get(settings.object_store)
    if factory is None:
        raise ConfigError(
            f"unknown object store {settings.object_store!r}",
            hint=f"DMS_OBJECT_STORE must be one of: {', '.join(known_object_stores())}",
        )
    return factory(settings)


@register_object_store("local")
def _make_local(settings: Settings) -> ObjectStore:
    from dms.storage.local import LocalObjectStore

    root = settings.object_store_path or settings.data_dir / "objects"
    return LocalObjectStore(root)


@register_object_store("s3")
def _make_s3(settings: Settings) -> ObjectStore:
    # Imported lazily so the embedded mode works without boto3 installed.
    from dms.storage.s3 import S3ObjectStore

    store = S3ObjectStore(
        endpoint_url=settings.s3_endpoint_url,
        bucket=settings.s3_bucket,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key.get_secret_value(),
        region=settings.s3_region,
        multipart_threshold_mb=settings.s3_multipart_threshold_mb,
    )
    # A fresh MinIO has no buckets; one HEAD per process is cheap insurance.
    store.ensure_bucket()
    return store
