"""Where a unit's snapshot is read from: the database one query at a time (`DbSource`, for a single unit),
or an index of every classic resource of the subscription loaded in a few queries (`IndexSource`, for
validating or migrating many units at once without N+1 queries). Both parse each document once."""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

from ..domain import classic as c
from ..domain import identity as ids
from ..store import Row, Tx

M = TypeVar("M", bound=BaseModel)


class Source(Protocol):
    def subscription(self) -> c.Subscription: ...
    def get(self, key: str) -> Row | None: ...
    def get_many(self, keys: set[str]) -> dict[str, Row]: ...
    def children(self, parent_keys: list[str], rtype: str) -> list[Row]: ...
    def by_names(self, rtype: str, names: set[str]) -> list[Row]: ...
    def of_type(self, rtype: str) -> list[Row]: ...
    def deployments_in_vnet(self, vnet: str) -> list[Row]: ...
    def usage(self, region: str) -> dict[str, int]: ...
    def model(self, cls: type[M], row: Row) -> M: ...


class DbSource:
    def __init__(self, tx: Tx, sub: str) -> None:
        self.tx, self.sub = tx, sub
        self._models: dict[tuple[str, int], Any] = {}

    def subscription(self) -> c.Subscription:
        doc = self.tx.get_subscription(self.sub)
        return c.Subscription.model_validate(doc) if doc else c.Subscription(id=self.sub)

    def get(self, key: str) -> Row | None:
        return self.tx.get(key)

    def get_many(self, keys: set[str]) -> dict[str, Row]:
        return self.tx.get_many(keys)

    def children(self, parent_keys: list[str], rtype: str) -> list[Row]:
        return self.tx.query(self.sub, types=[rtype], parent_keys=parent_keys) if parent_keys else []

    def by_names(self, rtype: str, names: set[str]) -> list[Row]:
        return self.tx.query(self.sub, types=[rtype], names=sorted(names)) if names else []

    def of_type(self, rtype: str) -> list[Row]:
        return self.tx.query(self.sub, types=[rtype])

    def deployments_in_vnet(self, vnet: str) -> list[Row]:
        keys = [d["key"] for d in self.tx.project(self.sub, [ids.T_DEPLOYMENT], ["virtual_network_name"])
                if (d["doc_virtual_network_name"] or "").lower() == vnet.lower()]
        return sorted(self.tx.get_many(keys).values(), key=lambda r: r.key)

    def usage(self, region: str) -> dict[str, int]:
        return self.tx.usage_in(self.sub, region)

    def model(self, cls: type[M], row: Row) -> M:
        found = self._models.get((row.key, row.version))
        if found is None:
            found = self._models[(row.key, row.version)] = cls.model_validate(row.doc)
        assert isinstance(found, cls)
        return found


_LIGHT = frozenset({ids.T_DISK})


class IndexSource(DbSource):
    """Every classic row of the subscription, indexed by key, parent, type and name. `lock_only_rows=False`
    leaves out the rows a unit only locks and never reads (disks): enough for validating, not for migrating."""

    def __init__(self, tx: Tx, sub: str, lock_only_rows: bool = True) -> None:
        super().__init__(tx, sub)
        self._sub = super().subscription()
        self.rows: dict[str, Row] = {}
        self._children: dict[tuple[str, str], list[Row]] = {}
        self._types: dict[str, list[Row]] = {}
        self._names: dict[tuple[str, str], list[Row]] = {}
        self._vnet_deps: dict[str, list[Row]] = {}
        # Disks are as many as VMs again but only their keys matter to VM and VNet units: index them without
        # documents; a storage unit, which reads them, gets them from the database (`of_type`).
        full = [t for t in ids.CLASSIC_TYPES if t not in _LIGHT]
        light = [Row(id=d["id"], subscription_id=sub, model=ids.CLASSIC, type=d["type"], name=d["name"], doc={},
                     parent_key=d["parent_key"], key=d["key"])
                 for d in (tx.project(sub, list(_LIGHT), []) if lock_only_rows else [])]
        for row in [*tx.query(sub, model=ids.CLASSIC, types=full), *light]:
            self.rows[row.key] = row
            self._types.setdefault(row.type, []).append(row)
            self._names.setdefault((row.type, row.name.lower()), []).append(row)
            if row.parent_key:
                self._children.setdefault((row.parent_key, row.type), []).append(row)
            if row.type == ids.T_DEPLOYMENT and row.doc.get("virtual_network_name"):
                self._vnet_deps.setdefault(str(row.doc["virtual_network_name"]).lower(), []).append(row)

    def subscription(self) -> c.Subscription:
        return self._sub

    def get(self, key: str) -> Row | None:
        return self.rows.get(key.lower())

    def get_many(self, keys: set[str]) -> dict[str, Row]:
        return {k.lower(): self.rows[k.lower()] for k in keys if k.lower() in self.rows}

    def children(self, parent_keys: list[str], rtype: str) -> list[Row]:
        return [r for p in parent_keys for r in self._children.get((p.lower(), rtype), [])]

    def by_names(self, rtype: str, names: set[str]) -> list[Row]:
        return [r for n in sorted(names) for r in self._names.get((rtype, n.lower()), [])]

    def of_type(self, rtype: str) -> list[Row]:
        if rtype in _LIGHT:
            return super().of_type(rtype)
        return self._types.get(rtype, [])

    def deployments_in_vnet(self, vnet: str) -> list[Row]:
        return self._vnet_deps.get(vnet.lower(), [])

    def usage(self, region: str) -> dict[str, int]:
        return self.tx.usage_in(self.sub, region)  # changes as units are prepared: always current

    def rebind(self, tx: Tx) -> None:
        """Use the index from a later transaction (documents of other units don't change while a batch of
        units is being migrated; what does — usage, the units' own rows — is read through `tx`)."""
        self.tx = tx
