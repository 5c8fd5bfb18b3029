"""The issue's proof at scale: 20,000 contacts read and written under ~10% faults and 429 bursts,
every write applied exactly once, no task duplicated."""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from tests.gateway.conftest import FAST_BACKOFF, settings_for
from tests.gateway.interposer import Action, Forward, Interposer, LoseAnswer
from tests.gateway.sandbox_checks import task_key_counts

from leadscore.gateway import build_gateway
from leadscore.gateway.port import ContactUpdate, PropertySpec, TaskSpec
from leadscore.gateway.ratelimit import RateLimits
from leadscore.gateway.retry import RetryPolicy
from leadscore.sandbox import SandboxHandle, start_sandbox
from leadscore.settings import Tier

N = 20_000
FAULTS = "500=0.03,502=0.02,503=0.02,504=0.01,drop=0.02,429burst=0.02x4"
PROPS = ["email", "lifecyclestage", "lastmodifieddate"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def big_sandbox() -> Iterator[SandboxHandle]:
    with start_sandbox(contacts=N, seed=11, faults=FAULTS) as handle:
        yield handle


def test_full_read_and_write_of_20000_contacts_under_faults(big_sandbox: SandboxHandle) -> None:
    creates = itertools.count(1)

    def lose_every_third_task_create(method: str, path: str, body: bytes) -> Action:
        # On top of the sandbox's faults (which fail requests before they act), lose the
        # answer of some task creates after HubSpot created the tasks.
        if path.endswith("/tasks/batch/create") and next(creates) % 3 == 1:
            return LoseAnswer()
        return Forward()

    with Interposer(big_sandbox.base_url, lose_every_third_task_create) as proxy:
        settings = settings_for(proxy.base_url, big_sandbox.token, Tier.unlimited)
        gateway = build_gateway(
            settings,
            limits=RateLimits.for_tier(Tier.unlimited),
            retry=RetryPolicy(max_retries=10, backoff=FAST_BACKOFF),
        )
        with gateway as gw:
            gw.ensure_properties([PropertySpec("leadscore_score", "Lead score")])

            listed = [c for page in gw.iter_contacts(PROPS) for c in page]
            assert len(listed) == N == len({c.id for c in listed})

            searched = [c for page in gw.iter_contacts_modified_since(0, PROPS) for c in page]
            assert len(searched) == N == len({c.id for c in searched})

            want = {c.id: str(int(c.id) % 997) for c in listed}
            report = gw.update_contacts(
                [ContactUpdate(cid, {"leadscore_score": v}) for cid, v in want.items()]
            )
            assert not report.failed
            assert sorted(report.succeeded) == sorted(want)

            due = int(time.time() * 1000) + 86_400_000
            specs = [
                TaskSpec(f"sql:{c.id}", c.id, None, "Follow up", "Crossed into SQL", due)
                for c in listed[:450]
            ]
            outcomes = gw.create_tasks(specs)
            assert all(o.created and o.task_id and o.error is None for o in outcomes)
            stats = gw.stats

    injected = big_sandbox.admin.stats()["faultsInjected"]
    assert sum(v for k, v in injected.items() if k != "429") > 0.05 * stats.calls
    assert stats.rate_limited > 0 and stats.retries > 0

    # Every contact landed in exactly one batch update that HubSpot accepted.
    applied: Counter[str] = Counter()
    for request in proxy.forwarded:
        if request.path.endswith("/contacts/batch/update") and 200 <= request.status < 300:
            applied.update(request.input_ids())
    assert applied == Counter(dict.fromkeys(want, 1))

    # And the sandbox holds exactly what was written.
    big_sandbox.admin.set_faults(None)
    with build_gateway(
        settings_for(big_sandbox.base_url, big_sandbox.token, Tier.unlimited),
        limits=RateLimits.for_tier(Tier.unlimited),
    ) as reader:
        stored = {
            c.id: c.properties.get("leadscore_score")
            for c in reader.read_contacts(list(want), ["leadscore_score"])
        }
    assert stored == want

    # No task twice, although some create answers were lost after the tasks were made.
    assert any(a == "LoseAnswer" for _, _, a in proxy.seen)
    assert task_key_counts(big_sandbox) == Counter({s.key: 1 for s in specs})
