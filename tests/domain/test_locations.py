"""The location an import assumes for what nothing places (issue 14): the estate's most used one, else the default."""

from __future__ import annotations

from classic2arm.domain import generator
from classic2arm.domain.locations import DEFAULT_LOCATION, most_used


def test_most_used_location_ties_by_name_and_default() -> None:
    assert most_used([]) == (DEFAULT_LOCATION, 0)
    assert most_used(["North Europe"]) == ("North Europe", 1)
    assert most_used(["West Europe", "East US", "West Europe"]) == ("West Europe", 2)
    assert most_used(["West Europe", "East US"]) == ("East US", 1)  # a tie: the first in name order


def test_the_default_is_the_generators_most_common_region() -> None:
    assert DEFAULT_LOCATION == "West US"
    assert generator.REGION_POOL[0] == DEFAULT_LOCATION
    assert generator.REGION_WEIGHTS[0] == max(generator.REGION_WEIGHTS)
