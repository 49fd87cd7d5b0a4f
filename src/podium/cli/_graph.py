"""Mermaid diagrams of workflows: every step a node, every composition an edge, named chains as subgraphs."""

from __future__ import annotations

from typing import Any

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

    def ident(step: AnyStep) -> tuple[str, bool]:
        key = id(step)
        new = key not in ids
        if new:
            ids[key] = f'n{len(ids)}'
        return ids[key], new

    def label(step: AnyStep) -> str:
        return step.name.replace('"', "'")

    def node(step: AnyStep) -> str:
        me, new = ident(step)
        if new:
            shape = '{{"%s"}}' if isinstance(step, RouterBase | Branch) else '["%s"]'
            lines.append(f'    {me}{shape % label(step)}')
        return me

    def walk_chain(chain: Chain[Any, Any]) -> tuple[str, list[str]]:
        entry, exits = walk(chain.steps[0])
        for nxt in chain.steps[1:]:
            nxt_entry, nxt_exits = walk(nxt)
            lines.extend(f'    {e} --> {nxt_entry}' for e in exits)
            exits = nxt_exits
        return entry, exits

    def walk(step: AnyStep) -> tuple[str, list[str]]:
        """Draw `step`; return its entry node and its exit nodes."""
        if isinstance(step, Chain):
            if not step.is_named:
                return walk_chain(step)
            lines.append(f'    subgraph {ident(step)[0]}["{label(step)}"]')
            drawn = walk_chain(step)
            lines.append('    end')
            return drawn
        me = node(step)
        if isinstance(step, RouterBase | Branch | Parallel | MapEach):
            exits: list[str] = []
            for edge_label, child in step.children():
                child_entry, child_exits = walk(child)
                edge = f' -->|{edge_label}| ' if edge_label else ' --> '
                lines.append(f'    {me}{edge}{child_entry}')
                exits.extend(child_exits)
            return me, exits
        if isinstance(step, Loop):
            child_entry, child_exits = walk(step.step)
            lines.append(f'    {me} --> {child_entry}')
            lines.extend(f'    {e} -.->|until| {me}' for e in child_exits)
        return me, [me]

    walk(workflow)
    return '\n'.join(lines)
