"""The scoring rule engine: a validated YAML model compiled once, evaluated purely per contact."""

from __future__ import annotations

from leadscore.rules.compiler import compile_document, compile_model, load_model
from leadscore.rules.conditions import FormSpec
from leadscore.rules.evaluation import Contribution, Evaluation, ScoreResult, StageTarget
from leadscore.rules.model import ScoringModel

__all__ = [
    "Contribution",
    "Evaluation",
    "FormSpec",
    "ScoreResult",
    "ScoringModel",
    "StageTarget",
    "compile_document",
    "compile_model",
    "load_model",
]
