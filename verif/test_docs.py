"""The documentation: the site builds with `mkdocs build --strict` (no broken link, no page
missing from the navigation), and every Python example in `docs/` runs as written (in a fresh
folder, each page's blocks in order, sharing one namespace). A block fenced as
```` ```python title="on the board" ```` talks to real hardware and is only compiled."""

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
BLOCK = re.compile(r"^( *)```python([^\n]*)\n(.*?)^\1```", re.S | re.M)


def test_there_are_pages():
    assert PAGES, f"no pages under {DOCS}"


def test_site_builds_strict(tmp_path):
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q",
                             "-f", str(ROOT / "mkdocs.yml"), "-d", str(tmp_path / "site")],
                            capture_output=True, text=True, env={"NO_MKDOCS_2_WARNING": "1",
                                                                 "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "site" / "cim-macro" / "index.html").exists()


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_examples_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # Simulator builds (e.g. the simulated board's) are the ones the other tests made.
    monkeypatch.setenv("CIMFORGE_SIM_BUILD", str(ROOT / "sim_build"))
    namespace = {"__name__": "__docs__"}
    for number, (_, info, block) in enumerate(BLOCK.findall(page.read_text())):
        code = compile(textwrap.dedent(block), f"{page.name} example {number + 1}", "exec")
        if 'title="on the board"' not in info:
            exec(code, namespace)
