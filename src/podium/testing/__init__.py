"""Test doubles: scripted models, a fault-injecting OpenAI-protocol server, and span-tree rendering.

The pytest plugin (registered by installing podium) adds the `podium_trace` and `fault_server` fixtures.
"""

from .._core._errors import ScriptError
from ..routers._hashing import HashingEmbeddingModel
from ._fault_server import Behaviour, Fault, FaultServer, RecordedRequest, Reply, ToolCall
from ._scripted import Answer, ScriptedModel, latest_prompt
from ._spans import TraceCapture, capture_trace, render_span_tree

__all__ = (
    'Answer',
    'Behaviour',
    'Fault',
    'FaultServer',
    'HashingEmbeddingModel',
    'RecordedRequest',
    'Reply',
    'ScriptError',
    'ScriptedModel',
    'ToolCall',
    'TraceCapture',
    'capture_trace',
    'latest_prompt',
    'render_span_tree',
)
