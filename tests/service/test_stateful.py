"""A stateful (hypothesis) test of the migration service against an independent model of every unit.

The machine imports a small generated estate and drives random validate / prepare / commit / abort calls (with
injected transient faults), classic writes (start/stop VM, re-import of a classic object) and ARM writes on what
prepare created. After every step it checks the store invariants, the state `status.status` reports for every
unit against the model, and that every refusal carried exactly the documented code and text (spec §2.3, §4.2
R44–R51).

Also checked: VM power states (non-VNet prepare deallocates, abort restores), which classic VMs and which ARM rows
each unit holds locked, and that validate leaves every row and unit untouched.

Regression tests at the end pin three bugs this machine found (all fixed):
1. a commit that failed after its classic side was removed couldn't be retried (`migration.start` answered not found);
2. committing a standalone NSG / route table kept its classic root;
3. a prepare retried after failing past its data-plane step forgot the VMs' power state, so abort couldn't restore it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from invariants import check_invariants

from classic2arm.domain import arm as armt
from classic2arm.domain import classic as c
from classic2arm.domain import generator
from classic2arm.domain import identity as ids
from classic2arm.domain.arm import ArmResource
from classic2arm.domain.estate import Estate
from classic2arm.domain.media import account_of
from classic2arm.domain.state_machine import Op
from classic2arm.domain.units import Destination, UnitKind, UnitRef
from classic2arm.service import arm_writes, classic_writes, clock, estate, faults, migration, status, world_clock
from classic2arm.service.context import AppContext
from classic2arm.service.errors import Locked, NotFound, ServiceError
from classic2arm.service.snapshot import unit_id

NEW = Destination("New")
SEEDS = (1, 2, 3, 4, 5, 7)
SOURCE = "reimport"

# Kind words of the refusal texts (catalogue R45/R46 "…_UNIT" entries).
WORD = {UnitKind.VNET: "Virtual Network", UnitKind.STORAGE: "Storage account", UnitKind.RESERVED_IP: "Reserved IP",
        UnitKind.NSG: "Network Security Group", UnitKind.ROUTE_TABLE: "Route Table"}

FAULT_CODES = {"R47": "InternalError", "R47-retry": "InternalError", "R47-network": "InternalError",
               "R48": "DeploymentFailed", "R49": "XrpVirtualNetworkMigrationError",
               "R49-unknown": "UnknownExceptionInEndExecute"}
STEPS = {Op.PREPARE: ("validate", "lock", "create", "dataplane", "finish"),
         Op.COMMIT: ("remove_classic", "unlock_arm", "finish"),
         Op.ABORT: ("remove_arm", "restore", "finish")}
# R44's kind words per ARM type (literal; anything else is "resource").
ARM_WORD = {armt.VM: "virtual machine", armt.NIC: "network interface", armt.LOAD_BALANCER: "load balancer",
            armt.PUBLIC_IP: "public IP address", armt.VNET: "virtual network", armt.STORAGE_ACCOUNT: "storage account",
            armt.AVAILABILITY_SET: "availability set"}
R51 = "Management operations on VM are disallowed because migration is in progress"

# An injected fault: (step index, modulo the operation's steps; error kind), or none (three times in four).
FAULTS = st.none() | st.none() | st.none() | st.tuples(st.integers(0, 4), st.sampled_from(sorted(FAULT_CODES)))

Key = tuple[str, str, str | None]  # (kind, name, service): how status() names a unit
VmKey = tuple[str, str, str]  # (service, deployment, role)


# --------------------------------------------------------------------------- expected texts (literal)


def not_prepared(ref: UnitRef) -> str:
    if ref.kind == UnitKind.DEPLOYMENT:
        return f"Deployment {ref.name} in HostedService {ref.service} has not been prepared for Migration."
    return f"{WORD[ref.kind]} {ref.name} has not been prepared for Migration."


def in_process(ref: UnitRef, what: str) -> str:
    if ref.kind == UnitKind.DEPLOYMENT:
        return (f"Migration of Deployment {ref.name} in HostedService {ref.service} is in the process of being "
                f"{what} and cannot be changed until it completes successfully.")
    return (f"Migration of {WORD[ref.kind]} {ref.name} is in the process of being {what} and cannot be changed "
            "until it completes successfully.")


def no_abort(ref: UnitRef) -> str:
    word = "Deployment" if ref.kind == UnitKind.DEPLOYMENT else WORD[ref.kind]
    return (f"Migration of {word} {ref.name} has been committed or a commit was attempted; it can't be aborted. "
            "Retry the commit.")


def not_found(ref: UnitRef) -> tuple[str, str]:
    if ref.kind == UnitKind.DEPLOYMENT:
        return "ResourceNotFound", f"The deployment name '{ref.name}' does not exist."
    if ref.kind == UnitKind.VNET:
        return "BadRequest", (f"Virtual network '{ref.name}' not found. Either it does not exist or it is an Azure "
                              "Resource Manager resource, which cannot be used with Cloud Services.")
    noun = {UnitKind.STORAGE: "storage account", UnitKind.RESERVED_IP: "reserved IP",
            UnitKind.NSG: "network security group", UnitKind.ROUTE_TABLE: "route table"}[ref.kind]
    return "ResourceNotFound", f"The {noun} '{ref.name}' was not found."


def locked_validate_text(ref: UnitRef) -> str | None:
    """R50 as validate reports it for a locked unit (None: only the generic suffix is pinned)."""
    if ref.kind == UnitKind.DEPLOYMENT:
        return (f"Deployment {ref.name} in HostedService {ref.service} is in the process of being migrated and "
                "hence cannot be changed.")
    if ref.kind in (UnitKind.VNET, UnitKind.STORAGE):
        return f"{WORD[ref.kind]} {ref.name} is in the process of being migrated and hence cannot be changed"
    return None


def blocked_prefix(ref: UnitRef) -> str:
    """How a prepare whose own rules fail (R42 / R33) starts its error message."""
    if ref.kind == UnitKind.STORAGE:
        return f"Storage account {ref.name} has classic disks or images that must be deleted or migrated first."
    word = {UnitKind.RESERVED_IP: "Reserved IP", UnitKind.NSG: "Network Security Group",
            UnitKind.ROUTE_TABLE: "Route Table"}[ref.kind]
    return f"{word} {ref.name} is associated with "


def fault_message_ok(error: str, step: str, message: str | None) -> bool:
    text = message or ""
    if error == "R47":
        return text == "Internal server error"
    if error == "R47-retry":
        return text == "The server encountered an internal error. Retry the request."
    if error == "R47-network":
        return text == ("The server encountered an unexpected error while trying to allocate network resources for "
                        "the cloud service. Retry the request.")
    if error == "R48":
        return text.startswith(f"Template {step.replace('.', '-')}-template deployment failed. CorrelationId=")
    if error == "R49":
        return text == "XrpVirtualNetworkMigrationError: Virtual network migration failure."
    return text == f"UnknownExceptionInEndExecute: step {step} failed"


# --------------------------------------------------------------------------- the model


@dataclass
class UnitModel:
    ref: UnitRef
    vms: list[VmKey] = field(default_factory=list)  # classic VMs that are members of the unit
    non_vnet: bool = False  # a deployment outside a VNet: prepare deallocates its VMs
    blockers: set[Key] = field(default_factory=set)  # units that must be committed before prepare passes rules
    forever_blocked: bool = False  # a rule that nothing in the machine resolves (unattached disk, foreign rip)
    owner: Key | None = None  # reserved IP that moves with (is removed by) this unit
    users: set[Key] = field(default_factory=set)  # units that lock this NSG / route table / reserved IP too
    # dynamic
    state: str | None = None
    commit_attempted: bool = False
    has_row: bool = False  # the unit table knows it (status lists it even when its root is gone)
    gone: bool = False  # the classic root no longer exists
    locked: bool = False  # classic members hold the unit's lock
    arm_exists: bool = False
    arm_locked: bool = False
    power_before: dict[VmKey, str] = field(default_factory=dict)

    @property
    def key(self) -> Key:
        return (self.ref.kind.value, self.ref.name, self.ref.service)


def _ref(kind: str, name: str, service: str | None) -> UnitRef:
    k = UnitKind(kind)
    return UnitRef(k, name, service, NEW if k == UnitKind.DEPLOYMENT else None)




class MigrationMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="c2a-stateful-"))
        self.ctx: AppContext | None = None
        self.units: dict[Key, UnitModel] = {}
        self.power: dict[VmKey, str] = {}
        self.vm_unit: dict[VmKey, Key] = {}
        self.gen: Estate = Estate()
        self.arm_owner: dict[str, Key] = {}  # ARM key -> unit whose prepare created it
        self.arm_deleted: set[str] = set()
        self.sub = ""
        self.ran: set[VmKey] = set()

    # ------------------------------------------------------------------ set-up

    @initialize(seed=st.sampled_from(SEEDS), n=st.integers(30, 40), keep_orphans=st.booleans(),
                premigrated=st.integers(0, 3))
    def setup(self, seed: int, n: int, keep_orphans: bool, premigrated: int) -> None:
        """`premigrated` > 1: every VM unit (deployments, VNets) is migrated first, so that the machine's steps
        reach the storage accounts, reserved IPs, NSGs and route tables those units held up."""
        ctx = AppContext.open(f"sqlite:///{self.tmp / 's.db'}")
        self.ctx = ctx
        world_clock.set_clock(ctx, clock.fixed(clock.parse_when("2023-06-01")))
        self.gen = generator.generate(vms=n, vnets=2, seed=seed, blockers=0.0)
        pristine = generator.generate(vms=n, vnets=2, seed=seed, blockers=0.0)  # import mutates its input
        estate.import_estate(ctx, self.gen, source="gen")
        self.gen = pristine
        with ctx.store.tx() as tx:
            self.sub = ctx.subscription_id(tx)
        self._orphans(keep_orphans)
        for u in status.status(ctx):
            ref = _ref(u.kind, u.name, u.service)
            self.units[(u.kind, u.name, u.service)] = UnitModel(ref)
        self._membership()
        with ctx.store.read() as tx:
            for row in tx.query(self.sub, types=[ids.T_VM]):
                self.power[(row.doc["service_name"], row.doc["deployment_name"], row.name)] = str(row.status)
        self.ran = {vk for vk, st_ in self.power.items() if st_ == "ReadyRole"}
        self.check()
        if premigrated > 1:
            for key in sorted(self.units, key=str):
                if key[0] in ("deployment", "vnet"):
                    self._run_op(self.units[key], Op.PREPARE, None)
                    self._run_op(self.units[key], Op.COMMIT, None)
                    self.check()

    def _orphans(self, keep: bool) -> None:
        """Unattached disks and images block a storage account's prepare (R42). Keep them in the first account
        that has any (or in none), and delete the rest through the store, as the spec's ordering advice says."""
        assert self.ctx is not None
        with self.ctx.store.tx() as tx:
            rows = [r for r in tx.query(self.sub, types=[ids.T_DISK]) if not r.doc.get("role_name")]
            rows += tx.query(self.sub, types=[ids.T_OS_IMAGE, ids.T_VM_IMAGE])
            accounts = sorted({a for r in rows for a in self._accounts_of(r.doc)})
            kept = accounts[:1] if keep else []
            tx.delete([r.key for r in rows if not set(self._accounts_of(r.doc)) & set(kept)])
        self.orphan_accounts = set(kept)

    @staticmethod
    def _accounts_of(doc: dict[str, Any]) -> list[str]:
        links = [doc["media_link"]] if doc.get("media_link") else []
        return [account_of(x) for x in links + list(doc.get("media_links", []))]

    def _membership(self) -> None:
        """Who belongs to / blocks whom, from the generated estate (independent of the service's loader)."""
        g = self.gen
        dep_unit: dict[tuple[str, str], Key] = {}
        for d in g.deployments:
            if d.virtual_network_name:
                key: Key = ("vnet", next(v.name for v in g.virtual_networks
                                         if v.name.lower() == d.virtual_network_name.lower()), None)
            else:
                key = ("deployment", d.name, d.service_name)
                self.units[key].non_vnet = True
            dep_unit[(d.service_name.lower(), d.name.lower())] = key
            for rip in [d.reserved_ip_name, *(v.reserved_ip_name for v in d.virtual_ips)]:
                if rip:
                    rkey = ("reserved-ip", next(r.name for r in g.reserved_ips if r.name.lower() == rip.lower()),
                            None)
                    self.units[rkey].owner = key
                    self.units[rkey].users.add(key)
        for role in g.roles:
            if not role.is_vm:
                continue
            vk = (role.service_name, role.deployment_name, role.name)
            ukey = dep_unit[(role.service_name.lower(), role.deployment_name.lower())]
            self.units[ukey].vms.append(vk)
            self.vm_unit[vk] = ukey
            for nsg in [role.network_security_group, *(n.network_security_group for n in role.secondary_nics)]:
                if nsg:
                    self._blocked(("nsg", nsg), ukey)
        for v in g.virtual_networks:
            for s in v.subnets:
                if s.network_security_group:
                    self._blocked(("nsg", s.network_security_group), ("vnet", v.name, None))
                if s.route_table:
                    self._blocked(("route-table", s.route_table), ("vnet", v.name, None))
        for disk in g.disks:
            acct = account_of(disk.media_link)
            skey = next((k for k in self.units if k[0] == "storage" and k[1].lower() == acct), None)
            if skey is None:
                continue
            if disk.role_name:
                self.units[skey].blockers.add(dep_unit[((disk.hosted_service_name or "").lower(),
                                                        (disk.deployment_name or "").lower())])
        for skey, u in self.units.items():
            if skey[0] == "storage" and skey[1].lower() in self.orphan_accounts:
                u.forever_blocked = True
            if skey[0] == "reserved-ip":
                ip = next(r for r in g.reserved_ips if r.name == skey[1])
                if ip.service_name:
                    if u.owner is None:
                        u.forever_blocked = True
                    else:
                        u.blockers.add(u.owner)

    def _blocked(self, target: tuple[str, str], by: Key) -> None:
        key = next(k for k in self.units if k[0] == target[0] and k[1].lower() == target[1].lower())
        self.units[key].blockers.add(by)
        self.units[key].users.add(by)

    def teardown(self) -> None:
        if self.ctx is not None:
            self.ctx.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # ------------------------------------------------------------------ helpers

    @property
    def app(self) -> AppContext:
        assert self.ctx is not None
        return self.ctx

    def pick_unit(self, data: st.DataObject) -> UnitModel:
        return self.units[data.draw(st.sampled_from(sorted(self.units, key=str)), label="unit")]

    def rows_snapshot(self) -> tuple[dict[str, tuple[Any, ...]], dict[str, tuple[Any, ...]]]:
        with self.app.store.read() as tx:
            rows = {r.key: (r.version, r.lock_holder, r.migration_state, r.status) for r in tx.query()}
            units = {u["id"]: (u["state"], u["commit_attempted"], u["operation_id"]) for u in tx.list_units()}
        return rows, units

    def arm_count(self) -> int:
        with self.app.store.read() as tx:
            return tx.count(self.sub, model="arm")

    def holders_locked(self, u: UnitModel) -> bool:
        """Is the unit's classic root locked (by itself, or by a unit it moves with / is used by)?"""
        return u.locked or any(self.units[k].locked for k in u.users)

    def blocked(self, u: UnitModel) -> bool:
        # a blocker stops blocking once its classic side is gone (a commit past remove_classic, even if it failed)
        return u.forever_blocked or any(not self.units[b].gone for b in u.blockers)

    def refused(self, call: Callable[[], Any], code: str, text: str | None, prefix: str | None = None) -> None:
        with pytest.raises(ServiceError) as err:
            call()
        assert err.value.code == code, (err.value.code, err.value.message)
        if text is not None:
            assert err.value.message == text
        if prefix is not None:
            assert err.value.message.startswith(prefix), err.value.message

    # ------------------------------------------------------------------ migration operations

    @rule(data=st.data())
    def validate(self, data: st.DataObject) -> None:
        u = self.pick_unit(data)
        before = self.rows_snapshot()
        result = migration.validate(self.app, u.ref)
        assert self.rows_snapshot() == before, "validate changed the store"
        texts = [m.message for m in result.messages]
        if u.gone and u.state != "Committing":
            assert texts == [not_found(u.ref)[1]]
        elif u.state in ("Prepared", "PrepareFailed", "Committing", "Aborting"):
            expected = locked_validate_text(u.ref)
            if expected is not None:
                assert texts == [expected]
            else:  # reserved IP / NSG / route table: R50 with the words the classic tools use
                words = {UnitKind.RESERVED_IP: "Reserved IP", UnitKind.NSG: "Network Security Group",
                         UnitKind.ROUTE_TABLE: "Route Table"}
                assert texts == [f"{words[u.ref.kind]} {u.ref.name} is in the process of being migrated and hence "
                                 "cannot be changed"]
        else:
            assert not result.has_errors or self.blocked(u), texts

    @rule(data=st.data(), op=st.sampled_from([Op.PREPARE, Op.COMMIT, Op.ABORT]), fault=FAULTS)
    def operate(self, data: st.DataObject, op: Op, fault: tuple[int, str] | None) -> None:
        """Any operation on any unit, in or out of order."""
        self._run_op(self.pick_unit(data), op, fault)

    @rule(data=st.data(), fault=FAULTS)
    def advance(self, data: st.DataObject, fault: tuple[int, str] | None) -> None:
        """The next operation the migration guide calls for: this gets sequences deep enough to commit VM units
        and then the storage accounts / NSGs they held up."""
        self._advance(data, fault)

    @rule(data=st.data())
    def advance_cleanly(self, data: st.DataObject) -> None:
        self._advance(data, None)

    def _advance(self, data: st.DataObject, fault: tuple[int, str] | None) -> None:
        live = sorted((k for k, u in self.units.items() if not u.gone), key=str)
        if not live:
            return
        u = self.units[data.draw(st.sampled_from(live), label="unit")]
        op = {"Prepared": Op.COMMIT, "Committing": Op.COMMIT, "Aborting": Op.ABORT}.get(u.state or "", Op.PREPARE)
        if op == Op.COMMIT and u.state == "Prepared" and data.draw(st.integers(0, 4), label="abort instead") == 0:
            op = Op.ABORT
        self._run_op(u, op, fault)

    def _run_op(self, u: UnitModel, op: Op, fault: tuple[int, str] | None) -> None:
        step = None
        if fault is not None:
            steps = STEPS[op]
            name = steps[fault[0] % len(steps)]
            step = f"{op.value}.{name}"
            faults.set_fault(self.app, step, fault[1])
        try:
            {Op.PREPARE: self._prepare, Op.COMMIT: self._commit, Op.ABORT: self._abort}[op](u, step, fault)
        finally:
            faults.clear(self.app)

    def _fault_index(self, op: Op, step: str | None) -> int:
        return STEPS[op].index(step.split(".")[1]) if step else len(STEPS[op])

    def _check_failed(self, view: Any, step: str | None, fault: tuple[int, str] | None) -> None:
        event(f"fault {step}")
        assert view.status == "Failed", view
        assert fault is not None and step is not None
        assert view.error_code == FAULT_CODES[fault[1]], view
        assert fault_message_ok(fault[1], step, view.error_message), view.error_message

    def _prepare(self, u: UnitModel, step: str | None, fault: tuple[int, str] | None) -> None:
        ref = u.ref
        call: Callable[[], Any] = lambda: migration.execute(self.app, Op.PREPARE, ref)  # noqa: E731
        if u.gone and u.state != "Committing":
            self.refused(call, *not_found(ref))
            return
        if u.state == "Aborting":
            self.refused(call, "BadRequest", in_process(ref, "aborted"))
            return
        if u.state in ("Committing", "Committed"):
            self.refused(call, "BadRequest", in_process(ref, "committed"))
            return
        if u.state == "Prepared":
            arm = self.arm_count()
            view = call()
            assert view.status == "Succeeded", view
            assert self.arm_count() == arm, "a repeated prepare duplicated ARM resources"
            return
        arm = self.arm_count()
        view = call()
        u.has_row = True
        state_before = u.state if u.state != "PrepareFailed" else None
        index = self._fault_index(Op.PREPARE, step)
        if self.blocked(u) and index > 0:
            assert view.status == "Failed" and view.error_code == "BadRequest", view
            assert (view.error_message or "").startswith(blocked_prefix(ref)), view.error_message
            assert self.arm_count() == arm
        elif index < len(STEPS[Op.PREPARE]):
            self._check_failed(view, step, fault)
        else:
            assert view.status == "Succeeded", view
        ran = 0 if self.blocked(u) else index  # steps that completed
        if ran >= 2 and not u.locked:
            u.power_before = {vk: self.power[vk] for vk in u.vms} if u.non_vnet else {}
        if ran >= 2:
            u.locked = True
        if ran >= 3:
            u.arm_exists = u.arm_locked = True
        if ran >= 4 and u.non_vnet:
            for vk in u.vms:
                self.power[vk] = "StoppedDeallocated"
        if view.status == "Succeeded":
            event(f"prepared {u.ref.kind.value}")
            u.state = "Prepared"
            self._record_arm(u)
        else:
            u.state = "PrepareFailed" if u.locked else state_before

    def _record_arm(self, u: UnitModel) -> None:
        with self.app.store.read() as tx:
            rows = tx.query(self.sub, model="arm", lock_holder=unit_id(self.sub, u.ref))
        assert rows, f"prepared {u.key} has no ARM resources"
        for r in rows:
            if r.type != armt.RESOURCE_GROUP:
                self.arm_owner[r.key] = u.key
                self.arm_deleted.discard(r.key)

    def _commit(self, u: UnitModel, step: str | None, fault: tuple[int, str] | None) -> None:
        ref = u.ref
        call: Callable[[], Any] = lambda: migration.execute(self.app, Op.COMMIT, ref)  # noqa: E731
        if u.state == "Committed":
            assert call().status == "Succeeded"
            return
        if u.gone and u.state != "Committing":  # a failed commit may have removed the classic side already
            self.refused(call, *not_found(ref))
            return
        if u.state in (None, "Aborted", "PrepareFailed"):
            self.refused(call, "BadRequest", not_prepared(ref))
            return
        if u.state == "Aborting":
            self.refused(call, "BadRequest", in_process(ref, "aborted"))
            return
        view = call()
        u.commit_attempted = True
        index = self._fault_index(Op.COMMIT, step)
        if index >= 1:  # remove_classic ran: the classic side is gone whatever happens next
            u.gone, u.locked = True, False
            for vk in u.vms:
                self.power.pop(vk, None)
            for other in self.units.values():
                if other.owner == u.key:
                    other.gone = True
        if index >= 2:  # unlock_arm ran
            u.arm_locked = False
        if index < len(STEPS[Op.COMMIT]):
            self._check_failed(view, step, fault)
            u.state = "Committing"
            return
        assert view.status == "Succeeded", view
        event(f"committed {u.ref.kind.value}")
        u.state, u.arm_locked = "Committed", False

    def _abort(self, u: UnitModel, step: str | None, fault: tuple[int, str] | None) -> None:
        ref = u.ref
        call: Callable[[], Any] = lambda: migration.execute(self.app, Op.ABORT, ref)  # noqa: E731
        if u.gone and u.state != "Committing":
            self.refused(call, *not_found(ref))
            return
        if u.state in (None, "Aborted"):
            self.refused(call, "BadRequest", not_prepared(ref))
            return
        if u.state == "Committing" or u.commit_attempted:
            self.refused(call, "BadRequest", no_abort(ref))
            return
        view = call()
        index = self._fault_index(Op.ABORT, step)
        if index >= 1:
            u.arm_exists = u.arm_locked = False
            for key, owner in self.arm_owner.items():
                if owner == u.key:
                    self.arm_deleted.add(key)
        if index >= 2:
            self.power.update(u.power_before)
        if index < len(STEPS[Op.ABORT]):
            self._check_failed(view, step, fault)
            u.state = "Aborting"
        else:
            assert view.status == "Succeeded", view
            event("aborted")
            u.state = "Aborted"
            u.locked = False  # unlocked together with the state change (the last step)

    # ------------------------------------------------------------------ classic writes

    @rule(data=st.data(), start=st.booleans())
    def vm_power(self, data: st.DataObject, start: bool) -> None:
        # Starting a VM that was stopped in the estate may surface running-VM rules (R19–R22: extensions that
        # report no status): legitimate, but outside this model. Only VMs that ran at import are started.
        pool = sorted(self.vm_unit) if not start else sorted(vk for vk in self.vm_unit if vk in self.ran)
        if not pool:
            return
        vk = data.draw(st.sampled_from(pool), label="vm")
        u = self.units[self.vm_unit[vk]]
        call: Callable[[], c.Role] = (lambda: classic_writes.start_vm(self.app, *vk)) if start else (
            lambda: classic_writes.stop_vm(self.app, *vk))
        if u.gone:
            with pytest.raises(NotFound) as nf:
                call()
            assert nf.value.message == (f"The virtual machine '{vk[2]}' does not exist in deployment '{vk[1]}' of "
                                        f"hosted service '{vk[0]}'.")
        elif u.locked:
            with pytest.raises(Locked) as lk:
                call()
            assert (lk.value.code, lk.value.message) == ("ConflictError", R51)
        else:
            role = call()
            self.power[vk] = "ReadyRole" if start else "StoppedDeallocated"
            assert role.instance_status.value == self.power[vk]

    @rule(data=st.data(), vm=st.booleans())
    def reimport(self, data: st.DataObject, vm: bool) -> None:
        u = self.pick_unit(data)
        if u.gone:
            return  # re-creating a committed object would start a fresh unit: out of this model's scope
        one = Estate()
        if vm and u.vms:
            vk = data.draw(st.sampled_from(u.vms), label="vm")
            role = next(r for r in self.gen.roles if (r.service_name, r.deployment_name, r.name) == vk)
            one.roles.append(role.model_copy(deep=True))
            row_id = ids.role_id(self.sub, *vk)
            locked = u.locked
        else:
            obj = self._root_object(u.ref)
            getattr(one, self._estate_list(u.ref.kind)).append(obj)
            row_id = u.ref.root_id(self.sub)
            locked = self.holders_locked(u)
        if locked:
            with pytest.raises(Locked) as lk:
                estate.import_estate(self.app, one, source=SOURCE)
            with self.app.store.read() as tx:
                row = tx.get(row_id)
            assert row is not None
            assert lk.value.message == (f"{SOURCE}: {row.id} is in the process of being migrated and hence cannot be "
                                        "changed")
        else:
            estate.import_estate(self.app, one, source=SOURCE)
            if one.roles:
                vk = (one.roles[0].service_name, one.roles[0].deployment_name, one.roles[0].name)
                self.power[vk] = one.roles[0].instance_status.value

    def _root_object(self, ref: UnitRef) -> c.Model:
        g = self.gen
        pools: dict[UnitKind, list[Any]] = {
            UnitKind.DEPLOYMENT: g.deployments, UnitKind.VNET: g.virtual_networks, UnitKind.STORAGE: g.storage_accounts,
            UnitKind.RESERVED_IP: g.reserved_ips, UnitKind.NSG: g.network_security_groups,
            UnitKind.ROUTE_TABLE: g.route_tables}
        obj = next(o for o in pools[ref.kind] if o.name == ref.name
                   and (ref.kind != UnitKind.DEPLOYMENT or o.service_name == ref.service))
        copy: c.Model = obj.model_copy(deep=True)
        return copy

    @staticmethod
    def _estate_list(kind: UnitKind) -> str:
        return {UnitKind.DEPLOYMENT: "deployments", UnitKind.VNET: "virtual_networks",
                UnitKind.STORAGE: "storage_accounts", UnitKind.RESERVED_IP: "reserved_ips",
                UnitKind.NSG: "network_security_groups", UnitKind.ROUTE_TABLE: "route_tables"}[kind]

    # ------------------------------------------------------------------ ARM writes

    @rule(data=st.data(), delete=st.booleans())
    def arm_write(self, data: st.DataObject, delete: bool) -> None:
        candidates = sorted(k for k, owner in self.arm_owner.items()
                            if self.units[owner].state in ("Prepared", "Committed"))
        if not candidates:
            return
        key = data.draw(st.sampled_from(candidates), label="arm")
        u = self.units[self.arm_owner[key]]
        with self.app.store.read() as tx:
            row = tx.get(key)
        if key in self.arm_deleted:
            assert row is None
            if delete:
                with pytest.raises(NotFound):
                    arm_writes.delete(self.app, key)
            return
        assert row is not None, key
        if u.state == "Prepared":
            assert row.lock_holder and row.migration_state == "Prepared"
            call = (lambda: arm_writes.delete(self.app, row.id)) if delete else (
                lambda: arm_writes.put(self.app, ArmResource.model_validate(row.doc)))
            word = ARM_WORD.get(row.type, "resource")
            self.refused(call, "OperationNotAllowed",
                         f"The operation cannot be performed on {word} '{row.name}' because a migration is in "
                         f"progress. Commit the migration to start managing the {word}.")
        elif delete:
            arm_writes.delete(self.app, row.id)
            self.arm_deleted |= {k for k in self.arm_owner if k == key or k.startswith(key + "/")}
        else:
            arm_writes.put(self.app, ArmResource.model_validate(row.doc))

    # ------------------------------------------------------------------ after every step

    @invariant()
    def check(self) -> None:
        if self.ctx is None:
            return
        check_invariants(self.ctx)
        expected = {}
        for key, u in self.units.items():
            if not u.gone or u.has_row:
                expected[key] = u.state or "NotPrepared"
        got = {(s.kind, s.name, s.service): s.state for s in status.status(self.ctx)}
        assert got == expected, {k: (got.get(k), expected.get(k)) for k in got.keys() | expected.keys()
                                 if got.get(k) != expected.get(k)}
        with self.ctx.store.read() as tx:
            rows = {(r.doc["service_name"], r.doc["deployment_name"], r.name): r
                    for r in tx.query(self.sub, types=[ids.T_VM])}
        assert {vk: r.status for vk, r in rows.items()} == self.power
        for vk, r in rows.items():
            u = self.units[self.vm_unit[vk]]
            assert bool(r.lock_holder) == u.locked, (vk, r.lock_holder, u.state)
        with self.ctx.store.read() as tx:
            for u in self.units.values():
                held = tx.query(self.sub, model="arm", lock_holder=unit_id(self.sub, u.ref))
                assert bool(held) == u.arm_locked, (u.key, u.state, len(held))


