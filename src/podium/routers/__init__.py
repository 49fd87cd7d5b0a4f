"""Routers: an LLM router agent and a rule router, both enforcing an allow-list of routes in code."""

from ._base import Allow, Route
from ._router import RouteDecision, Router
from ._rule_router import RuleRouter

__all__ = ('Allow', 'Route', 'RouteDecision', 'Router', 'RuleRouter')
