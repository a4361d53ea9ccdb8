"""schemathesis against `/openapi/arm.json` on a real loopback server, with a valid token:

1. read-only operations (GET/HEAD and Resource Graph queries): never a 5xx, and the store is unchanged;
2. every operation, writes included: never a 5xx, and the server still answers afterwards.

Examples are bounded (hypothesis `max_examples`); the subscription path parameter is pinned to the
subscription the token is for so that requests get past authorisation into the handlers.
"""

from __future__ import annotations

import copy
from collections import Counter
from typing import Any

import httpx
import pytest
import schemathesis
from arm_env import SUB, Env
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error

READ_EXAMPLES = 6
WRITE_EXAMPLES = 4


def store_state(env: Env) -> list[tuple[Any, ...]]:
    with env.ctx.store.read() as tx:
        rows = [(r.key, r.version, r.lock_holder, r.migration_state) for r in tx.resources.query()]
        subs = [tuple(sorted(s.items())) for s in tx.subscriptions.all()]
    return [*rows, *map(tuple, subs)]


@pytest.fixture(scope="module")
def before(arm: Env) -> list[tuple[Any, ...]]:
    return store_state(arm)


@pytest.fixture(scope="module")
def arm_doc(arm: Env) -> dict[str, Any]:
    doc: dict[str, Any] = httpx.get(f"{arm.url}/openapi/arm.json", timeout=30).json()
    doc = copy.deepcopy(doc)
    doc["servers"] = [{"url": arm.url}]
    doc["components"]["parameters"]["SubscriptionId"]["schema"] = {"type": "string", "enum": [SUB]}
    return doc


def operations(env: Env, doc: dict[str, Any], read_only: bool) -> list[Any]:
    ops = [r.ok() for r in schemathesis.openapi.from_dict(doc).get_all_operations()]  # type: ignore[union-attr]
    if read_only:
        ops = [op for op in ops if op.method.upper() in ("GET", "HEAD")
               or (op.method.upper() == "POST" and "ResourceGraph" in op.path)]
    return ops


def fuzz(env: Env, doc: dict[str, Any], read_only: bool, examples: int) -> Counter[int]:
    """Every operation, `examples` generated cases each (schemathesis' pytest plugin does not run on
    pytest 9, so hypothesis drives its strategies directly); failures are collected, then reported."""
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    for op in operations(env, doc, read_only):

        @given(case=op.as_strategy())
        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None,
                  phases=[Phase.explicit, Phase.generate])
        def check(case: Any) -> None:
            response = case.call(base_url=env.url, headers={"Authorization": f"Bearer {env.token}"}, timeout=60)
            statuses[response.status_code] += 1
            case.validate_response(response, checks=[not_a_server_error])

        try:
            check()
        except Exception as exc:  # collect every failing operation, not just the first
            failures.append(f"{op.method.upper()} {op.path}: {str(exc)[:500]}")
    assert not failures, "\n".join(failures)
    return statuses


def test_read_only_operations_never_fail(arm: Env, arm_doc: dict[str, Any], before: list[tuple[Any, ...]]) -> None:
    assert len(operations(arm, arm_doc, True)) > 50
    statuses = fuzz(arm, arm_doc, True, READ_EXAMPLES)
    assert store_state(arm) == before
    assert statuses[200] and statuses[404] and not statuses[401], statuses  # 403: graph queries naming other subs


def test_every_operation_never_fails(arm: Env, arm_doc: dict[str, Any]) -> None:
    statuses = fuzz(arm, arm_doc, False, WRITE_EXAMPLES)
    assert statuses[200] and statuses[400] and statuses[404], statuses


def test_server_still_answers(arm: Env) -> None:
    with arm.client() as client:
        resp = client.get(f"/subscriptions/{SUB}/resourcegroups", params={"api-version": "2024-07-01"})
    assert resp.status_code == 200 and resp.json()["value"]
