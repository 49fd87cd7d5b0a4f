"""The documentation site builds with `mkdocs build --strict`, and its API reference covers every public name."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

pytest.importorskip('mkdocs', reason="the site needs the docs extra: pip install -e '.[docs]'")
pytest.importorskip('mkdocstrings_handlers.python', reason="the site needs the docs extra: pip install -e '.[docs]'")

ROOT = Path(__file__).parents[2]
PUBLIC_PACKAGES = (
    'podium',
    'podium.agents',
    'podium.chains',
    'podium.cli',
    'podium.durable',
    'podium.evals',
    'podium.fallbacks',
    'podium.routers',
    'podium.serve',
    'podium.testing',
    'podium.tools',
    'podium.tracing',
)


@pytest.fixture(scope='module')
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp('site')
    env = {**os.environ, 'NO_MKDOCS_2_WARNING': '1'}
    build = subprocess.run(
        [sys.executable, '-m', 'mkdocs', 'build', '--strict', '--site-dir', str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr
    assert 'WARNING' not in build.stderr, build.stderr
    return out


def inventory(site: Path) -> set[str]:
    """The names in the built site's Sphinx objects inventory (what mkdocstrings rendered)."""
    header, _, body = site.joinpath('objects.inv').read_bytes().partition(b'compressed using zlib.\n')
    assert header.startswith(b'# Sphinx inventory version 2')
    return {line.split(' ', 1)[0] for line in zlib.decompress(body).decode().splitlines()}


def test_every_public_package_has_a_reference_page():
    pages = {p.read_text().split('::: ', 1)[1].split()[0] for p in (ROOT / 'docs' / 'api').glob('*.md')}
    assert pages == set(PUBLIC_PACKAGES)


def test_every_exported_name_is_in_the_api_reference(site: Path):
    documented = inventory(site)
    exported = {f'{package}.{name}' for package in PUBLIC_PACKAGES for name in importlib.import_module(package).__all__}
    assert sorted(exported - documented) == []


def test_every_nav_page_is_built(site: Path):
    for page in ('get-started/first-workflow', 'blocks/tracing', 'performance', 'api/podium'):
        assert (site / page / 'index.html').is_file(), page


def test_the_site_fetches_nothing_from_the_network(site: Path):
    # theme.font: false keeps Material from linking Google Fonts; nothing else may load from another host.
    for page in site.rglob('*.html'):
        html = page.read_text()
        assert 'fonts.googleapis.com' not in html, page
        assert 'fonts.gstatic.com' not in html, page
