from __future__ import annotations

from pathlib import Path

import pytest
from eval_desk import Truth, build_desk
from inline_snapshot import snapshot
from pydantic_evals.evaluators import IsInstance

from podium.evals import (
    CaseFileError,
    ExpectOutput,
    ExpectRoute,
    ExpectStep,
    InvalidCase,
    OnOutput,
    OnStep,
    TraceChecks,
    expect,
    load_cases,
)

DESK = build_desk({1: Truth('billing', flag=True)})


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / 'cases.yaml'
    path.write_text(text)
    return path


def test_a_row_becomes_a_case_judged_by_podium_evaluators(tmp_path: Path):
    path = _write(
        tmp_path,
        """
checks: {no_fallback: true, max_requests: 4}
cases:
  - name: double charge
    inputs: '[c1] charged twice'
    route: billing
    steps:
      billing_extract: {urgency: high}
      billing_escalate: [{IsInstance: Reply}]
    output: {escalated: true}
    checks: {max_requests: 3}
    tags: [billing]
""",
    )

    case_file = load_cases(path, DESK)

    [case] = case_file.dataset.cases
    assert (case.name, case.inputs, case.metadata) == ('double charge', '[c1] charged twice', {'tags': ['billing']})
    assert case.evaluators == [
        ExpectRoute('billing', 'desk'),
        ExpectStep('billing_extract', {'urgency': 'high'}),
        ExpectOutput({'escalated': True}),
        TraceChecks(no_fallback=True, max_requests=3),
        OnStep('billing_escalate', IsInstance('Reply')),
    ]
    assert case_file.dataset.name == 'cases'
    assert case_file.invalid == ()


def test_expect_builds_the_same_evaluators_for_cases_written_in_python():
    assert expect(
        route='billing',
        steps={'billing_extract': {'urgency': 'high'}, 'billing_escalate': IsInstance('Reply')},
        output=IsInstance('Reply'),
        not_degraded=True,
    ) == [
        ExpectRoute('billing'),
        ExpectStep('billing_extract', {'urgency': 'high'}),
        OnStep('billing_escalate', IsInstance('Reply')),
        OnOutput(IsInstance('Reply')),
        TraceChecks(not_degraded=True),
    ]


