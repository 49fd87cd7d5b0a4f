"""The events of one support-desk run, as `examples/support_desk.py --stream` prints them."""
# ruff: noqa: E501  (the snapshot holds one event per line, as printed)

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from inline_snapshot import snapshot
from stream_events import collect

sys.path.insert(0, str(Path(__file__).parents[2] / 'examples'))
from support_desk import build_workflow, main

pytestmark = pytest.mark.anyio


async def test_a_streamed_desk_run_says_each_step_its_output_and_pydantic_ais_events_in_order():
    events = await collect(build_workflow(), 'the app crashes on startup')
    assert [event.summary() for event in events] == snapshot(
        [
            'run_started - guarded(support_desk)',
            'step_started guarded(support_desk) guarded',
            'step_started guarded(support_desk)/secrets_guard guard',
            'step_finished guarded(support_desk)/secrets_guard ok route=pass',
            'step_started guarded(support_desk)/support_desk router',
            'step_started guarded(support_desk)/injection_guard guard',
            'step_started guarded(support_desk)/injection_guard/injection_guard_check agent',
            'step_finished guarded(support_desk)/injection_guard/injection_guard_check ok',
            'step_finished guarded(support_desk)/injection_guard ok route=pass',
            'agent_event guarded(support_desk)/support_desk part_start tool-call final_result',
            'agent_event guarded(support_desk)/support_desk final_result final_result',
            'agent_event guarded(support_desk)/support_desk part_delta \'"confidence":0.9\'',
            "output_delta guarded(support_desk)/support_desk partial={'route': 'tech', 'confidence': 0.9, 'reason': ''}",
            'agent_event guarded(support_desk)/support_desk part_delta \'2,"reason":"ment\'',
            "output_delta guarded(support_desk)/support_desk partial={'route': 'tech', 'confidence': 0.92, 'reason': 'ment'}",
            "agent_event guarded(support_desk)/support_desk part_delta 'ions tech keywor'",
            "output_delta guarded(support_desk)/support_desk partial={'route': 'tech', 'confidence': 0.92, 'reason': 'mentions tech keywor'}",
            "agent_event guarded(support_desk)/support_desk part_delta 'ds\"}'",
            "output_delta guarded(support_desk)/support_desk partial={'route': 'tech', 'confidence': 0.92, 'reason': 'mentions tech keywords'}",
            'agent_event guarded(support_desk)/support_desk part_end tool-call final_result',
            'agent_event guarded(support_desk)/support_desk output_tool_call final_result \'{"route":"tech","confidence":0.92,"reason":"mentions tech keywords"}\'',
            "agent_event guarded(support_desk)/support_desk output_tool_result final_result 'Final result processed.'",
            'route_decided guarded(support_desk)/support_desk tech (0.92)',
            'step_started guarded(support_desk)/support_desk/tech chain',
            'step_started guarded(support_desk)/support_desk/tech/tech_triage agent',
            'agent_event guarded(support_desk)/support_desk/tech/tech_triage part_start tool-call final_result',
            'agent_event guarded(support_desk)/support_desk/tech/tech_triage final_result final_result',
            'agent_event guarded(support_desk)/support_desk/tech/tech_triage part_delta \'artup","summary"\'',
            "agent_event guarded(support_desk)/support_desk/tech/tech_triage part_delta ':\"the app crashe'",
            'agent_event guarded(support_desk)/support_desk/tech/tech_triage part_delta \'s on startup","s\'',
            'agent_event guarded(support_desk)/support_desk/tech/tech_triage part_delta \'everity":"blocke\'',
            "agent_event guarded(support_desk)/support_desk/tech/tech_triage part_delta 'r\"}'",
            "output_delta guarded(support_desk)/support_desk/tech/tech_triage partial={'component': 'startup', 'summary': 'the app crashes on startup', 'severity': 'blocker'}",
            'agent_event guarded(support_desk)/support_desk/tech/tech_triage part_end tool-call final_result',
            'agent_event guarded(support_desk)/support_desk/tech/tech_triage output_tool_call final_result \'{"component":"startup","summary":"the app crashes on startup","severity":"blocker"}\'',
            "agent_event guarded(support_desk)/support_desk/tech/tech_triage output_tool_result final_result 'Final result processed.'",
            'step_finished guarded(support_desk)/support_desk/tech/tech_triage ok',
            'step_started guarded(support_desk)/support_desk/tech/tech_severity branch',
            'route_decided guarded(support_desk)/support_desk/tech/tech_severity blocker',
            'step_started guarded(support_desk)/support_desk/tech/tech_severity/tech_escalate agent',
            'agent_event guarded(support_desk)/support_desk/tech/tech_severity/tech_escalate part_start tool-call final_result',
            'agent_event guarded(support_desk)/support_desk/tech/tech_severity/tech_escalate final_result final_result',
            'agent_event guarded(support_desk)/support_desk/tech/tech_severity/tech_escalate part_delta \'text":"An engine\'',
            "agent_event guarded(support_desk)/support_desk/tech/tech_severity/tech_escalate part_delta 'er is looking at'",
            "agent_event guarded(support_desk)/support_desk/tech/tech_severity/tech_escalate part_delta ' the crash; we w'",
            "agent_event guarded(support_desk)/support_desk/tech/tech_severity/tech_escalate part_delta 'ill update you w'",
            "agent_event guarded(support_desk)/support_desk/tech/tech_severity/tech_escalate part_delta 'ithin the hour.\"'",
            'agent_event guarded(support_desk)/support_desk/tech/tech_severity/tech_escalate part_delta \',"escalated":tru\'',
            'agent_event guarded(support_desk)/support_desk/tech/tech_severity/tech_escalate part_delta \'e,"refund":null}\'',
            "output_delta guarded(support_desk)/support_desk/tech/tech_severity/tech_escalate partial={'team': 'tech', 'text': 'An engineer is looking at the crash; we will update you within the hour.'…",
            'agent_event guarded(support_desk)/support_desk/tech/tech_severity/tech_escalate part_end tool-call final_result',
            'agent_event guarded(support_desk)/support_desk/tech/tech_severity/tech_escalate output_tool_call final_result \'{"team":"tech","text":"An engineer is looking at the crash; we will update you within the hour.","…',
            "agent_event guarded(support_desk)/support_desk/tech/tech_severity/tech_escalate output_tool_result final_result 'Final result processed.'",
            'step_finished guarded(support_desk)/support_desk/tech/tech_severity/tech_escalate ok',
            'step_finished guarded(support_desk)/support_desk/tech/tech_severity ok route=blocker',
            'step_finished guarded(support_desk)/support_desk/tech ok',
            'step_finished guarded(support_desk)/support_desk ok route=tech',
            'step_started guarded(support_desk)/refund_policy guard',
            'step_finished guarded(support_desk)/refund_policy ok route=pass',
            'step_finished guarded(support_desk) ok',
            "run_finished - output={'team': 'tech', 'text': 'An engineer is looking at the crash; we will update you within the hour.'…",
        ]
    )


def test_the_example_prints_the_events_as_they_arrive_with_stream(capsys: pytest.CaptureFixture[str]):
    main(['--stream', 'the app crashes on startup'])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == 'run_started - guarded(support_desk)'
    assert 'step_finished guarded(support_desk)/support_desk ok route=tech' in lines
    assert lines[lines.index('step_finished guarded(support_desk) ok') + 1].startswith('run_finished - output=')
    assert lines[-1].startswith('usage:')
