"""Azure regions known to the emulator: classic display names and their ARM short names."""

from __future__ import annotations

from collections import Counter

# Display name (as ASM writes it) -> ARM location name.
REGIONS: dict[str, str] = {
    "East US": "eastus",
    "East US 2": "eastus2",
    "Central US": "centralus",
    "North Central US": "northcentralus",
    "South Central US": "southcentralus",
    "West Central US": "westcentralus",
    "West US": "westus",
    "West US 2": "westus2",
    "West US 3": "westus3",
    "Canada Central": "canadacentral",
    "Canada East": "canadaeast",
    "Brazil South": "brazilsouth",
    "North Europe": "northeurope",
    "West Europe": "westeurope",
    "UK South": "uksouth",
    "UK West": "ukwest",
    "France Central": "francecentral",
    "Germany West Central": "germanywestcentral",
    "Switzerland North": "switzerlandnorth",
    "Norway East": "norwayeast",
    "Sweden Central": "swedencentral",
    "East Asia": "eastasia",
    "Southeast Asia": "southeastasia",
    "Japan East": "japaneast",
    "Japan West": "japanwest",
    "Australia East": "australiaeast",
    "Australia Southeast": "australiasoutheast",
    "Australia Central": "australiacentral",
    "Central India": "centralindia",
    "South India": "southindia",
    "West India": "westindia",
    "Korea Central": "koreacentral",
    "Korea South": "koreasouth",
    "South Africa North": "southafricanorth",
    "UAE North": "uaenorth",
    # Early-access and staging regions that appear in Microsoft's own recorded SDK test sessions.
    "East US 2 EUAP": "eastus2euap",
    "Central US EUAP": "centraluseuap",
    "East US 2 (Stage)": "eastus2stage",
}

# Where an import places a hosted service that nothing locates, when the rest of the estate gives no location
# either (service/estate.py, `infer_location`): the generator's most common region (its REGION_POOL starts with it)
# and the region the ARM API's own examples use, so a rehearsal lands where the synthetic estates do.
DEFAULT_LOCATION = "West US"

_BY_ANY: dict[str, str] = {}
for _display, _arm in REGIONS.items():
    _BY_ANY[_display.lower()] = _display
    _BY_ANY[_arm] = _display


class UnknownLocation(ValueError):
    pass


def display_name(location: str) -> str:
    """Canonical classic display name for any spelling ('westus', 'West US', 'west us')."""
    found = _BY_ANY.get(location.strip().lower()) or _BY_ANY.get(location.replace(" ", "").lower())
    if found is None:
        raise UnknownLocation(f"unknown location '{location}'")
    return found


def arm_name(location: str) -> str:
    return REGIONS[display_name(location)]


def is_known(location: str) -> bool:
    try:
        display_name(location)
    except UnknownLocation:
        return False
    return True


def most_used(locations: list[str]) -> tuple[str, int]:
    """The location most of `locations` name (canonical display names; ties go to the first in name order), with
    how many name it; `DEFAULT_LOCATION` and 0 when there is none."""
    counts = Counter(locations)
    if not counts:
        return DEFAULT_LOCATION, 0
    best = min(counts, key=lambda loc: (-counts[loc], loc))
    return best, counts[best]
