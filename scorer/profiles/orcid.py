"""ORCID iDs: sixteen characters in four groups, the last a check character computed from the
fifteen digits before it (ISO 7064 MOD 11-2, ``X`` standing for ten)."""

from __future__ import annotations

import re

from scorer.exceptions import InvalidOrcid

_FORM = re.compile(r"^\d{4}-\d{4}-\d{4}-\d{3}[\dX]$")
#: Prefixes people paste along with the iD; the iD is kept without them.
_PREFIXES = ("https://orcid.org/", "http://orcid.org/", "orcid.org/")


def check_character(digits: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the iD's first fifteen digits."""
    total = 0
    for digit in digits:
        total = (total + int(digit)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


def checked_orcid(value: str) -> str:
    """``value`` as a canonical iD (``0000-0002-1825-0097``, no URL prefix, upper-case ``X``);
    :class:`InvalidOrcid` when it is not well formed or its check character is wrong."""
    candidate = value.strip()
    for prefix in _PREFIXES:
        if candidate.lower().startswith(prefix):
            candidate = candidate[len(prefix) :]
    candidate = candidate.upper()
    if not _FORM.match(candidate):
        raise InvalidOrcid(value, "expected four groups of four digits such as 0000-0002-1825-0097")
    digits = candidate.replace("-", "")
    expected = check_character(digits[:-1])
    if digits[-1] != expected:
        raise InvalidOrcid(value, f"the check character is {digits[-1]}, the digits give {expected}")
    return candidate


def is_orcid(value: str) -> bool:
    """Whether ``value`` is a well-formed iD with a valid check character."""
    try:
        checked_orcid(value)
    except InvalidOrcid:
        return False
    return True
