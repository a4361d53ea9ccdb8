"""The result type and the small accumulator every translation family writes into."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..arm import ArmResource, new_resource
from ..identity import arm_resource_id
from ..units import UnitSnapshot

Json = dict[str, Any]


@dataclass(slots=True)
class Translation:
    """What prepare creates for one unit.

    `resources` is in creation order: a resource comes after its parent (VNet before subnet, VM before
    extension) and after everything it references (NSG before subnet, public IP before load balancer, load
    balancer before NIC, NIC before VM), so a sequential writer never points at something not yet there.
    `origins` maps a classic id (identity.py form) to the ARM ids made from it; `dropped` holds human notes
    on what the migration does not carry over.
    """

    resource_groups: list[ArmResource] = field(default_factory=list)
    resources: list[ArmResource] = field(default_factory=list)
    origins: dict[str, list[str]] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)

    def all(self) -> list[ArmResource]:
        return [*self.resource_groups, *self.resources]


class Sink:
    """Collects resources once each (ARM ids are case-insensitive) and records where they came from."""

    __slots__ = ("_seen", "result")

    def __init__(self) -> None:
        self.result = Translation()
        self._seen: set[str] = set()

    def _fresh(self, arm_id: str) -> bool:
        key = arm_id.lower()
        if key in self._seen:
            return False
        self._seen.add(key)
        return True

    def group(self, rg: ArmResource, *origins: str) -> None:
        if self._fresh(rg.id):
            self.result.resource_groups.append(rg)
        self.link(rg.id, *origins)

    def add(self, res: ArmResource, *origins: str) -> str:
        # A shared object (an NSG on two subnets) is built once; later sightings only add origins.
        if self._fresh(res.id):
            self.result.resources.append(res)
        self.link(res.id, *origins)
        return res.id

    def link(self, arm_id: str, *origins: str) -> None:
        for origin in origins:
            made = self.result.origins.setdefault(origin, [])
            if arm_id not in made:
                made.append(arm_id)

    def drop(self, note: str) -> None:
        if note not in self.result.dropped:
            self.result.dropped.append(note)


@dataclass(slots=True)
class Ctx:
    """What every builder needs: the snapshot, where things go, and the sink."""

    snap: UnitSnapshot
    sub: str
    location: str  # ARM short name of the unit's region
    out: Sink
    network_rg: str  # RG that receives cloned NSGs and route tables for this unit
    # lower classic name -> ARM id of its clone, or None when the classic object is not in the snapshot
    nsg_clones: dict[str, str | None] = field(default_factory=dict)
    rt_clones: dict[str, str | None] = field(default_factory=dict)

    def arm_id(self, rg: str, rtype: str, name: str) -> str:
        return arm_resource_id(self.sub, rg, rtype, name)

    def resource(self, rg: str, rtype: str, name: str, properties: Json, *, located: bool = True,
                 **extra: Any) -> ArmResource:
        return new_resource(self.sub, rg, rtype, name, self.location if located else None, properties, **extra)

    def child_resource(self, parent_id: str, rtype: str, name: str, properties: Json, *,
                       located: bool = True) -> ArmResource:
        """A child resource (subnet, VM extension): its id nests under the parent's, `<parent>/<kind>/<name>`."""
        return ArmResource(id=child(parent_id, rtype.rsplit("/", 1)[1], name), name=name, type=rtype,
                           location=self.location if located else None, properties=succeeded(properties))


def ref(arm_id: str) -> Json:
    """ARM SubResource: `{"id": ...}`."""
    return {"id": arm_id}


def child(parent_id: str, collection: str, name: str) -> str:
    """Id of a sub-resource kept inside its parent (ipConfigurations, frontendIPConfigurations, …)."""
    return f"{parent_id}/{collection}/{name}"


def succeeded(props: Json) -> Json:
    """Inline sub-resources carry their own provisioningState in ARM GETs, like top-level ones."""
    return {"provisioningState": "Succeeded", **props}
