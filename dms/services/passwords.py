"""The password policy (issue 16): long enough and not one everybody tries first.

Applied wherever a password is set: ``dms users create``, ``dms users password``, ``dms up``.
"""
from __future__ import annotations

from functools import cache
from importlib import resources

from dms.errors import InvalidInputError

MIN_LENGTH = 10
MAX_LENGTH = 256  # scrypt hashes any length; a bound keeps a hostile post cheap


@cache
def common_passwords() -> frozenset[str]:
    text = resources.files("dms.services").joinpath("data/common_passwords.txt") \
        .read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines()
                     if line.strip() and not line.startswith("#"))


def check_password(password: str, *, username: str = "") -> None:
    """Raise InvalidInputError (field ``password``) if the policy refuses ``password``."""
    if len(password) < MIN_LENGTH:
        raise InvalidInputError(f"密码至少需要 {MIN_LENGTH} 个字符 / the password must have at "
                                f"least {MIN_LENGTH} characters", field="password")
    if len(password) > MAX_LENGTH:
        raise InvalidInputError(f"密码不能超过 {MAX_LENGTH} 个字符 / the password must have at "
                                f"most {MAX_LENGTH} characters", field="password")
    folded = password.lower()
    if folded in common_passwords() or len(set(password)) < 3 or \
            (len(username) >= 4 and username.lower() in folded):
        raise InvalidInputError("密码过于常见或易猜 / the password is too common or too easy to "
                                "guess", hint="use a longer phrase of unrelated words",
                                field="password")
