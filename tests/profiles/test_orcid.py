"""ORCID iDs: the form and the ISO 7064 MOD 11-2 check character."""

from __future__ import annotations

import pytest

from scorer.exceptions import InvalidOrcid
from scorer.profiles.orcid import check_character, checked_orcid, is_orcid


@pytest.mark.parametrize(
    "orcid",
    [
        "0000-0002-1825-0097",  # ORCID's own example
        "0000-0001-5109-3700",
        "0000-0002-1694-233X",  # a check character of ten
    ],
)
def test_valid_ids(orcid):
    assert is_orcid(orcid)
    assert checked_orcid(orcid) == orcid


def test_check_character_of_the_documented_example():
    assert check_character("000000021825009") == "7"
    assert check_character("000000021694233") == "X"


def test_prefix_case_and_spaces_are_tidied():
    assert checked_orcid(" https://orcid.org/0000-0002-1694-233x ") == "0000-0002-1694-233X"


@pytest.mark.parametrize("orcid", ["0000-0002-1825-0098", "0000-0002-1825-0090", "0000-0002-1694-2330"])
def test_a_wrong_check_character_is_refused_with_the_expected_one(orcid):
    with pytest.raises(InvalidOrcid, match="check character") as refused:
        checked_orcid(orcid)
    assert refused.value.http_status == 422


@pytest.mark.parametrize(
    "orcid", ["", "0000000218250097", "0000-0002-1825-009", "0000-0002-1825-00977", "abcd-0002-1825-0097"]
)
def test_malformed_ids_are_refused(orcid):
    assert not is_orcid(orcid)
    with pytest.raises(InvalidOrcid, match="four groups"):
        checked_orcid(orcid)


def test_every_single_digit_change_is_caught():
    digits = "000000021825009"
    for place in range(len(digits)):
        for other in "0123456789":
            if other != digits[place]:
                changed = digits[:place] + other + digits[place + 1 :] + "7"
                orcid = "-".join(changed[i : i + 4] for i in range(0, 16, 4))
                assert not is_orcid(orcid), orcid
