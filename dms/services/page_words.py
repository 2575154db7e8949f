"""A page's word boxes in the object store: JSON, gzip-compressed.

The boxes of a CJK page (one box per one or two characters) come to 30-80 KB of JSON;
gzip keeps about a fifth of that (they repeat the same keys and nearby numbers). Readers
accept the plain JSON that earlier versions stored, told apart by gzip's magic bytes.
"""
from __future__ import annotations

import gzip
import json
from typing import Any

_GZIP_MAGIC = b"\x1f\x8b"


def encode_words(words: list[dict[str, Any]]) -> bytes:
    # mtime=0: the same words give the same bytes (a reread page stores no new object)
    return gzip.compress(json.dumps(words, ensure_ascii=False, separators=(",", ":")).encode(),
                         compresslevel=6, mtime=0)


def decode_words(data: bytes) -> list[dict[str, Any]]:
    if data[:2] == _GZIP_MAGIC:
        data = gzip.decompress(data)
    words: list[dict[str, Any]] = json.loads(data)
    return words
