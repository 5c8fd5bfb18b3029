"""End to end: the sync pipeline through the real gateway against the sandbox over HTTP."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from leadscore.gateway import build_gateway
from leadscore.gateway.port import ContactUpdate
from leadscore.gateway.retry import Backoff
from leadscore.gateway.tasks import TaskCreator
from leadscore.rules import ScoringModel, load_model
from leadscore.sandbox import SandboxHandle, start_sandbox
from leadscore.settings import Settings, Tier
from leadscore.state import StateStore, open_store
from leadscore.sync import run_sync
from leadscore.sync.plan import same_value
from leadscore.sync.pull import ActivityView

REPO = Path(__file__).resolve().parents[2]
RULES = REPO / "config" / "scoring.yaml"
CONTACTS = 300
PROTECTED = {"opportunity", "customer", "evangelist", "other"}
WRITE_ENDPOINTS = ("batch/update", "batch/create", "/crm/v3/objects/tasks", "/properties")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model() -> ScoringModel:
    return load_model(RULES)


@pytest.fixture()
def sandbox() -> Iterator[SandboxHandle]:
    with start_sandbox(contacts=CONTACTS, seed=7) as handle:
        yield handle


def settings_for(sandbox: SandboxHandle, db: Path, **extra: Any) -> Settings:
    return Settings(
        hubspot_access_token=SecretStr(sandbox.token),
        hubspot_base_url=sandbox.base_url,
        hubspot_tier=Tier.unlimited,
        database_url=f"sqlite:///{db}",
        rules=RULES,
        sync_lookback_seconds=0,
        max_retries=10,
        **extra,
    )


def portal_state(sandbox: SandboxHandle, model: ScoringModel) -> dict[str, dict[str, str | None]]:
    """Stage and output properties of every contact, read around the API's limits."""
    names = ["lifecyclestage", *(p.name for p in model.output_properties)]
    with build_gateway(settings_for(sandbox, Path("unused.db"))) as gw:
        return {
            c.id: {n: c.properties.get(n) for n in names}
            for page in gw.iter_contacts(names)
            for c in page
        }


def list_tasks(sandbox: SandboxHandle) -> list[dict[str, Any]]:
    props = f"hubspot_owner_id,hs_task_subject,hs_task_body,{TaskCreator.KEY_PROPERTY}"
    out: list[dict[str, Any]] = []
    after: str | None = None
    with httpx.Client(
        base_url=sandbox.base_url, headers={"Authorization": f"Bearer {sandbox.token}"}
    ) as http:
        while True:
            params = {"limit": 100, "properties": props, **({"after": after} if after else {})}
            body = http.get("/crm/v3/objects/tasks", params=params).json()
            out.extend(r["properties"] for r in body["results"])
            after = (body.get("paging") or {}).get("next", {}).get("after")
            if not after:
                return out


def writes_logged(sandbox: SandboxHandle, since: int = 0) -> list[dict[str, Any]]:
    return [
        r
        for r in sandbox.admin.requests(since)
        if r["method"] in ("POST", "PATCH", "PUT", "DELETE")
        and not r["path"].endswith(("/search", "/batch/read"))
        and "/associations/" not in r["path"]
        and not r["path"].startswith("/_sandbox")
    ]


def ask_for_sales(sandbox: SandboxHandle, settings: Settings, model: ScoringModel) -> str:
    """Submit "Contact sales" for an owned, not excluded lead (the rules then qualify it as
    SQL); returns its id."""
    now = int(time.time() * 1000)
    with build_gateway(settings) as gw:
        archived = {o.id for o in gw.list_owners() if o.archived}
        lead = next(
            c
            for page in gw.iter_contacts(model.contact_properties)
            for c in page
            if c.properties.get("lifecyclestage") in ("lead", "marketingqualifiedlead")
            and c.properties.get("hubspot_owner_id") not in (None, "", *archived)
            and c.email
            and model.evaluate(c, now).exclusion is None
        )
    form = next(f["id"] for f in sandbox.admin.info()["forms"] if f["name"] == "Contact sales")
    reply = httpx.post(
        f"{sandbox.base_url}/submissions/v3/integration/submit/{sandbox.portal_id}/{form}",
        json={
            "fields": [
                {"name": name, "value": lead.properties.get(name) or "Sam"}
                for name in ("email", "firstname", "lastname", "company")
            ]
        },
    )
    assert reply.status_code == 200, reply.text
    return lead.id


