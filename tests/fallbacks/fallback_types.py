# pyright: strict
"""Static typing of `podium.fallbacks`: checked by pyright strict in test_fallback_types.py, never run."""

from __future__ import annotations

from typing import assert_type

from pydantic import BaseModel

import podium
from podium import Step
from podium.fallbacks import (
    CircuitBreaker,
    CircuitStep,
    DefaultStep,
    FallbackStep,
    HedgeStep,
    RetryStep,
    TimeoutStep,
    default,
    fallback,
    hedge,
    retry,
    timeout,
)


class Question(BaseModel):
    text: str


class Answer(BaseModel):
    text: str


def answer(question: Question) -> Answer:
    return Answer(text=question.text)


def other(question: Question) -> str:
    return question.text


step = podium.step(answer)
assert_type(retry(step), RetryStep[Question, Answer])
assert_type(timeout(step, 5), TimeoutStep[Question, Answer])
assert_type(hedge(step, after=1), HedgeStep[Question, Answer])
assert_type(CircuitBreaker().protect(step), CircuitStep[Question, Answer])
assert_type(fallback(step, step), FallbackStep[Question, Answer])
assert_type(default(step, Answer(text='sorry')), DefaultStep[Question, Answer])
assert_type(default(step, lambda q: Answer(text=q.text)), DefaultStep[Question, Answer])
workflow: Step[Question, Answer] = default(fallback(retry(step), timeout(step, 5)), Answer(text='sorry'))
mistyped: Step[Question, Answer] = retry(podium.step(other))  # MISTYPED
