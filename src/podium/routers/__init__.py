"""Routers: an LLM router agent, a rule router, a semantic router and a model router (cascade or classifier).

Every router enforces an allow-list of routes in code and records why it went where it went.
"""

from .._core._errors import EmbeddingFailed, PriceUnknown
from ._base import Allow, Route
from ._calibrate import Calibration, CalibrationStatus, CurvePoint, TierOutcome, Trial
from ._checks import Candidate, ConfidenceCheck, OutputCheck, Verdict, VerifierCheck, llm_judge
from ._cost import ModelPrice, Prices, RunCost, run_cost
from ._model_router import Escalation, ModelRouter
from ._router import RouteDecision, Router
from ._rule_router import RuleRouter
from ._semantic import SemanticRouter
from ._semantic_fit import SemanticFit
from ._vectors import EmbeddingCache

__all__ = (
    'Allow',
    'Calibration',
    'CalibrationStatus',
    'Candidate',
    'ConfidenceCheck',
    'CurvePoint',
    'EmbeddingCache',
    'EmbeddingFailed',
    'Escalation',
    'ModelPrice',
    'ModelRouter',
    'OutputCheck',
    'PriceUnknown',
    'Prices',
    'Route',
    'RouteDecision',
    'Router',
    'RuleRouter',
    'RunCost',
    'SemanticFit',
    'SemanticRouter',
    'TierOutcome',
    'Trial',
    'Verdict',
    'VerifierCheck',
    'llm_judge',
    'run_cost',
)
