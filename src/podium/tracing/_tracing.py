"""Spans for runs and steps, into Logfire's tracer provider.

`podium run <workflow>` > `podium step <step>` > Pydantic-AI's `chat` spans (and, on the agent path, its
`<agent> run` span), which nest by OpenTelemetry context. The run span is also the span of the step the run started
from: that step covers the run's whole interval, so the run span carries its attributes (`podium_step`, route,
attempts, ...) and the steps it runs are the run span's children; a second span over the same interval would cost as
much as any other span and say nothing new. Off, a run costs one attribute read per step.
"""

from __future__ import annotations

import warnings
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

import logfire
from opentelemetry import context as otel_context
from opentelemetry import trace
from pydantic_core import to_json

from .._core._hooks import RunHook, default_hooks, set_default_hooks
from .._core._redact import redact
from ._redacting import attached_redaction, install_redaction, sdk_provider

if TYPE_CHECKING:
    from contextvars import Token

    from opentelemetry.context import Context

    from .._core._flow import Flow, StepScope
    from .._core._records import StepRecord

__all__ = ('RunSpan', 'SpanHandle', 'Tracing', 'active_tracing', 'instrument', 'uninstrument')


class Tracing(RunHook):
    """A run hook that sends a run's spans to Logfire: where they go, and what they may contain."""

    def __init__(
        self, logfire_instance: logfire.Logfire, *, include_content: bool = False, agent_run_spans: bool = False
    ) -> None:
        self.logfire = logfire_instance
        self.include_content = include_content
        """Whether step outputs go into span attributes. Off by default: outputs may hold personal data."""
        self.agent_run_spans = agent_run_spans
        """Whether lean calls also open Pydantic-AI's `<agent> run` span under their step span."""
        self.instrumented_agents = False
        """Whether `instrument()` turned Pydantic-AI's agent instrumentation on, so `uninstrument()` turns it off."""
        provider = logfire_instance.config.get_tracer_provider()
        # Spans start on Logfire's tracer directly, as Pydantic-AI's do: `logfire.span` formats a message template
        # and inspects the caller's frame on every call, which costs more than the span itself.
        self._tracer = provider.get_tracer('podium', version('podium'))
        self._provider = provider
        self._open_spans: dict[int, SpanHandle] = {}
        """Spans of runs and steps still open, by the id of their flow or scope."""
        install_redaction(provider, attributes=include_content)

    def run_started(self, flow: Flow[Any]) -> None:
        if not self.agent_run_spans:
            flow.agent_run_spans = False  # the step span stands in for Pydantic-AI's run span on the lean path
        self._open_spans[id(flow)] = self.run_span(flow.workflow)

    def run_finished(self, flow: Flow[Any], error: BaseException | None) -> None:
        handle = self._open_spans.pop(id(flow), None)
        if isinstance(handle, RunSpan):
            handle.finish_run(flow, error)

    def step_started(self, scope: StepScope) -> None:
        run = self._open_spans.get(id(scope.flow))
        if isinstance(run, RunSpan) and run.awaiting_root:
            # The first step a run opens is at the top of its tree; named as the run, it is the workflow itself (or
            # the one step a pass-through wrapper of the same name runs), which covers the run's whole interval.
            run.awaiting_root = False
            if scope.name == scope.flow.workflow:
                run.adopt_root(scope.name, scope.kind)
                self._open_spans[id(scope)] = run
                return
        self._open_spans[id(scope)] = self.step_span(scope.name, scope.kind)

    def step_finished(self, scope: StepScope, record: StepRecord, error: BaseException | None) -> None:
        handle = self._open_spans.pop(id(scope), None)
        if handle is not None:
            handle.finish(record, error)

    def run_span(self, workflow: str) -> RunSpan:
        """Open the root span of a run."""
        # `logfire.configure()` may have replaced the provider Logfire's proxy stands for since `instrument()`.
        sdk = sdk_provider(self._provider)
        if sdk is not None and attached_redaction(sdk) is None:
            install_redaction(sdk, attributes=self.include_content)
        attributes = {'logfire.msg': f'podium run {workflow}', 'podium_workflow': workflow}
        span = self._tracer.start_span('podium run', attributes=attributes)
        return RunSpan(span, otel_context.attach(trace.set_span_in_context(span)), self.include_content)

    def step_span(self, name: str, kind: str) -> SpanHandle:
        """Open the span of one step, nested in whatever span is current."""
        attributes = {'logfire.msg': f'podium step {name}', 'podium_step': name, 'podium_kind': kind}
        span = self._tracer.start_span('podium step', attributes=attributes)
        return SpanHandle(span, otel_context.attach(trace.set_span_in_context(span)), self.include_content)


