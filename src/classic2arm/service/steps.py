"""The steps of prepare, commit and abort (spec §2): what each writes, through `sc.tx`, and where it may be made
durable (a yielded cursor). How and when it is committed is the runner's (`runner.py`): no step knows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from ..domain import classic as c
from ..domain import dataplane, rules
from ..domain import identity as ids
from ..domain.classic import MigrationState as S
from ..domain.state_machine import Op
from ..domain.translate import translate
from ..domain.units import Category, Phase, UnitKind, UnitRef
from ..store import Row, Tx
from . import addressing, check, codec, locks
from . import power as vm_power
from .errors import ServiceError
from .runner import Plan, StepContext
from .snapshot import LoadedUnit, load_unit

BATCH = 2000  # rows a step writes between two durable points

NAMES: dict[Op, tuple[str, ...]] = {
    Op.PREPARE: ("validate", "lock", "create", "dataplane", "finish"),
    Op.COMMIT: ("remove_classic", "unlock_arm", "finish"),
    Op.ABORT: ("remove_arm", "restore", "finish"),
}


def not_found(ref: UnitRef) -> ServiceError:
    code, text = ref.kind.not_found.render(dep=ref.name, name=ref.name)
    return ServiceError(code, text, 400 if code == "BadRequest" else 404)


def _load(sc: StepContext, tx: Tx) -> LoadedUnit:
    """The unit's rows, loaded once per transaction (nothing else can change them inside it)."""
    if sc.loaded is not None:
        return sc.loaded
    lu = load_unit(tx, sc.sub, sc.ref, sc.now, sc.source)
    if lu.root is None:
        raise not_found(sc.ref)
    sc.loaded = lu
    return lu


def _event(sc: StepContext, key: str, event: str, at: datetime, real: datetime, reason: str) -> dict[str, Any]:
    return {"subscription_id": sc.sub, "vm_key": key.lower(), "event": event, "at": at, "real_at": real,
            "operation_id": sc.op.id, "reason": reason}


# ---- prepare


def prepare_validate(sc: StepContext) -> None:
    lu = _load(sc, sc.tx)
    messages = rules.validate(lu.snapshot, Phase.PREPARE)
    errors = [m for m in messages if m.category == Category.ERROR]
    if errors:
        raise ServiceError("BadRequest", " ".join(m.message for m in errors), 400)


def _non_vnet_deployment(lu: LoadedUnit) -> bool:
    return lu.snapshot.ref.kind == UnitKind.DEPLOYMENT and all(
        not cs.deployment.virtual_network_name for cs in lu.snapshot.services)


def prepare_lock(sc: StepContext) -> None:
    tx = sc.tx
    lu = _load(sc, tx)
    rows = [*lu.members, *lu.kept]
    state = sc.interim(S.PREPARING.value, S.PREPARED.value)
    locked = tx.resources.set_columns([m.key for m in rows], rows=rows, lock_holder=sc.uid, migration_state=state)
    if locked == len(rows):  # the VMs as they now are, for the data-plane step (if in this transaction)
        sc.locked_vms = {m.key: replace(m, version=m.version + 1, lock_holder=sc.uid, migration_state=state)
                         for m in lu.members if m.type == ids.T_VM}
    doc = dict(sc.unit.doc)
    doc["kept"] = [k.key for k in lu.kept]
    # (its VMs, for reports after commit, when its classic side and their count are gone)
    doc["vms"] = sum(1 for m in lu.members if m.type == ids.T_VM)
    doc["locked_as"] = state  # (what finish still has to move on)
    if check.SEEN_KEY not in doc:  # what prepare saw, for `check` and the console without a snapshot
        doc[check.SEEN_KEY] = check.comparable(lu.snapshot)
    if _non_vnet_deployment(lu) and "power_before" not in doc:  # a retried prepare keeps the original states
        doc["power_before"] = {m.key: [m.doc.get("instance_status"), m.doc.get("power_state")]
                               for m in lu.members if m.type == ids.T_VM}
    sc.unit.doc = doc
    sc.save_unit()