def db_dump(url: str) -> dict[str, list[str]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                t: sorted(repr(tuple(r)) for r in conn.execute(sa.text(f"SELECT * FROM {t}")))
                for t in sa.inspect(conn).get_table_names()
            }
    finally:
        engine.dispose()


def expected_state(
    sandbox: SandboxHandle, model: ScoringModel, store: StateStore, now_ms: int
) -> dict[str, tuple[dict[str, str], str | None, str | None]]:
    """What the engine says for every contact: properties, target stage, exclusion."""
    with build_gateway(settings_for(sandbox, Path("unused.db"))) as gw:
        view = ActivityView([store], now_ms - (model.activity_horizon_days or 0) * 86_400_000)
        out = {}
        for page in gw.iter_contacts(model.contact_properties):
            for c in view.attach(page):
                ev = model.evaluate(c, now_ms)
                out[c.id] = (dict(ev.properties), ev.stage.stage, ev.exclusion)
        return out


def test_sync_makes_hubspot_match_the_engine_then_a_second_sync_writes_nothing(
    sandbox: SandboxHandle, model: ScoringModel, tmp_path: Path
) -> None:
    settings = settings_for(sandbox, tmp_path / "s.db")
    sales_lead = ask_for_sales(sandbox, settings, model)
    before = portal_state(sandbox, model)
    now = int(time.time() * 1000)
    first = run_sync(settings, model=model, progress=False, now_ms=now)
    assert first.outcome == "success", first
    after = portal_state(sandbox, model)
    with open_store(settings.database_url) as store:
        expected = expected_state(sandbox, model, store, now)
        ledger = store.ledger()
        audit = store.audit_log()
    assert set(expected) == set(after) and len(after) == CONTACTS
    for cid, (props, target, exclusion) in expected.items():
        for name, value in props.items():
            assert same_value(after[cid][name], value), (cid, name, after[cid][name], value)
        if exclusion is not None or before[cid]["lifecyclestage"] in PROTECTED:
            assert after[cid]["lifecyclestage"] == before[cid]["lifecyclestage"], cid
        elif target is not None:
            assert after[cid]["lifecyclestage"] == target, cid
    # Backward moves really landed: cleared first, then set.
    backward = [a for a in audit if a.action == "stage_backward"]
    assert backward, "the seeded portal has contacts above their band"
    for a in backward:
        assert after[a.contact_id]["lifecyclestage"] == a.after
    assert sandbox.admin.rejected_stage_moves() == []
    # One task per crossing into SQL, for the owner, carrying score and reasons.
    crossings = [
        a.contact_id
        for a in audit
        if a.action == "stage_forward" and a.after == "salesqualifiedlead"
    ]
    tasks = list_tasks(sandbox)
    keys = [t[TaskCreator.KEY_PROPERTY] for t in tasks]
    assert (
        len(keys)
        == len(set(keys))
        == len(crossings)
        == len([e for e in ledger if e.state == "created"])
    )
    assert sorted(k.split(":")[1] for k in keys) == sorted(crossings)
    with build_gateway(settings) as gw:
        archived = {o.id for o in gw.list_owners() if o.archived}
    owned = 0
    for t in tasks:
        contact_id = t[TaskCreator.KEY_PROPERTY].split(":")[1]
        owner = sandbox.admin.contact(contact_id).get("hubspot_owner_id") or None
        expected_owner = owner if owner not in archived else None
        assert (t["hubspot_owner_id"] or None) == expected_owner, contact_id
        owned += expected_owner is not None
        assert t["hs_task_body"].startswith("Score: ") and "Why: " in t["hs_task_body"]
    assert sales_lead in {k.split(":")[1] for k in keys}
    assert owned >= 1
    # Unowned crossings are reported, never dropped silently.
    assert len(first.warnings) == len(tasks) - owned

    mark = len(sandbox.admin.requests())
    second = run_sync(settings, model=model, progress=False, now_ms=now)
    assert second.outcome == "success" and second.actions_by_kind == {}
    assert writes_logged(sandbox, mark) == []
    assert portal_state(sandbox, model) == after


