from __future__ import annotations

import json
from pathlib import Path

import pytest
from inline_snapshot import snapshot

from podium.cli import main

DESK = str(Path(__file__).parents[2] / 'examples' / 'support_desk.py')


def test_run_prints_the_steps_and_the_typed_output(capsys: pytest.CaptureFixture[str]):
    assert main(['run', f'{DESK}:workflow', 'I want to buy 20 more seats']) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[:3] == [
        'guarded(support_desk) [guarded]: ok',
        'secrets_guard [guard] -> pass: ok',
        'support_desk [router] -> sales: ok',
    ]
    assert '"team": "sales"' in out


def test_run_json_prints_the_summary(capsys: pytest.CaptureFixture[str]):
    assert main(['run', f'{DESK}:workflow', 'the app crashes on startup', '--json']) == 0
    summary = json.loads(capsys.readouterr().out)
    assert next(step['route'] for step in summary['steps'] if step['kind'] == 'router') == 'tech'
    assert summary['status'] == 'ok'


def test_run_accepts_module_references(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(Path(DESK).parent))
    assert main(['run', 'support_desk:workflow', 'refund please']) == 0
    assert 'support_desk [router] -> billing: ok' in capsys.readouterr().out.splitlines()


def test_graph_prints_mermaid():
    from podium.cli._graph import to_mermaid
    from podium.cli._load import load_step

    assert to_mermaid(load_step(f'{DESK}:workflow')) == snapshot("""\
flowchart TD
    n0["guarded(support_desk)"]
    n1["secrets_guard"]
    n0 -.->|input| n1
    n2["injection_guard"]
    n3["injection_guard_check"]
    n2 -.->|check| n3
    n0 -.->|input| n2
    n4{{"support_desk"}}
    subgraph n5["billing"]
    n6["billing_extract"]
    n7{{"billing_urgency"}}
    n8["billing_escalate"]
    n7 -->|high| n8
    n9["billing_resolve"]
    n7 -->|normal| n9
    n7 -->|low| n9
    n6 --> n7
    end
    n4 -->|billing| n6
    subgraph n10["tech"]
    n11["tech_triage"]
    n12{{"tech_severity"}}
    n13["tech_escalate"]
    n12 -->|blocker| n13
    n14["tech_troubleshoot"]
    n12 -->|minor| n14
    n11 --> n12
    end
    n4 -->|tech| n11
    subgraph n15["sales"]
    n16["sales_qualify"]
    n17{{"sales_intent"}}
    n18["sales_quote"]
    n17 -->|buy| n18
    n19["sales_inform"]
    n17 -->|inquire| n19
    n16 --> n17
    end
    n4 -->|sales| n16
    n20["out_of_scope"]
    n4 -->|out_of_scope| n20
    n0 -.-> n4
    n21["refund_policy"]
    n22["needs_approval"]
    n21 -.->|safe_response| n22
    n0 -.->|output| n21
    n23["refuse"]
    n0 -.->|safe_response| n23\
""")


@pytest.mark.parametrize(
    ('reference', 'message'),
    [
        ('nocolon', "'nocolon' is not of the form"),
        ('missing.py:workflow', "no file 'missing.py'"),
        (f'{DESK}:nothing', "has no attribute 'nothing'"),
        (f'{DESK}:DEMO_LABEL', 'is of type str, not a podium Step'),
        ('no_such_module_xyz:workflow', "cannot import module 'no_such_module_xyz'"),
    ],
)
def test_bad_references_are_clear_errors(reference: str, message: str, capsys: pytest.CaptureFixture[str]):
    assert main(['graph', reference]) == 2
    assert message in capsys.readouterr().err


def test_a_missing_optional_extra_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    import podium.cli._main as cli_main

    def needs_extra(args: object) -> int:
        raise ImportError("podium.durable needs DBOS: pip install 'podium[durable]'")

    monkeypatch.setattr(cli_main, '_graph', needs_extra)
    assert main(['graph', f'{DESK}:workflow']) == 2
    assert "error: podium.durable needs DBOS: pip install 'podium[durable]'" in capsys.readouterr().err
