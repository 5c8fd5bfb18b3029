"""The engine's fast constructors make objects no one can tell from the constructors' own."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest

from leadscore.rules.evaluation import (
    Contribution,
    Evaluation,
    ScoreResult,
    StageTarget,
    contribution,
    evaluation,
    score_result,
    stage_target,
)

PART = Contribution("Demo", 50.0, True, "submitted 'Demo' today", "forms")
RESULT = ScoreResult("fit", "leadscore_fit", 50.0, (PART,))
TARGET = StageTarget("salesqualifiedlead", "total 70 ≥ 65")


@pytest.mark.parametrize(
    ("fast", "slow"),
    [
        (
            contribution("Demo", 50.0, True, "submitted 'Demo' today", "forms"),
            PART,
        ),
        (contribution("Title", 0.0, False, "not met: jobtitle is empty"), None),
        (score_result("fit", "leadscore_fit", 50.0, (PART,)), RESULT),
        (stage_target("salesqualifiedlead", "total 70 ≥ 65"), TARGET),
        (
            evaluation("7", {"fit": RESULT}, TARGET, "A1", None, 123, {"leadscore_fit": "50"}),
            Evaluation("7", {"fit": RESULT}, TARGET, "A1", None, 123, {"leadscore_fit": "50"}),
        ),
    ],
)
def test_fast_constructor_matches_the_class(fast: object, slow: object | None) -> None:
    if slow is None:
        slow = Contribution("Title", 0.0, False, "not met: jobtitle is empty")
    assert type(fast) is type(slow)
    assert fast == slow
    if not isinstance(slow, Evaluation):  # its mappings make it unhashable
        assert hash(fast) == hash(slow)
    assert repr(fast) == repr(slow)
    assert dataclasses.asdict(fast) == dataclasses.asdict(slow)  # type: ignore[call-overload]
    assert copy.deepcopy(fast) == slow
    assert pickle.loads(pickle.dumps(fast)) == slow
    # Still frozen.
    name = dataclasses.fields(fast)[0].name  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(fast, name, "changed")