def _translated_rows(tx: Tx, sc: StepContext) -> list[Row]:
    lu = _load(sc, tx)
    # Classic VNet-to-VNet is two IPsec tunnels to local sites that stand for the other VNet; the translation
    # recognises them by the other VNets' address spaces and links the gateways instead (deep dive, row 24).
    site = lu.snapshot.vnet
    peers: dict[str, list[str]] = {}
    if site is not None and site.gateway is not None and site.gateway.connections:  # (only then: a read of all)
        peers = {r.name: list(r.doc.get("address_space") or []) for r in tx.resources.query(sc.sub, types=[ids.T_VNET])}
    result = translate(lu.snapshot, peer_vnets=peers)
    resources = [*result.resource_groups, *result.resources]
    existing_subnets: dict[str, str] = {}
    taken: dict[str, set[str]] = {}
    vnet = lu.snapshot.arm.existing_vnet
    if vnet is not None:
        for sn in vnet.properties.get("subnets", []):
            existing_subnets[str(sn.get("id", "")).lower()] = str(sn.get("properties", {}).get("addressPrefix"))
        for nic in tx.resources.query(sc.sub, types=["Microsoft.Network/networkInterfaces"]):
            if nic.lock_holder == sc.uid:
                continue
            for cfg in nic.doc.get("properties", {}).get("ipConfigurations", []):
                props = cfg.get("properties", {})
                sid = str((props.get("subnet") or {}).get("id", "")).lower()
                if props.get("privateIPAddress"):
                    taken.setdefault(sid, set()).add(props["privateIPAddress"])
    addressing.allocate(resources, existing_subnets, taken)
    return [codec.arm_row(res, migration_state=S.PREPARED.value, lock_holder=sc.uid) for res in resources]


def prepare_create(sc: StepContext) -> Iterator[int]:
    """Create the ARM side in batches, durable from the cursor on; upserts make a batch that was running when
    the process died harmless to repeat."""
    with sc.reading() as tx:
        rows = _translated_rows(tx, sc)
    cursor, total = sc.cursor, len(rows)
    while cursor < total:
        batch = rows[cursor:cursor + BATCH]
        tx = sc.tx
        # A first attempt has nothing to replace: skip the upsert's look-up.
        if cursor == 0 and (sc.fresh or not tx.resources.keys(lock_holder=sc.uid, model=ids.ARM)):
            tx.resources.insert(batch)
        else:
            tx.resources.upsert(batch)
        cursor += len(batch)
        sc.report("create", cursor, total)
        if cursor < total:
            yield cursor


def prepare_dataplane(sc: StepContext) -> None:
    """VMs outside a VNet are stopped and deallocated, and restarted on the ARM side (spec §1.1 unit A)."""
    tx, now = sc.tx, sc.now
    before = sc.unit.doc.get("power_before") or {}
    if sc.locked_vms is not None and before.keys() <= sc.locked_vms.keys():
        rows = {k: sc.locked_vms[k] for k in before}  # locked a moment ago in this transaction: no need to read
    else:
        rows = tx.resources.get_many(before)
    changed, events = [], []
    real = datetime.now(UTC)
    for key, row in rows.items():
        status, _power = before[key]
        if row.doc.get("instance_status") == c.InstanceStatus.STOPPED_DEALLOCATED.value:
            continue
        changed.append(row)
        if status not in (c.InstanceStatus.STOPPED_VM.value, c.InstanceStatus.STOPPED_DEALLOCATED.value):
            # a running VM: one window from the classic stop/deallocate to the start on the ARM side
            events.append(_event(sc, key, "down", now, real, "prepare: stop and deallocate (classic)"))
            events.append(_event(sc, key, "up", now + dataplane.restart_window(), datetime.now(UTC),
                                 "prepare: started in ARM"))
    vm_power.change(tx, sc.sub, [(row, c.InstanceStatus.STOPPED_DEALLOCATED, c.PowerState.STOPPED)
                                 for row in changed])
    tx.timeline.add(events)


def prepare_finish(sc: StepContext) -> None:
    """The classic rows the lock step stamped Preparing become Prepared (nothing to do when it could stamp them
    Prepared; no query then either, which would write a batch's buffered rows early)."""
    doc = dict(sc.unit.doc)
    if doc.pop("locked_as", None) != S.PREPARED.value:
        tx = sc.tx
        tx.resources.set_columns(tx.resources.keys(lock_holder=sc.uid, model=ids.CLASSIC,
                                                   migration_state=S.PREPARING.value),
                                 migration_state=S.PREPARED.value)
    sc.unit.doc = doc
    sc.save_unit()