def test_rows_that_name_what_the_workflow_lacks_are_reported_against_their_case(tmp_path: Path):
    path = _write(
        tmp_path,
        """
cases:
  - {name: fine, inputs: '[c1] x', route: billing}
  - {name: unknown route, inputs: x, route: refunds}
  - {name: unknown step, inputs: x, steps: {billing_extrakt: {urgency: high}}}
  - {name: unknown field, inputs: x, steps: {billing_extract: {urgncy: high}}}
  - {name: unknown evaluator, inputs: x, output: [NoSuchEvaluator]}
  - {name: bad evaluator arguments, inputs: x, evaluators: [{IsInstance: {kind: Reply}}]}
  - {name: misspelt key, inputs: x, rout: billing}
  - {name: bad checks, inputs: x, checks: {max_requests: -1}}
  - inputs: no name
  - just a string
  - {name: fine, inputs: '[c1] again'}
""",
    )

    case_file = load_cases(path, DESK)

    assert [case.name for case in case_file.dataset.cases] == ['fine', 'case 9']
    assert case_file.order == snapshot(
        (
            'fine',
            'unknown route',
            'unknown step',
            'unknown field',
            'unknown evaluator',
            'bad evaluator arguments',
            'misspelt key',
            'bad checks',
            'case 9',
            'case 10',
            'fine (row 11)',
        )
    )
    assert case_file.invalid == snapshot(
        (
            InvalidCase(
                name='unknown route',
                message="route 'refunds' is not a route of router 'desk'; its routes are billing, other, sales, tech",
            ),
            InvalidCase(
                name='unknown step',
                message=(
                    "no step named 'billing_extrakt' in workflow 'desk'; its steps are desk, billing, "
                    'billing_extract, billing_urgency, billing_escalate, billing_resolve, tech, tech_triage, '
                    'tech_severity, tech_escalate, tech_fix, sales, sales_qualify, sales_intent, sales_quote, '
                    'sales_inform, other'
                ),
            ),
            InvalidCase(
                name='unknown field',
                message=(
                    "step 'billing_extract' outputs Facts, which has no field 'urgncy'; its fields are urgency, summary"
                ),
            ),
            InvalidCase(
                name='unknown evaluator',
                message=(
                    "unknown evaluator 'NoSuchEvaluator'; known: ArgumentCorrectness, Contains, Equals, "
                    'EqualsExpected, ExpectBlocked, ExpectOutput, ExpectRoute, ExpectStep, GEval, HasMatchingSpan, '
                    'IsInstance, LLMJudge, MaxDuration, MaxModelRequests, MaxToolCalls, OnOutput, OnStep, '
                    'ToolCorrectness, TraceChecks, TrajectoryMatch'
                ),
            ),
            InvalidCase(
                name='bad evaluator arguments',
                message=(
                    "cannot build evaluator 'IsInstance': IsInstance.__init__() got an unexpected keyword "
                    "argument 'kind'"
                ),
            ),
            InvalidCase(name='misspelt key', message='invalid row: rout: Extra inputs are not permitted'),
            InvalidCase(
                name='bad checks',
                message='invalid row: checks.max_requests: Input should be greater than or equal to 0',
            ),
            InvalidCase(
                name='case 10', message="a row must be a mapping with inputs and expectations, got 'just a string'"
            ),
            InvalidCase(name='fine (row 11)', message='row 11 repeats the case name of an earlier row'),
        )
    )


@pytest.mark.parametrize(
    ('text', 'message'),
    [
        (
            'cases: [{name: a, inputs: x}\n',
            snapshot("""\
cases.yaml is not valid YAML: while parsing a flow sequence
  in "<unicode string>", line 1, column 8:
    cases: [{name: a, inputs: x}
           ^
expected ',' or ']', but got '<stream end>'
  in "<unicode string>", line 2, column 1:
    \n\
    ^\
"""),
        ),
        (
            '- {name: a, inputs: x}\n',
            snapshot(
                "cases.yaml is not a case file: it must be a mapping with a cases list, got [{'name': 'a', "
                "'inputs': 'x'}]"
            ),
        ),
        ('name: empty\n', snapshot('cases.yaml is not a case file: cases: Field required')),
        (
            'cases: []\nrouter: switchboard\n',
            snapshot("the case file names router 'switchboard', which workflow 'desk' lacks"),
        ),
        (
            'cases: []\nevaluators: [Nope]\n',
            snapshot(
                "cases.yaml: the evaluators for every case: unknown evaluator 'Nope'; known: "
                'ArgumentCorrectness, Contains, Equals, EqualsExpected, ExpectBlocked, ExpectOutput, ExpectRoute, '
                'ExpectStep, GEval, HasMatchingSpan, IsInstance, LLMJudge, MaxDuration, MaxModelRequests, '
                'MaxToolCalls, OnOutput, OnStep, ToolCorrectness, TraceChecks, TrajectoryMatch'
            ),
        ),
    ],
)
def test_a_file_that_is_not_a_case_file_is_one_clear_error(tmp_path: Path, text: str, message: str):
    path = _write(tmp_path, text)
    with pytest.raises(CaseFileError) as caught:
        load_cases(path, DESK)
    assert str(caught.value).replace(str(tmp_path) + '/', '') == message


def test_a_missing_case_file_is_a_case_file_error(tmp_path: Path):
    with pytest.raises(CaseFileError, match=r"cannot read case file '.*nope\.yaml': No such file or directory"):
        load_cases(tmp_path / 'nope.yaml', DESK)