# C2A_STATEFUL_EXAMPLES=500 for a deeper hunt; the default keeps the suite fast.
MigrationMachine.TestCase.settings = settings(
    max_examples=int(os.environ.get("C2A_STATEFUL_EXAMPLES", "25")), stateful_step_count=25, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
TestMigrationMachine = MigrationMachine.TestCase


# --------------------------------------------------------------------------- deterministic regressions

SUB = "00000000-0000-0000-0000-000000000001"


@pytest.fixture
def small(tmp_path: Path) -> Iterator[AppContext]:
    ctx = AppContext.open(f"sqlite:///{tmp_path / 'r.db'}")
    world_clock.set_clock(ctx, clock.fixed(clock.parse_when("2023-06-01")))
    estate.import_estate(ctx, generator.generate(vms=35, vnets=2, seed=1, blockers=0.0), source="gen")
    yield ctx
    ctx.close()


def _state(ctx: AppContext, ref: UnitRef) -> str:
    return next(u.state for u in status.status(ctx) if (u.kind, u.name) == (ref.kind.value, ref.name))


def _vm_status(ctx: AppContext, ref: UnitRef) -> dict[str, str | None]:
    with ctx.store.read() as tx:
        return {r.name: r.status for r in tx.query(SUB, types=[ids.T_VM], parent_key=ref.root_id(SUB))}


def _refused(call: Callable[[], Any]) -> ServiceError:
    with pytest.raises(ServiceError) as err:
        call()
    return err.value


def test_faulted_prepare_abort_and_commit_sequence(small: AppContext) -> None:
    """A sequence the machine explores, pinned: prepare fails after the data plane step, is retried without
    duplicating ARM resources, an abort fails on its last step and is retried, then a commit fails and is
    retried. Every refusal on the way carries the documented text."""
    ctx = small
    ref = UnitRef(UnitKind.DEPLOYMENT, "cs00003", "cs00003", NEW)
    vm = ("cs00003", "cs00003", "vm00003-1")
    running = _vm_status(ctx, ref)
    assert set(running.values()) == {"ReadyRole"}

    faults.set_fault(ctx, "prepare.dataplane", "R48")
    view = migration.execute(ctx, Op.PREPARE, ref)
    assert (view.status, view.error_code) == ("Failed", "DeploymentFailed")
    assert fault_message_ok("R48", "prepare.dataplane", view.error_message)
    assert _state(ctx, ref) == "PrepareFailed"
    check_invariants(ctx)
    err = _refused(lambda: migration.start(ctx, Op.COMMIT, ref))
    assert (err.code, err.message) == ("BadRequest", "Deployment cs00003 in HostedService cs00003 has not been "
                                                     "prepared for Migration.")
    err = _refused(lambda: classic_writes.start_vm(ctx, *vm))
    assert isinstance(err, Locked) and err.message == R51
    with ctx.store.read() as tx:
        arm_rows = tx.query(SUB, model="arm")
    arm_vm = next(r for r in arm_rows if r.type == armt.VM)
    err = _refused(lambda: arm_writes.put(ctx, ArmResource.model_validate(arm_vm.doc)))
    assert (err.code, err.message) == ("OperationNotAllowed", f"The operation cannot be performed on virtual machine "
                                       f"'{arm_vm.name}' because a migration is in progress. Commit the migration "
                                       "to start managing the virtual machine.")

    assert migration.execute(ctx, Op.PREPARE, ref).status == "Succeeded"
    with ctx.store.read() as tx:
        assert tx.count(SUB, model="arm") == len(arm_rows)
    assert set(_vm_status(ctx, ref).values()) == {"StoppedDeallocated"}
    assert migration.execute(ctx, Op.PREPARE, ref).status == "Succeeded"  # no-op on Prepared
    with ctx.store.read() as tx:
        assert tx.count(SUB, model="arm") == len(arm_rows)

    faults.set_fault(ctx, "abort.finish", "R49")
    view = migration.execute(ctx, Op.ABORT, ref)
    assert (view.status, view.error_code, view.error_message) == (
        "Failed", "XrpVirtualNetworkMigrationError", "XrpVirtualNetworkMigrationError: Virtual network migration "
                                                     "failure.")
    assert _state(ctx, ref) == "Aborting"
    check_invariants(ctx)
    err = _refused(lambda: migration.start(ctx, Op.PREPARE, ref))
    assert err.message == ("Migration of Deployment cs00003 in HostedService cs00003 is in the process of being "
                           "aborted and cannot be changed until it completes successfully.")
    assert migration.execute(ctx, Op.ABORT, ref).status == "Succeeded"
    assert _state(ctx, ref) == "Aborted" and _vm_status(ctx, ref) == running
    with ctx.store.read() as tx:
        assert tx.count(SUB, model="arm") == 0
    classic_writes.stop_vm(ctx, *vm)  # unlocked again

    assert migration.execute(ctx, Op.PREPARE, ref).status == "Succeeded"
    faults.set_fault(ctx, "commit.remove_classic", "R47-network")
    view = migration.execute(ctx, Op.COMMIT, ref)
    assert (view.status, view.error_code) == ("Failed", "InternalError")
    assert _state(ctx, ref) == "Committing"
    err = _refused(lambda: migration.start(ctx, Op.ABORT, ref))
    assert err.message == ("Migration of Deployment cs00003 has been committed or a commit was attempted; it can't "
                           "be aborted. Retry the commit.")
    err = _refused(lambda: migration.start(ctx, Op.PREPARE, ref))
    assert err.message == ("Migration of Deployment cs00003 in HostedService cs00003 is in the process of being "
                           "committed and cannot be changed until it completes successfully.")
    assert migration.execute(ctx, Op.COMMIT, ref).status == "Succeeded"
    assert migration.execute(ctx, Op.COMMIT, ref).status == "Succeeded"  # idempotent after the end
    assert _state(ctx, ref) == "Committed"
    check_invariants(ctx)
    for op in (Op.PREPARE, Op.ABORT):
        err = _refused(lambda op=op: migration.start(ctx, op, ref))  # type: ignore[misc]
        assert (err.code, err.message) == ("ResourceNotFound", "The deployment name 'cs00003' does not exist.")
    err = _refused(lambda: classic_writes.start_vm(ctx, *vm))
    assert isinstance(err, NotFound)
    arm_writes.put(ctx, ArmResource.model_validate(arm_vm.doc))  # unlocked after commit


def test_commit_retry_after_classic_side_removed(small: AppContext) -> None:
    ref = UnitRef(UnitKind.VNET, "vnet002")
    assert migration.execute(small, Op.PREPARE, ref).status == "Succeeded"
    faults.set_fault(small, "commit.unlock_arm", "R47")
    assert migration.execute(small, Op.COMMIT, ref).status == "Failed"
    assert _state(small, ref) == "Committing"
    assert migration.execute(small, Op.COMMIT, ref).status == "Succeeded"  # spec §2.3: "retry ok"


def test_standalone_nsg_commit_removes_the_classic_nsg(tmp_path: Path) -> None:
    ctx = AppContext.open(f"sqlite:///{tmp_path / 'n.db'}")
    world_clock.set_clock(ctx, clock.fixed(clock.parse_when("2023-06-01")))
    estate.import_estate(ctx, generator.generate(vms=35, vnets=2, seed=7, blockers=0.0), source="gen")
    try:
        vnet, nsg = UnitRef(UnitKind.VNET, "vnet002"), UnitRef(UnitKind.NSG, "vnet002-FrontEnd-nsg")
        for ref in (vnet, nsg):  # the NSG can migrate on its own once the VNet that used it is gone
            assert migration.execute(ctx, Op.PREPARE, ref).status == "Succeeded"
            assert migration.execute(ctx, Op.COMMIT, ref).status == "Succeeded"
        with ctx.store.read() as tx:
            assert tx.get(nsg.root_id(SUB)) is None
        check_invariants(ctx)
    finally:
        ctx.close()


def test_abort_after_retried_prepare_restores_power(small: AppContext) -> None:
    ref = UnitRef(UnitKind.DEPLOYMENT, "cs00003", "cs00003", NEW)
    running = _vm_status(small, ref)
    faults.set_fault(small, "prepare.finish", "R47")
    assert migration.execute(small, Op.PREPARE, ref).status == "Failed"
    assert migration.execute(small, Op.PREPARE, ref).status == "Succeeded"
    assert migration.execute(small, Op.ABORT, ref).status == "Succeeded"
    assert _vm_status(small, ref) == running
