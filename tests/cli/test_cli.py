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
    assert out.splitlines()[0] == 'support_desk [router] -> sales: ok'
    assert '"team": "sales"' in out


def test_run_json_prints_the_summary(capsys: pytest.CaptureFixture[str]):
    assert main(['run', f'{DESK}:workflow', 'the app crashes on startup', '--json']) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary['steps'][0]['route'] == 'tech'
    assert summary['status'] == 'ok'


def test_run_accepts_module_references(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(Path(DESK).parent))
    assert main(['run', 'support_desk:workflow', 'refund please']) == 0
    assert capsys.readouterr().out.startswith('support_desk [router] -> billing: ok')


def test_graph_prints_mermaid():
    from podium.cli._graph import to_mermaid
    from podium.cli._load import load_step

    assert to_mermaid(load_step(f'{DESK}:workflow')) == snapshot("""\
flowchart TD
    n0{{"support_desk"}}
    subgraph n1["billing"]
    n2["billing_extract"]
    n3{{"billing_urgency"}}
    n4["billing_escalate"]
    n3 -->|high| n4
    n5["billing_resolve"]
    n3 -->|normal| n5
    n3 -->|low| n5
    n2 --> n3
    end
    n0 -->|billing| n2
    subgraph n6["tech"]
    n7["tech_triage"]
    n8{{"tech_severity"}}
    n9["tech_escalate"]
    n8 -->|blocker| n9
    n10["tech_troubleshoot"]
    n8 -->|minor| n10
    n7 --> n8
    end
    n0 -->|tech| n7
    subgraph n11["sales"]
    n12["sales_qualify"]
    n13{{"sales_intent"}}
    n14["sales_quote"]
    n13 -->|buy| n14
    n15["sales_inform"]
    n13 -->|inquire| n15
    n12 --> n13
    end
    n0 -->|sales| n12
    n16["out_of_scope"]
    n0 -->|out_of_scope| n16\
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
