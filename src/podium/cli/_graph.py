"""Mermaid diagrams of workflows: every step a node, every composition an edge, named chains as subgraphs.

Steps are drawn by what they say of themselves (`Step.describe()`), so a new step type, a user's own included,
draws without this module knowing it.
"""

from __future__ import annotations

from .._core._step import AnyStep

__all__ = ('to_mermaid',)


def to_mermaid(workflow: AnyStep) -> str:
    """A `flowchart TD` of `workflow`: choices as decisions, loops with their back edge, wrappers with dotted edges.

    Routers and branches are decisions; retries, fallbacks and guards show the steps they run on dotted edges.
    """
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

    def node(step: AnyStep, *, decision: bool) -> str:
        me, new = ident(step)
        if new:
            shape = '{{"%s"}}' if decision else '["%s"]'
            lines.append(f'    {me}{shape % label(step)}')
        return me

    def walk_sequence(steps: list[AnyStep]) -> tuple[str, list[str]]:
        entry, exits = walk(steps[0])
        for nxt in steps[1:]:
            nxt_entry, nxt_exits = walk(nxt)
            lines.extend(f'    {e} --> {nxt_entry}' for e in exits)
            exits = nxt_exits
        return entry, exits

    def walk(step: AnyStep) -> tuple[str, list[str]]:
        """Draw `step`; return its entry node and its exit nodes."""
        info = step.describe()
        children = [child for _, child in info.children]
        if info.kind == 'sequence' or (info.transparent and children):
            if info.transparent:
                return walk_sequence(children)
            lines.append(f'    subgraph {ident(step)[0]}["{label(step)}"]')
            drawn = walk_sequence(children)
            lines.append('    end')
            return drawn
        me = node(step, decision=info.kind == 'choice')
        if info.kind in ('choice', 'fan-out'):
            exits: list[str] = []
            for edge_label, child in info.children:
                child_entry, child_exits = walk(child)
                edge = f' -->|{edge_label}| ' if edge_label else ' --> '
                lines.append(f'    {me}{edge}{child_entry}')
                exits.extend(child_exits)
            return me, exits
        if info.kind == 'wrapper':
            # A wrapper (retry, fallback, guards) runs its children under a policy: dotted edges to what it runs,
            # and the flow goes on from the wrapper itself.
            for edge_label, child in info.children:
                child_entry, _ = walk(child)
                edge = f' -.->|{edge_label}| ' if edge_label else ' -.-> '
                lines.append(f'    {me}{edge}{child_entry}')
        if info.kind == 'loop':
            for _, child in info.children:
                child_entry, child_exits = walk(child)
                lines.append(f'    {me} --> {child_entry}')
                lines.extend(f'    {e} -.->|until| {me}' for e in child_exits)
        return me, [me]

    walk(workflow)
    return '\n'.join(lines)
