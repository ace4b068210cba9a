"""What `pip install .` (a wheel, not the editable install the tests run from) puts in place."""

from __future__ import annotations

import tomllib

from tests.golden import ROOT


def test_every_package_of_the_source_tree_is_installed() -> None:
    """A subpackage missing from pyproject's list works in the editable checkout and is
    missing from a real install (logscan.sources once was: `logscan scan` failed to import)."""
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "logscan").rglob("__init__.py")
    }
    assert found <= listed
    assert "logscan.packs" in listed  # the built-in packs, from patterns/
