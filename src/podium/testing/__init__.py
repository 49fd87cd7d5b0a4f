"""Test doubles: scripted models, a fault-injecting OpenAI-protocol server, and span-tree rendering.

The pytest plugin (registered by installing podium) adds the `podium_trace` and `fault_server` fixtures.
"""

from ._fault_server import Behaviour, Fault, FaultServer, RecordedRequest, Reply, ToolCall
from ._scripted import Answer, ScriptedModel, ScriptError, latest_prompt
from ._spans import render_span_tree

__all__ = (
    'Answer',
    'Behaviour',
    'Fault',
    'FaultServer',
    'RecordedRequest',
    'Reply',
    'ScriptError',
    'ScriptedModel',
    'ToolCall',
    'latest_prompt',
    'render_span_tree',
)
