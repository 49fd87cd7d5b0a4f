"""The workflows the durable tests run in real processes, killed and restarted.

    python _app.py run WORKFLOW RUN_ID      start a durable run and print its output as JSON
    python _app.py resume WORKFLOW RUN_ID   resume a run (after a kill) and print its output
    python _app.py stream WORKFLOW RUN_ID   run or resume a run, printing `type path` per event, then its output
    python _app.py enqueue N                queue N runs of `chain` for the workers
    python _app.py worker ID CONCURRENCY    serve the `chain` queue

Every model request appends `run_id step` to the file named by $APP_LOG, so a test can count calls per step.
$APP_DB names the run store. $APP_HANG_AT=s2 makes step s2 write $APP_LOG.hang and hang, so a test can kill the
process while that step is in flight. $APP_VARIANT changes the workflow the way a careless deploy would.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import anyio
from dbos import DBOS
from pydantic import BaseModel
from pydantic_ai import Agent
from pydantic_ai.exceptions import ModelHTTPError
from pydantic_ai.messages import ModelMessage, ModelResponse, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

import podium
from podium import Step, branch, loop
from podium.durable import Review, approval, durable
from podium.fallbacks import fallback
from podium.testing import latest_prompt

LOG = Path(os.environ.get('APP_LOG', 'requests.log'))
DB = os.environ['APP_DB']
VARIANT = os.environ.get('APP_VARIANT', '')
DELAY = float(os.environ.get('APP_DELAY', '0'))


if VARIANT == 'retyped':

    class Draft(BaseModel):  # the same class, edited: a field added
        text: str
        n: int
        extra: str

else:

    class Draft(BaseModel):
        text: str
        n: int


def note(line: str, path: Path = LOG) -> None:
    with path.open('a') as file:
        file.write(line + '\n')


def model_for(step: str) -> FunctionModel:
    """A model that logs each request, derives its answer from the prompt, and can hang mid-request."""

    async def respond(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        prompt = latest_prompt(messages)
        note(f'{DBOS.workflow_id} {step} {DBOS.executor_id}')
        if os.environ.get('APP_HANG_AT') == step:
            note(step, Path(f'{LOG}.hang'))
            await anyio.sleep(600)
        if DELAY:
            await anyio.sleep(DELAY)
        if step == 'bad':
            raise ModelHTTPError(503, 'app-bad')
        digest = hashlib.sha256(prompt.encode()).hexdigest()[:8]
        args = {'text': f'{step}:{digest}', 'n': int(step[1:]), 'extra': 'x'}
        return ModelResponse(parts=[ToolCallPart(info.output_tools[0].name, args)])

    return FunctionModel(respond, model_name=f'app-{step}')


def agent_step(step: str) -> Step[object, BaseModel]:
    return podium.agent(Agent(model_for(step), output_type=Draft, name=step), input_type=object, name=step)


def chain() -> Step[object, BaseModel]:
    first = agent_step('s1')
    second = agent_step('s2')
    if VARIANT == 'renamed':
        second.name = 's2_renamed'
    if VARIANT == 'shortened':
        return (first >> second).named('chain')
    return (first >> second >> agent_step('s3') >> agent_step('s4')).named('chain')


def approve_flow() -> Step[object, str]:
    @podium.step
    def pay(review: Review[BaseModel]) -> str:
        return f'paid {review.value.model_dump()["text"]} ({review.reviewer})'

    @podium.step
    def decline(review: Review[BaseModel]) -> str:
        return f'declined: {review.reason}'

    @podium.step
    def escalate(review: Review[BaseModel]) -> str:
        return f'escalated: {review.reason}'

    timeout = float(os.environ.get('APP_TIMEOUT', '600'))
    wait: Step[BaseModel, Review[BaseModel]] = approval(name='refund_ok', timeout=timeout, input_type=BaseModel)
    decide = branch(lambda r: r.outcome, {'approved': pay, 'rejected': decline, 'timed_out': escalate}, name='outcome')
    return (agent_step('s1') >> wait >> decide).named('refund')


def retrying_flow() -> Step[object, BaseModel]:
    """A loop, then a fallback whose primary always fails: both choices are recorded and replayed."""
    grow = loop(agent_step('s1'), until=lambda draft: False, max_iterations=3, name='grow')
    unwrap = podium.step(lambda result: result.output, name='unwrap')
    return (grow >> unwrap >> fallback(agent_step('bad'), agent_step('s4'))).named('retrying')


WORKFLOWS = {'chain': chain(), 'refund': approve_flow(), 'retrying': retrying_flow()}
DURABLE = {
    name: durable(wf, name=name, db=DB, concurrency=int(os.environ.get('APP_CONCURRENCY', '0')) or None)
    for name, wf in WORKFLOWS.items()
}


def dump(output: object) -> str:
    return json.dumps(output.model_dump() if isinstance(output, BaseModel) else output)


async def main(argv: list[str]) -> None:
    command = argv[0]
    if command == 'run':
        result = await DURABLE[argv[1]].run('refund 42 EUR please', run_id=argv[2])
        print(dump(result.output), flush=True)
    elif command == 'resume':
        result = await DURABLE[argv[1]].result(argv[2])
        print(dump(result.output), flush=True)
    elif command == 'stream':
        async with DURABLE[argv[1]].stream('refund 42 EUR please', run_id=argv[2]) as events:
            async for event in events:
                print(event.type, '/'.join(event.path), flush=True)
        print(dump(events.result.output), flush=True)
    elif command == 'enqueue':
        for i in range(int(argv[1])):
            await DURABLE['chain'].enqueue(f'ticket {i}', run_id=f'q{i:03d}')
    elif command == 'worker':
        await DURABLE['chain'].serve(worker_id=argv[1], polling_interval=0.05)


if __name__ == '__main__':
    try:
        anyio.run(main, sys.argv[1:])
    finally:
        DBOS.destroy()
