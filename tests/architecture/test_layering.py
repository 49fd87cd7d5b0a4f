"""The shape of the package, checked from its source: layers, no import cycles, no class switches, no patching."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Iterator
from pathlib import Path

import podium
from podium import Step

SRC = Path(podium.__file__).parent


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted(SRC.rglob('*.py')):
        parts = list(path.relative_to(SRC.parent).with_suffix('').parts)
        if parts[-1] == '__init__':
            parts.pop()
        found['.'.join(parts)] = path
    return found


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == 'TYPE_CHECKING') or (
        isinstance(test, ast.Attribute) and test.attr == 'TYPE_CHECKING'
    )


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node that runs, lazily or not: imports under `if TYPE_CHECKING:` are left out."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                stack.extend(child.orelse)
                continue
            stack.append(child)


def _package_of(module: str) -> str:
    return module if MODULES[module].name == '__init__.py' else module.rpartition('.')[0]


def _imports(module: str) -> set[str]:
    """The podium modules `module` imports at run time, at module level or inside functions."""
    tree = ast.parse(MODULES[module].read_text())
    found: set[str] = set()
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith('podium'))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _package_of(module).split('.')
                base = base[: len(base) - node.level + 1]
                target = '.'.join([*base, node.module] if node.module else base)
            else:
                target = node.module or ''
            if not target.startswith('podium'):
                continue
            found.add(target)
            found.update(f'{target}.{a.name}' for a in node.names if f'{target}.{a.name}' in MODULES)
    return {m for m in found if m in MODULES and m != module}


def test_src_podium_has_no_import_cycle():
    graph = {module: _imports(module) for module in MODULES}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    # A package's __init__ importing its own submodules, which import their siblings through it, is the one loop
    # Python resolves by design; every other cycle is a layering mistake.
    real = [c for c in cycles if not all(m.startswith(_package_of(c[0])) for m in c)]
    assert real == []


def test_the_core_imports_no_other_podium_subpackage():
    core = [m for m in MODULES if m.startswith('podium._core')]
    outside = {m: sorted(t for t in _imports(m) if not t.startswith('podium._core')) for m in core}
    assert {m: t for m, t in outside.items() if t} == {}


def _step_classes() -> dict[str, str]:
    """Every concrete step class of podium, by name, with the module that defines it."""
    classes: dict[str, str] = {}
    todo = list(Step.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith('podium'):
            classes[cls.__name__] = cls.__module__
    return classes


def _imported_names(tree: ast.Module, module: str) -> dict[str, str]:
    """Names bound by `from ... import` in `module`, to the module they come from."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = _package_of(module).split('.')
                base = base[: len(base) - node.level + 1]
                source = '.'.join([*base, node.module] if node.module else base)
            else:
                source = node.module or ''
            for alias in node.names:
                names[alias.asname or alias.name] = source
    return names


def test_no_module_switches_on_another_modules_step_classes():
    import podium.durable  # its step classes count too
    import podium.evals  # noqa: F401

    step_classes = _step_classes()
    offences: list[str] = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text())
        imported = _imported_names(tree, module)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            if node.func.id not in ('isinstance', 'issubclass') or len(node.args) != 2:
                continue
            for name in ast.walk(node.args[1]):
                if (
                    isinstance(name, ast.Name)
                    and name.id in imported
                    and name.id != 'Step'
                    and step_classes.get(name.id, module) != module
                ):
                    offences.append(f'{module}:{node.lineno} switches on {name.id}')
    assert offences == []


# Objects podium may set attributes on, each with why: never a step, an agent or a workflow.
_SETATTR_ALLOWED = {
    ('podium._core._classify', '_EXHAUSTED'): 'marks an exception podium raised as final',
    ('podium.tracing._redacting', '_PROCESSOR_ATTRIBUTE'): "keeps podium's span processor on Logfire's provider",
}


def test_nothing_patches_steps_agents_or_workflows():
    offences: list[str] = []
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == 'setattr':
                key = ast.unparse(node.args[1]) if len(node.args) > 1 else ''
                if (module, key) not in _SETATTR_ALLOWED:
                    offences.append(f'{module}:{node.lineno} setattr(..., {key})')
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    patched = isinstance(target, ast.Attribute) and target.attr in ('invoke', '_run')
                    if patched and not (isinstance(target.value, ast.Name) and target.value.id == 'self'):
                        offences.append(f'{module}:{node.lineno} assigns .{target.attr}')
    assert offences == []


def test_invoke_is_the_one_dispatch_point():
    """No step type overrides `invoke`: each implements `_run`, so every concern at the dispatch point reaches it."""
    overriding = sorted(
        f'{cls.__module__}.{cls.__qualname__}'
        for cls in {*_all_subclasses(Step)}
        if 'invoke' in vars(cls) and inspect.isfunction(vars(cls)['invoke'])
    )
    assert overriding == []


def _all_subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)
