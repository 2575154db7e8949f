"""Byte-level mutations of valid seed files, as a hypothesis strategy.

Start from a file the code accepts and damage it the ways storage and transfer do (and a
hostile station might): flip bits, cut the tail, insert or delete runs, overwrite a spot
with a boundary value (0, 0xff, a huge length). Shrinking keeps the seed and drops edits,
so a failure reduces to the fewest edits that still break it.
"""
from __future__ import annotations

from hypothesis import strategies as st

INTERESTING = [b"\x00", b"\xff", b"\x7f", b"\x80", b"\xff\xff\xff\xff", b"\x00\x00\x00\x00",
               b"\x7f\xff\xff\xff", b"\x00\x01\x00\x00", b"9999999999", b"-1", b"%%EOF",
               b"endobj", b"IEND", b"\xff\xd9"]


def _apply(data: bytes, edits: list[tuple[str, float, bytes]]) -> bytes:
    buf = bytearray(data)
    for op, where, arg in edits:
        pos = int(where * len(buf)) if buf else 0
        if op == "flip" and buf:
            pos = min(pos, len(buf) - 1)
            buf[pos] ^= 1 << (arg[0] % 8 if arg else 0)
        elif op == "truncate":
            del buf[pos:]
        elif op == "insert":
            buf[pos:pos] = arg
        elif op == "delete":
            del buf[pos:pos + 1 + (arg[0] if arg else 0)]
        elif op == "overwrite":
            buf[pos:pos + len(arg)] = arg
    return bytes(buf)


_edit = st.tuples(
    st.sampled_from(["flip", "flip", "flip", "truncate", "insert", "delete", "overwrite"]),
    st.floats(min_value=0, max_value=1, allow_nan=False),
    st.one_of(st.binary(min_size=1, max_size=16), st.sampled_from(INTERESTING)),
)


def mutated(seeds: dict[str, bytes]) -> st.SearchStrategy[tuple[str, bytes]]:
    """(seed name, damaged bytes) from one of ``seeds`` and 1-8 edits."""
    return st.tuples(st.sampled_from(sorted(seeds)), st.lists(_edit, min_size=1, max_size=8)
                     ).map(lambda t: (t[0], _apply(seeds[t[0]], t[1])))
