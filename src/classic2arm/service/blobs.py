"""A storage account's blobs as the storage service keeps them, whichever control plane manages the account.

The inventory is `StorageAccount.blobs` of the classic account and, once the account has migrated, the same
inventory kept by its ARM twin (`ArmResource.blobs`, copied by the storage translation): a storage commit moves
the account's management, not its data, so the VHDs stay listed. This is the CLI's read (`inventory`); the ARM
API's ListContainerItems is `arm_reads.blob_containers`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..domain import arm as armt
from ..domain import catalogue as msg
from ..domain import classic as c
from ..domain import identity as ids
from ..domain import media
from ..store import Tx
from . import codec
from .context import AppContext
from .errors import NotFound


@dataclass(frozen=True, slots=True)
class BlobItem:
    name: str
    size_bytes: int
    lease: str
    url: str

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "sizeBytes": self.size_bytes, "lease": self.lease, "url": self.url}


@dataclass(frozen=True, slots=True)
class Inventory:
    account: str
    model: str  # classic while the classic account exists (Prepared too), arm once it has committed
    resource_id: str  # the classic account's ASM path, or the ARM account's id
    migration_state: str | None
    containers: dict[str, list[BlobItem]] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {"account": self.account, "model": self.model, "id": self.resource_id,
                "migrationState": self.migration_state,
                "containers": [{"name": name, "blobs": [b.to_json() for b in blobs]}
                               for name, blobs in self.containers.items()]}


def _containers(account: str, blobs: dict[str, c.Blob]) -> dict[str, list[BlobItem]]:
    out: dict[str, list[BlobItem]] = {}
    for container, names in media.by_container(blobs).items():
        items = out.setdefault(container, [])
        for name in names:
            blob = blobs[f"{container}/{name}" if name else container]
            items.append(BlobItem(name, blob.size_bytes, blob.lease, media.link(account, container, name)))
    return out


def _inventory_in(tx: Tx, sub: str, account: str) -> Inventory:
    row = tx.resources.get(ids.storage_id(sub, account))
    if row is not None:
        classic = c.StorageAccount.model_validate(row.doc)
        return Inventory(classic.name, ids.CLASSIC, row.id, row.migration_state,
                         _containers(classic.name, classic.blobs))
    for arm_row in tx.resources.query(sub, model=ids.ARM, types=[armt.STORAGE_ACCOUNT], name=account):
        res = codec.arm_object(arm_row)
        return Inventory(res.name, ids.ARM, res.id, arm_row.migration_state, _containers(res.name, res.blobs or {}))
    raise NotFound(msg.R02_STORAGE_NOT_FOUND.text(name=account))


def inventory(ctx: AppContext, account: str) -> Inventory:
    """The containers and blobs of a storage account, classic or migrated (the CLI's `storage containers`)."""
    with ctx.store.read() as tx:
        return _inventory_in(tx, ctx.subscription_id(tx), account)