def test_dry_run_sends_no_write_and_leaves_the_state_store_unchanged(
    sandbox: SandboxHandle, model: ScoringModel, tmp_path: Path
) -> None:
    settings = settings_for(sandbox, tmp_path / "s.db")
    run_sync(settings, model=model, progress=False)  # a state store with history
    sandbox.admin.set_faults(None)
    # Someone changes a contact so that the dry-run has something to show.
    cid = sorted(portal_state(sandbox, model))[0]
    with build_gateway(settings) as gw:
        gw.update_contacts([ContactUpdate(cid, {"leadscore_total": "-999"})])
    mark = len(sandbox.admin.requests())
    db_before = db_dump(settings.database_url)
    out = io.StringIO()
    summary = run_sync(
        settings, model=model, progress=False, dry_run=True, output="json", stream=out
    )
    assert writes_logged(sandbox, mark) == []
    assert db_dump(settings.database_url) == db_before
    assert summary.actions_by_kind.get("set_property", 0) >= 1
    assert f'"contact_id": "{cid}"' in out.getvalue()
    assert '"before": "-999"' in out.getvalue()


def test_faults_on_reach_the_same_final_state_as_faults_off(
    model: ScoringModel, tmp_path: Path
) -> None:
    now = int(time.time() * 1000)
    finals = []
    for name, faults in (("clean", None), ("faulty", "500=0.1,503=0.05,429burst=0.1x2,drop=0.05")):
        with start_sandbox(contacts=CONTACTS, seed=7, faults=faults) as sb:
            settings = settings_for(sb, tmp_path / f"{name}.db")
            # HubSpot's own back-off waits 10 s per 429 attempt; scaled down here, same policy.
            quick = Backoff(ten_secondly=0.05, secondly=0.05, server_error=0.01, network=0.01)
            with build_gateway(settings, backoff=quick) as gw:
                summary = run_sync(settings, model=model, gateway=gw, progress=False, now_ms=now)
            assert summary.outcome == "success", summary
            if faults:
                assert summary.rate_limited > 0
                assert sum(sb.admin.stats()["faultsInjected"].values()) > 0
                sb.admin.set_faults(None)  # read the outcome back without faults
            tasks = sorted(t[TaskCreator.KEY_PROPERTY] for t in list_tasks(sb))
            finals.append((portal_state(sb, model), tasks))
    assert finals[0] == finals[1]


def test_kill_9_during_apply_then_rerun_converges_without_duplicate_tasks(
    model: ScoringModel, tmp_path: Path
) -> None:
    now = int(time.time() * 1000)
    with start_sandbox(contacts=CONTACTS, seed=7) as reference:
        run_sync(
            settings_for(reference, tmp_path / "ref.db"), model=model, progress=False, now_ms=now
        )
        want = portal_state(reference, model)
        want_tasks = sorted(t[TaskCreator.KEY_PROPERTY] for t in list_tasks(reference))

    with start_sandbox(contacts=CONTACTS, seed=7, latency_ms=40) as sb:
        settings = settings_for(sb, tmp_path / "s.db")
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("LEADSCORE_", "HUBSPOT_"))},
            "HUBSPOT_ACCESS_TOKEN": sb.token,
            "HUBSPOT_BASE_URL": sb.base_url,
            "LEADSCORE_HUBSPOT_TIER": "unlimited",
            "LEADSCORE_DATABASE_URL": settings.database_url,
            "LEADSCORE_RULES": str(RULES),
            "LEADSCORE_SYNC_LOOKBACK_SECONDS": "0",
            "LEADSCORE_MAX_CONCURRENCY": "2",
            # A killed process cannot remove its scratch files: keep them in the test's dir.
            "TMPDIR": str(tmp_path),
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "leadscore", "sync", "--no-progress"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                updates = [r for r in sb.admin.requests() if r["path"].endswith("batch/update")]
                if len(updates) >= 2:
                    break
                time.sleep(0.02)
            assert proc.poll() is None, "the sync finished before it could be killed"
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        sb.admin.set_latency(0)
        # The clock of the rerun matches the reference so both score the same instant.
        rerun = run_sync(settings, model=model, progress=False, now_ms=now)
        assert rerun.outcome == "success"
        got = portal_state(sb, model)
        got_tasks = sorted(t[TaskCreator.KEY_PROPERTY] for t in list_tasks(sb))
    assert got == want
    assert len(got_tasks) == len(set(got_tasks))
    assert [k.split(":")[1] for k in got_tasks] == [k.split(":")[1] for k in want_tasks]


