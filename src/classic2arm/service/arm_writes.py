"""Writes on the ARM side. Resources a migration has prepared are read-only until commit (spec §2.4, R44).

`put_in`/`delete_in` work inside the caller's transaction, so that a request writing several rows (a VNet and
its subnets, say) commits all of them or none; `put`/`delete` are the same as use cases of their own."""

from __future__ import annotations

from ..domain import arm as armt
from ..domain import catalogue as msg
from ..domain import identity as ids
from ..domain.arm import ArmResource
from ..store import Row, Tx
from . import codec
from .context import AppContext
from .errors import NotFound, ServiceError

_KIND_WORDS = {armt.VM: "virtual machine", armt.NIC: "network interface", armt.LOAD_BALANCER: "load balancer",
               armt.PUBLIC_IP: "public IP address", armt.VNET: "virtual network", armt.STORAGE_ACCOUNT:
               "storage account", armt.AVAILABILITY_SET: "availability set", armt.RESOURCE_GROUP: "resource group"}


def refuse_if_held(row: Row) -> None:
    """Classic rows are read-only through ARM; ARM rows a migration holds are refused (R44)."""
    if row.model == ids.CLASSIC:
        raise ServiceError("OperationNotAllowed", f"'{row.arm_id or row.id}' is a classic resource; it is read-only "
                                                  "through Azure Resource Manager.", 409)
    if row.lock_holder or row.migration_state:
        code, text = msg.R44_ARM_PREPARED.render(kind=_KIND_WORDS.get(row.type, "resource"), name=row.name)
        raise ServiceError(code, text, 409)


def _existing(tx: Tx, arm_id: str) -> Row | None:
    return tx.resources.get(arm_id) or tx.resources.get_by_arm_id(arm_id)


def put_in(tx: Tx, resource: ArmResource) -> None:
    """Create or replace an ARM resource (PUT) inside the caller's transaction. Refused on a resource a migration
    holds."""
    row = _existing(tx, resource.id)
    if row is not None:
        refuse_if_held(row)
    rg = resource.resource_group
    if resource.type != armt.RESOURCE_GROUP and rg is not None:
        rg_row = tx.resources.get(ids.resource_group_id(resource.subscription_id, rg))
        if rg_row is None:
            raise NotFound(f"Resource group '{rg}' could not be found.", code="ResourceGroupNotFound")
    tx.resources.upsert([codec.arm_row(resource)])


def delete_in(tx: Tx, arm_id: str) -> None:
    """Delete an ARM resource and its children (a resource group takes everything in it), inside the caller's
    transaction."""
    row = _existing(tx, arm_id)
    if row is None:
        raise NotFound(f"The Resource '{arm_id}' was not found.")
    refuse_if_held(row)
    if row.type == armt.RESOURCE_GROUP:
        inside = tx.resources.query(row.subscription_id, model=ids.ARM, resource_group=row.name)
        for r in inside:
            refuse_if_held(r)
        tx.resources.delete([r.key for r in inside] + [row.key])
        return
    children = tx.resources.query(row.subscription_id, model=ids.ARM, key_prefix=row.key + "/")
    tx.resources.delete([c.key for c in children] + [row.key])


def put(ctx: AppContext, resource: ArmResource) -> ArmResource:
    """`put_in` as a use case of its own (one transaction)."""
    with ctx.store.tx() as tx:
        put_in(tx, resource)
    return resource


def delete(ctx: AppContext, arm_id: str) -> None:
    """`delete_in` as a use case of its own (one transaction)."""
    with ctx.store.tx() as tx:
        delete_in(tx, arm_id)
