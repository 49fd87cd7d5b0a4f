"""Mermaid diagrams of workflows: every step a node, every composition an edge."""

from __future__ import annotations

from .._core._step import AnyStep, Chain
from ..chains._branch import Branch
from ..chains._loop import Loop
from ..chains._parallel import MapEach, Parallel
from ..routers._base import RouterBase

__all__ = ('to_mermaid',)


def to_mermaid(workflow: AnyStep) -> str:
    """A `flowchart TD` of `workflow`: routers and branches as decisions, loops with their back edge."""
    lines = ['flowchart TD']
    ids: dict[int, str] = {}

    def node(step: AnyStep) -> str:
        key = id(step)
        if key not in ids:
            ids[key] = f'n{len(ids)}'
            label = step.name.replace('"', "'")
            shape = '{{"%s"}}' if isinstance(step, RouterBase | Branch) else '["%s"]'
            lines.append(f'    {ids[key]}{shape % label}')
        return ids[key]

    def walk(step: AnyStep) -> tuple[str, list[str]]:
        """Draw `step`; return its entry node and its exit nodes."""
        if isinstance(step, Chain):
            entry, exits = walk(step.steps[0])
            for nxt in step.steps[1:]:
                nxt_entry, nxt_exits = walk(nxt)
                for e in exits:
                    lines.append(f'    {e} --> {nxt_entry}')
                exits = nxt_exits
            return entry, exits
        me = node(step)
        if isinstance(step, RouterBase | Branch | Parallel | MapEach):
            fan_exits: list[str] = []
            for label, child in step.children():
                child_entry, child_exits = walk(child)
                edge = f' -->|{label}| ' if label else ' --> '
                lines.append(f'    {me}{edge}{child_entry}')
                fan_exits.extend(child_exits)
            return me, fan_exits
        if isinstance(step, Loop):
            child_entry, child_exits = walk(step.step)
            lines.append(f'    {me} --> {child_entry}')
            for e in child_exits:
                lines.append(f'    {e} -.->|until| {me}')
            return me, [me]
        return me, [me]

    walk(workflow)
    return '\n'.join(lines)
