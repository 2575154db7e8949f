"""content_key and key validation: pure functions, no backend needed."""

from __future__ import annotations

import hashlib

import pytest

from dms.errors import InvalidInputError
from dms.storage import content_key
from dms.storage.base import validate_key, validate_prefix

DIGEST = hashlib.sha256(b"scan").hexdigest()


def test_content_key_fans_out_by_digest() -> None:
    key = content_key("originals", DIGEST, ".pdf")
    assert key == f"originals/{DIGEST[:2]}/{DIGEST[2:4]}/{DIGEST}.pdf"


def test_content_key_normalises_upper_case_hex() -> None:
    assert content_key("pages", DIGEST.upper()) == content_key("pages", DIGEST)


@pytest.mark.parametrize(
    "digest", ["", "abc", DIGEST[:-1], DIGEST + "0", "g" * 64, "../" + DIGEST[3:], None]
)
def test_content_key_rejects_bad_digest(digest: str) -> None:
    with pytest.raises(InvalidInputError):
        content_key("originals", digest)


@pytest.mark.parametrize("kind", ["", "Originals", "a/b", "..", "/x", "a b"])
def test_content_key_rejects_bad_kind(kind: str) -> None:
    with pytest.raises(InvalidInputError):
        content_key(kind, DIGEST)


@pytest.mark.parametrize("suffix", ["/x", "\\x", "\x00"])
def test_content_key_rejects_bad_suffix(suffix: str) -> None:
    with pytest.raises(InvalidInputError):
        content_key("originals", DIGEST, suffix)


@pytest.mark.parametrize("key", ["a", "a/b/c.pdf", "档案/张三.pdf", "a..b/c", ".hidden/x"])
def test_good_keys_pass(key: str) -> None:
    assert validate_key(key) == key


@pytest.mark.parametrize("prefix", ["", "a", "a/", "a/b", "档"])
def test_good_prefixes_pass(prefix: str) -> None:
    assert validate_prefix(prefix) == prefix
