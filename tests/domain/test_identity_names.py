"""ARM's name rules and case fold (domain/identity.py): ordinal ignore-case, not NFKC, and a refusal of the
characters whose lower-case form would make the store's lower-cased keys disagree with ARM."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from classic2arm.domain import identity as ids


def test_same_name_is_ordinal_ignore_case() -> None:
    assert ids.same_name("MyGroup", "mygroup")
    assert not ids.same_name("\u212ay", "ky")  # Kelvin sign: NFKC would say 'K'; ARM does not
    assert not ids.same_name("stra\u00dfe", "STRASSE")
    assert not ids.same_name("a", "ab")


@pytest.mark.parametrize("rg", ["ky", "Default-Networking", "rg(1).x_y", "gr\u00fcn", "\u00e9t\u00e9", "a" * 90])
def test_valid_group_names(rg: str) -> None:
    assert ids.resource_group_name_problem(rg) is None


@pytest.mark.parametrize(("rg", "text"), [
    ("\u212ay", "U+212A"), ("a\u202eb", "U+202E"), ("a\u200bb", "U+200B"), ("a b", "U+0020"), ("ends.", "end in"),
    ("", "1 to 90"), ("a" * 91, "1 to 90"), ("semi;colon", "U+003B"), ("\u03c3\u03c2", "U+03C2"),
    ("\u0130x", "U+0130"), ("line\u2028sep", "U+2028"),
])
def test_invalid_group_names(rg: str, text: str) -> None:
    problem = ids.resource_group_name_problem(rg)
    assert problem is not None and text in problem


@given(st.text(min_size=1, max_size=12))
def test_accepted_names_keep_arm_equivalence_under_lower_case(name: str) -> None:
    # For every name the rules accept, the store's lower-cased key matches exactly the names ARM calls equal.
    if ids.resource_name_problem(name) is None:
        other = name.swapcase()
        if ids.resource_name_problem(other) is None:
            assert ids.same_name(name, other) == (name.lower() == other.lower())


def test_every_printable_ascii_char_passes_the_per_character_checks() -> None:
    # what lets identity._name_chars_problem skip them for a printable ASCII name
    for code in range(0x20, 0x7F):
        ch = chr(code)
        assert unicodedata.category(ch)[0] != "C", ch
        assert ids._key_faithful(ch), ch


@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=90))
def test_ascii_group_names_are_judged_as_the_general_rule_judges_them(rg: str) -> None:
    allowed = all(ch in "-_.()" or unicodedata.category(ch)[0] == "L" or unicodedata.category(ch) == "Nd"
                  for ch in rg) and not rg.endswith(".")
    assert (ids.resource_group_name_problem(rg) is None) is allowed
