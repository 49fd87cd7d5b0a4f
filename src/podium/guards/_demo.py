"""An offline stand-in for an injection-screening model: flags the usual attacks by their wording.

It is a Pydantic-AI `FunctionModel`, so the injection guard's agent, output validation, records and spans run as
they would on a real model. Wording is easy to paraphrase past; use a real model for production traffic.
"""

from __future__ import annotations

import re

from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, TextPart, ToolCallPart, UserPromptPart
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_core import to_json

from .._core._verdict import GuardVerdict

__all__ = ('INJECTION_PATTERNS', 'demo_injection_model', 'flag_injection')

INJECTION_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (why, re.compile(pattern, re.IGNORECASE))
    for why, pattern in (
        (
            'asks to ignore its instructions',
            r'\b(?:ignore|disregard|forget|override|bypass)\b[^.!?\n]{0,40}?'
            r'\b(?:instructions?|rules|prompts?|above|everything|guidelines|restrictions)\b',
        ),
        (
            'asks for its system prompt',
            r'\b(?:reveal|print|show|repeat|output|leak|tell me|display)\b[^.!?\n]{0,40}?'
            r'\b(?:system prompt|(?:hidden|initial|original|secret) (?:prompt|instructions)|your instructions)\b',
        ),
        (
            'tries to change its role',
            r'\b(?:you are now|you are no longer|from now on,? you|pretend (?:you are|to be)|act as|role-?play'
            r"|let'?s play a game)\b",
        ),
        ('a jailbreak', r'\b(?:jailbreak|developer mode|(?-i:DAN)|do anything now|no restrictions)\b'),
        (
            'poses as the system or an admin',
            r'(?:\bsystem override\b|\bnew (?:rule|instructions?)\b|</?(?:message|system)>|<\|im_start\|>'
            r'|^\W*system\s*:|\bas an admin\b|\bI authori[sz]e you\b)',
        ),
        (
            'dictates its answer',
            r'\b(?:respond|reply|answer) only with\b|\b(?:reply|respond) with the (?:admin )?password\b',
        ),
    )
)
"""Each attack the demo model flags, with the wording that gives it away."""


def flag_injection(text: str) -> GuardVerdict:
    """The demo model's verdict on `text`: blocked, naming the attack, when a pattern matches."""
    for why, pattern in INJECTION_PATTERNS:
        if pattern.search(text):
            return GuardVerdict.block(f'prompt injection: {why}')
    return GuardVerdict.allow('no injection found')


async def _answer(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
    # Async on purpose: FunctionModel runs a sync function in a worker thread, and a guard racing its step should
    # decide without one.
    verdict = flag_injection(_latest_prompt(messages))
    args = verdict.model_dump(mode='json', exclude={'replacement'})
    if info.output_tools:
        return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, args)])
    return ModelResponse(parts=[TextPart(to_json(args).decode())])


def _latest_prompt(messages: list[ModelMessage]) -> str:
    for message in reversed(messages):
        if isinstance(message, ModelRequest):
            for part in reversed(message.parts):
                if isinstance(part, UserPromptPart):
                    return part.content if isinstance(part.content, str) else str(part.content)
    return ''


def demo_injection_model() -> FunctionModel:
    """A deterministic, offline model for `injection_guard` that flags the usual attacks by their wording.

    It blocks ignore-your-instructions, system-prompt leaks, role-play jailbreaks, fake system or admin messages and
    dictated answers (see `INJECTION_PATTERNS`).
    """
    return FunctionModel(_answer, model_name='demo-injection')
