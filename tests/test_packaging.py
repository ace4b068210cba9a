"""What `pip install .` (a wheel, not the editable install the tests run from) puts in place."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

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


def test_an_installed_logscan_finds_its_packs(tmp_path: Path) -> None:
    """The built-in packs are found where a wheel puts them, logscan/packs/ (pyproject's
    package-dir and package-data), and not only where the editable install maps them."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    site = tmp_path / "site"
    for package in setuptools["packages"]:
        source = ROOT / setuptools["package-dir"].get(package, package.replace(".", "/"))
        target = site.joinpath(*package.split("."))
        target.mkdir(parents=True)
        for pattern in ["*.py", *setuptools["package-data"].get(package, [])]:
            for path in source.glob(pattern):
                shutil.copy(path, target)
    code = (
        "from logscan.patterns import builtin_pack_paths, load_patterns\n"
        "print(*builtin_pack_paths(), sep='\\n')\n"
        "assert load_patterns().signatures\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True, text=True, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert 0 == done.returncode, done.stderr
    packs = sorted(path.name for path in (ROOT / "patterns").glob("*.toml"))
    assert [str(site / "logscan" / "packs" / name) for name in packs] == done.stdout.split()
