"""`as_tool`: a step or a whole workflow as a Pydantic-AI tool, so an agent loop can call specialist workflows."""

from __future__ import annotations

from typing import Any

from pydantic_ai import RunContext, Tool

from .._core._errors import ConfigurationError
from .._core._flow import Flow, current_flow
from .._core._step import Step, require_step

__all__ = ('as_tool',)


def as_tool(
    step: Step[Any, Any],
    *,
    name: str | None = None,
    description: str | None = None,
    input_type: type[Any] | None = None,
) -> Tool[Any]:
    """Expose `step` as a tool whose argument is the step's input and whose result is its typed output.

    Called from an agent that runs inside a podium run, the step joins that run: its records land in the run's
    records and its usage counts toward the calling agent's usage, so the run's limits hold across the tool.
    Called from a plain agent run, it counts into that agent's usage.

    Args:
        step: The step or workflow to expose.
        name: The tool name the model sees; the step's name (made identifier-safe) by default.
        description: What the tool does, for the model; the step's docstring or name by default.
        input_type: The input's type for the tool's JSON schema, when the step does not know it.
    """
    require_step(step, 'as_tool(step)')
    arg_type = input_type or step.input_class
    if arg_type is None:
        raise ConfigurationError(
            f'as_tool({step.name!r}) cannot tell the input type for the tool schema: pass input_type='
        )
    tool_name = name or ''.join(c if c.isalnum() else '_' for c in step.name).strip('_') or 'workflow'

    async def run_step(ctx: RunContext[Any], input: Any) -> Any:
        parent = current_flow()
        if parent is not None:
            flow = parent.child(usage=ctx.usage)
        else:
            flow = Flow(workflow=step.name, deps=ctx.deps, usage=ctx.usage)
        return await step.invoke(input, flow)

    run_step.__annotations__ = {'ctx': RunContext[Any], 'input': arg_type, 'return': step.output_class or Any}
    run_step.__name__ = tool_name
    return Tool(
        run_step,
        takes_ctx=True,
        name=tool_name,
        description=description or f'Run the {step.name} workflow and return its typed result.',
    )