def test_decay_moves_a_contact_down_when_its_window_expires(
    sandbox: SandboxHandle, model: ScoringModel, tmp_path: Path
) -> None:
    settings = settings_for(sandbox, tmp_path / "s.db")
    now = int(time.time() * 1000)
    run_sync(settings, model=model, progress=False, now_ms=now)
    run_sync(settings, model=model, progress=False, now_ms=now)
    before = portal_state(sandbox, model)
    later = now + 120 * 86_400_000
    with open_store(settings.database_url) as store:
        due = store.due_contact_ids(later, limit=10_000)
        expected = expected_state(sandbox, model, store, later)
    assert due
    summary = run_sync(settings, model=model, progress=False, now_ms=later)
    assert summary.outcome == "success"
    after = portal_state(sandbox, model)
    moved_down = [
        cid
        for cid in due
        if expected[cid][1] is not None
        and before[cid]["lifecyclestage"] != expected[cid][1]
        and after[cid]["lifecyclestage"] == expected[cid][1]
    ]
    assert moved_down, "some contact's activity left its window and its stage followed"
    for cid in due:
        for name, value in expected[cid][0].items():
            assert same_value(after[cid][name], value), (cid, name)


def test_demo_runs_from_the_cli_dry_run_apply_zero_changes_and_two_explanations(
    tmp_path: Path,
) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "leadscore", "demo", "--contacts", "300", "--rows", "5"],
        cwd=REPO,
        env={k: v for k, v in os.environ.items() if not k.startswith(("LEADSCORE_", "HUBSPOT_"))},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "1. leadscore sync --dry-run" in out and "nothing was written" in out
    assert "3. leadscore sync again" in out
    again = out.split("3. leadscore sync again")[1]
    assert "actions applied: none" in again
    # One header per explained contact (render_explanation prints it; the demo adds none).
    assert len(re.findall(r"^contact \d+ ", out, flags=re.MULTILINE)) == 2
    assert len(re.findall(r"^contact \d+ \(rules ", out, flags=re.MULTILINE)) == 2
    # The apply reports every contact whose task has no owner, as the dry-run listed them.
    dry, applied = out.split("2. leadscore sync: apply it")
    applied = applied.split("3. leadscore sync again")[0]
    no_owner = r"^warning: contact (\d+): contact has no owner"
    listed = re.findall(no_owner, dry, flags=re.MULTILINE)
    assert listed and re.findall(no_owner, applied, flags=re.MULTILINE) == listed


def test_online_explain_finds_a_contact_by_id_or_email_with_its_stored_activity(
    sandbox: SandboxHandle, model: ScoringModel, tmp_path: Path
) -> None:
    from leadscore.errors import InputError
    from leadscore.sync.explain import explain_online

    settings = settings_for(sandbox, tmp_path / "s.db")
    now = int(time.time() * 1000)
    run_sync(settings, model=model, progress=False, now_ms=now)
    with open_store(settings.database_url) as store:
        busy = next(a.contact_id for a in store.audit_log() if a.action == "stage_forward")
        email = store.contact_states([busy])[busy].email
    assert email
    by_id = explain_online(busy, settings, model, now)
    by_email = explain_online(email.upper(), settings, model, now)
    assert by_id.contact.id == by_email.contact.id == busy
    assert by_id.evaluation == by_email.evaluation
    written = sandbox.admin.contact(busy)
    for name, value in by_id.evaluation.properties.items():
        assert same_value(written.get(name), value), name
    assert "from the state store" in by_id.activity_source
    missing = "no HubSpot contact with id or email 'nobody@nowhere.example'"
    with pytest.raises(InputError, match=re.escape(missing)):
        explain_online("nobody@nowhere.example", settings, model, now)


def test_online_explain_without_a_state_store_says_activity_is_missing(
    sandbox: SandboxHandle, model: ScoringModel, tmp_path: Path
) -> None:
    from leadscore.sync.explain import explain_online

    settings = settings_for(sandbox, tmp_path / "never.db")
    first = sorted(portal_state(sandbox, model))[0]
    result = explain_online(first, settings, model, int(time.time() * 1000))
    assert result.contact.id == first
    assert result.activity_source.startswith("no state store yet")
    assert not (tmp_path / "never.db").exists()