# ---- commit


def commit_remove_classic(sc: StepContext) -> Iterator[int]:
    """Remove the classic representation (kept: cloned NSGs/route tables, which are only unlocked), the disks
    attached to its VMs with them (they hold their VM's lock, see locks.py)."""
    cloned = set(sc.unit.doc.get("kept", []))  # NSGs/route tables cloned, not moved
    while True:
        tx = sc.tx
        keys = tx.resources.keys(lock_holder=sc.uid, model=ids.CLASSIC)
        kept = [k for k in keys[:BATCH] if k in cloned]
        gone = [k for k in keys[:BATCH] if k not in cloned]
        tx.resources.set_columns(kept, lock_holder=None, migration_state=None)
        tx.resources.delete(locks.attached_disks(tx, gone) + gone)
        sc.report("remove classic", len(kept) + len(gone), len(keys))
        if len(keys) <= BATCH:
            return
        yield 0


def _unlock(sc: StepContext, model: str) -> Iterator[int]:
    """Release the unit's locks on the rows of one model, a batch per checkpoint."""
    while True:
        tx = sc.tx
        keys = tx.resources.keys(lock_holder=sc.uid, model=model)
        tx.resources.set_columns(keys[:BATCH], lock_holder=None, migration_state=None)
        if len(keys) <= BATCH:
            return
        yield 0


def unlock_arm(sc: StepContext) -> Iterator[int]:
    return _unlock(sc, ids.ARM)


def commit_finish(sc: StepContext) -> None:
    """Nothing more to write: the runner marks the unit Committed with the operation's end."""


# ---- abort


def abort_remove_arm(sc: StepContext) -> Iterator[int]:
    while True:
        tx = sc.tx
        keys = tx.resources.keys(lock_holder=sc.uid, model=ids.ARM)
        tx.resources.delete(keys[:BATCH])
        sc.report("remove ARM resources", min(BATCH, len(keys)), len(keys))
        if len(keys) <= BATCH:
            return
        yield 0


def abort_restore(sc: StepContext) -> None:
    """Give VMs that prepare deallocated their power state back (their ARM twin stops, classic restarts)."""
    tx, now = sc.tx, sc.now
    before = sc.unit.doc.get("power_before") or {}
    rows = tx.resources.get_many(before)
    changed, events = [], []
    for key, row in rows.items():
        status, power = before[key]
        if row.doc.get("instance_status") == status:
            continue
        down_in_arm = status not in (c.InstanceStatus.STOPPED_VM.value, c.InstanceStatus.STOPPED_DEALLOCATED.value)
        changed.append((row, status, power))
        if down_in_arm:
            events.append(_event(sc, key, "down", now, datetime.now(UTC), "abort: ARM VM removed"))
            events.append(_event(sc, key, "up", now + dataplane.restart_window(), datetime.now(UTC),
                                 "abort: restarted (classic)"))
    vm_power.change(tx, sc.sub, changed)
    tx.timeline.add(events)


def abort_finish(sc: StepContext) -> Iterator[int]:
    """Unlock the classic side; the last batch goes with the unit's Aborted (the runner's end of the operation,
    same transaction), so classic writes stay refused for as long as the unit says Aborting (spec §2.3)."""
    return _unlock(sc, ids.CLASSIC)


PLAN = Plan(NAMES, {
    (Op.PREPARE, "validate"): prepare_validate, (Op.PREPARE, "lock"): prepare_lock,
    (Op.PREPARE, "create"): prepare_create, (Op.PREPARE, "dataplane"): prepare_dataplane,
    (Op.PREPARE, "finish"): prepare_finish,
    (Op.COMMIT, "remove_classic"): commit_remove_classic, (Op.COMMIT, "unlock_arm"): unlock_arm,
    (Op.COMMIT, "finish"): commit_finish,
    (Op.ABORT, "remove_arm"): abort_remove_arm, (Op.ABORT, "restore"): abort_restore,
    (Op.ABORT, "finish"): abort_finish,
})
