"""The workflow every comparison implements: classify a support message, then escalate or answer it.

Step 1 extracts a typed `Ticket`; urgent tickets go to an escalation agent, the rest to an answering agent. The
fake models answer the same JSON in every framework, so each version runs offline and returns the same `Reply`.
"""

from __future__ import annotations

from pydantic import BaseModel


class Ticket(BaseModel):
    topic: str
    urgent: bool


class Reply(BaseModel):
    text: str
    escalated: bool


def classify_json(prompt: str) -> str:
    """What the fake classifier answers: urgent when the message says it is."""
    urgent = 'urgent' in prompt.lower() or 'twice' in prompt.lower()
    return Ticket(topic='billing', urgent=urgent).model_dump_json()


ESCALATE_JSON = Reply(text='A specialist takes over today.', escalated=True).model_dump_json()
ANSWER_JSON = Reply(text='Here is how to read your invoice.', escalated=False).model_dump_json()

EXPECTED = {
    'I was charged twice, urgent!': Reply.model_validate_json(ESCALATE_JSON),
    'How do I read my invoice?': Reply.model_validate_json(ANSWER_JSON),
}
"""Each input and the reply every version must return for it."""
