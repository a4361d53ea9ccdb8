"""Store look-ups behind the ASM GETs: rows -> domain objects (+ migration state), 404s with ASM texts.
Pure reads; no rule decides anything here."""

from __future__ import annotations

from typing import TypeVar

from ...domain import catalogue as msg
from ...domain import classic as c
from ...domain import identity as ids
from ...service.errors import NotFound
from ...store import Row, Tx
from .views import DeploymentView, RoleView, ServiceView, StorageView, VNetView

M = TypeVar("M", bound=c.Model)
ROLE_TYPES = (ids.T_VM, ids.T_PAAS_ROLE)


def models(tx: Tx, sub: str, rtype: str, model: type[M]) -> list[M]:
    return [model.model_validate(r.doc) for r in tx.resources.query(sub, types=[rtype])]


def one(tx: Tx, key: str, rtype: str, model: type[M], missing: str) -> tuple[Row, M]:
    row = tx.resources.get(key)
    if row is None or row.type != rtype:
        raise NotFound(missing)
    return row, model.model_validate(row.doc)


def _deployment_view(tx: Tx, row: Row) -> DeploymentView:
    roles = [RoleView(c.Role.model_validate(r.doc), r.migration_state)
             for r in tx.resources.query(row.subscription_id, types=list(ROLE_TYPES), parent_key=row.key)]
    return DeploymentView(c.Deployment.model_validate(row.doc), roles)


def service(tx: Tx, sub: str, svc: str, embed: bool) -> ServiceView:
    row, hs = one(tx, ids.hosted_service_id(sub, svc), ids.T_HOSTED_SERVICE, c.HostedService,
                  f"The hosted service '{svc}' does not exist.")
    view = ServiceView(sub, hs)
    if embed:
        view.deployments = [_deployment_view(tx, d) for d in tx.resources.query(sub, types=[ids.T_DEPLOYMENT],
                                                                      parent_key=row.key)]
    return view


def services(tx: Tx, sub: str) -> list[ServiceView]:
    return [ServiceView(sub, hs) for hs in models(tx, sub, ids.T_HOSTED_SERVICE, c.HostedService)]


def deployment(tx: Tx, sub: str, svc: str, name: str) -> DeploymentView:
    row = tx.resources.get(ids.deployment_id(sub, svc, name))
    if row is None or row.type != ids.T_DEPLOYMENT:
        raise NotFound(msg.R02_DEPLOYMENT_NOT_FOUND.text(dep=name))
    return _deployment_view(tx, row)


def deployment_in_slot(tx: Tx, sub: str, svc: str, slot: str) -> DeploymentView:
    service(tx, sub, svc, embed=False)
    for row in tx.resources.query(sub, types=[ids.T_DEPLOYMENT], parent_key=ids.hosted_service_id(sub, svc)):
        if str(row.doc.get("slot", "")).lower() == slot.lower():
            return _deployment_view(tx, row)
    raise NotFound(f"No deployments were found in the {slot[:40]} slot of hosted service '{svc}'.")


def role(tx: Tx, sub: str, svc: str, dep: str, name: str) -> tuple[RoleView, c.Deployment]:
    dv = deployment(tx, sub, svc, dep)
    row = tx.resources.get(ids.role_id(sub, svc, dep, name))
    if row is None or row.type not in ROLE_TYPES:
        raise NotFound(f"The role '{name}' does not exist in deployment '{dep}'.")
    return RoleView(c.Role.model_validate(row.doc), row.migration_state), dv.deployment


def data_disk(tx: Tx, sub: str, svc: str, dep: str, name: str, lun: str) -> c.DataDisk:
    rv, _ = role(tx, sub, svc, dep, name)
    for d in rv.role.data_disks:
        if str(d.lun) == lun.strip():
            return d
    raise NotFound(f"No data disk is attached to LUN {lun[:10]} of virtual machine '{name}'.")


def vnets(tx: Tx, sub: str) -> list[VNetView]:
    used = {str(d["doc_virtual_network_name"] or "").lower()
            for d in tx.resources.project(sub, [ids.T_DEPLOYMENT], ["virtual_network_name"])}
    sites = {s.name.lower(): s for s in models(tx, sub, ids.T_LOCAL_SITE, c.LocalNetworkSite)}
    return [VNetView(c.VirtualNetworkSite.model_validate(r.doc), sites, r.name.lower() in used, r.migration_state)
            for r in tx.resources.query(sub, types=[ids.T_VNET])]


def storage(tx: Tx, sub: str, name: str) -> StorageView:
    row, account = one(tx, ids.storage_id(sub, name), ids.T_STORAGE, c.StorageAccount,
                       msg.R02_STORAGE_NOT_FOUND.text(name=name))
    return StorageView(sub, account, row.migration_state)


def storages(tx: Tx, sub: str) -> list[StorageView]:
    return [StorageView(sub, c.StorageAccount.model_validate(r.doc), r.migration_state)
            for r in tx.resources.query(sub, types=[ids.T_STORAGE])]