class SpanHandle:
    """An open span that closes with the attributes of what happened."""

    __slots__ = ('_include_content', '_span', '_token')

    def __init__(self, span: trace.Span, token: Token[Context], include_content: bool) -> None:
        self._span = span
        self._token = token
        self._include_content = include_content

    def finish(self, record: StepRecord, exc: BaseException | None) -> None:
        """Close a step span with the record's facts as attributes."""
        attributes = self._record_attributes(record)
        usage = record.usage
        if usage.requests:
            attributes['podium.usage.requests'] = usage.requests
            attributes['podium.usage.input_tokens'] = usage.input_tokens
            attributes['podium.usage.output_tokens'] = usage.output_tokens
        self._close(attributes, exc)

    def _record_attributes(self, record: StepRecord) -> dict[str, Any]:
        """What a step's record says, as span attributes (its usage aside)."""
        attributes: dict[str, Any] = {'podium.status': record.status}
        for key in ('route', 'confidence', 'reason', 'fallback_reason', 'model', 'path'):
            value = getattr(record, key)
            if value is not None:
                # A router's reason is model output, which may quote the input: redacted here, where it is known to
                # be text, since the span processor checks attributes only when content capture is on.
                attributes[f'podium.{key}'] = redact(value) if type(value) is str else value
        if record.attempts:
            attributes['podium.attempts'] = len(record.attempts)
            attributes['podium.attempt_errors'] = [a.error or 'ok' for a in record.attempts]
            # One entry per attempt, in order, as OpenTelemetry array attributes beside `attempt_errors`.
            attributes['podium.attempt_models'] = [a.model or '' for a in record.attempts]
            attributes['podium.attempt_status_codes'] = [a.status_code or 0 for a in record.attempts]
            attributes['podium.attempt_waits_s'] = [a.waited_s for a in record.attempts]
            attributes['podium.attempt_durations_s'] = [a.duration_s for a in record.attempts]
        for key, value in record.detail.items():
            attributes[f'podium.detail.{key}'] = redact(value) if type(value) is str else value
        if self._include_content and record.output is not None:
            attributes['podium.output'] = to_json(record.output, fallback=repr).decode()
        return attributes

    def _close(self, attributes: dict[str, Any], exc: BaseException | None) -> None:
        span = self._span
        span.set_attributes(attributes)
        if exc is not None:
            # Logfire's span marks the level and status as errors; the redacting processor cleans the message.
            span.record_exception(exc, escaped=True)
        otel_context.detach(self._token)
        span.end()


class RunSpan(SpanHandle):
    """The span of a run, and of the step the run started from: it closes when the run ends."""

    __slots__ = ('_root', 'awaiting_root')

    def __init__(self, span: trace.Span, token: Token[Context], include_content: bool) -> None:
        super().__init__(span, token, include_content)
        self.awaiting_root = True
        """Whether no step of the run has started yet: the first one may be the run's root step."""
        self._root: StepRecord | None = None

    def adopt_root(self, name: str, kind: str) -> None:
        """Make this span the root step's too: it gets the attributes a step span gets when it opens."""
        self._span.set_attributes({'podium_step': name, 'podium_kind': kind})

    def finish(self, record: StepRecord, exc: BaseException | None) -> None:
        """Keep the root step's record: the span closes with the run, whose error (if any) wraps the step's."""
        self._root = record

    def finish_run(self, flow: Flow, exc: BaseException | None) -> None:
        """Close a run span with the root step's facts, and the run's status and usage totals."""
        root = self._root
        attributes = {} if root is None else self._record_attributes(root)
        records = flow.records
        # The records say what a run's error or its end without an output was: a cancellation, or a pause.
        if exc is not None:
            status = 'cancelled' if any(r.status == 'cancelled' for r in records) else 'failed'
        elif flow.degraded:
            status = 'degraded'
        else:
            status = 'paused' if any(r.status == 'paused' for r in records) else 'ok'
        usage = flow.usage
        attributes['podium.status'] = status
        attributes['podium.usage.requests'] = usage.requests
        attributes['podium.usage.input_tokens'] = usage.input_tokens
        attributes['podium.usage.output_tokens'] = usage.output_tokens
        attributes['podium.steps'] = len(records)
        self._close(attributes, exc)


def instrument(
    logfire_instance: logfire.Logfire | None = None,
    *,
    agents: bool = True,
    include_content: bool = False,
    agent_run_spans: bool = False,
) -> Tracing:
    """Turn tracing on for every run started from now on.

    Args:
        logfire_instance: The Logfire instance to send spans to; the default one (set up by `logfire.configure()`)
            when omitted.
        agents: Also instrument Pydantic-AI agents, so their `invoke_agent` and `chat` spans nest under podium's.
        include_content: Put prompts, messages and step outputs into spans. Off by default because Logfire's
            scrubbing does not reach message content. Secret-looking values are redacted from every span either way
            (see `install_redaction`).
        agent_run_spans: Give lean calls Pydantic-AI's `<agent> run` span too, between the step span and the
            `chat` span, as `Agent.run` has. Off by default: on the lean path the step span is the agent's run (it
            carries the model, usage and outcome, and the chat span nests under it), and the extra span costs
            about a third of a lean call's traced time. Agent-path calls always have it: `Agent.run` opens it.
    """
    instance = logfire_instance or logfire.DEFAULT_LOGFIRE_INSTANCE
    # Logfire exposes no public "configured?" flag; read its own, and assume configured should it ever go away.
    if not getattr(instance.config, '_initialized', True):
        warnings.warn(
            'podium.instrument(): Logfire is not configured, so no span will be recorded: call '
            'logfire.configure(send_to_logfire=False) first to see spans in the console (or test with '
            'podium.testing.capture_trace()), or logfire.configure() to send them to Logfire',
            stacklevel=2,
        )
    if agents:
        instance.instrument_pydantic_ai(include_content=include_content)
    tracing = Tracing(instance, include_content=include_content, agent_run_spans=agent_run_spans)
    tracing.instrumented_agents = agents
    # Tracing is a process concern, like `logfire.configure()` and `Agent.instrument_all()`, which this mirrors:
    # the hook joins every run started from now on.
    set_default_hooks((*(h for h in default_hooks() if not isinstance(h, Tracing)), tracing))
    return tracing


def uninstrument() -> None:
    """Turn tracing off again (and Pydantic-AI's agent instrumentation, if `instrument` turned it on)."""
    tracing = active_tracing()
    if tracing is not None and tracing.instrumented_agents:
        from pydantic_ai import Agent

        Agent.instrument_all(False)
    set_default_hooks(tuple(h for h in default_hooks() if not isinstance(h, Tracing)))


def active_tracing() -> Tracing | None:
    """The tracing new runs use, or `None` when off."""
    return next((h for h in default_hooks() if isinstance(h, Tracing)), None)
