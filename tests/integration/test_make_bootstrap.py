"""On a fresh clone `make refresh` and `make test` set up the environment they need.

The job's targets install the runtime dependencies only, the developer's targets the dev
extras too; each installs again only when pyproject.toml changed since the last install; a
Python too old or without venv gets one line that names the fix.

The real Makefile and scripts/make_venv.sh run in a copy of the project. The Pythons are
fakes (shell scripts): one that answers the version and venv checks, and creates a
"venv" whose python only logs how it was called, so nothing is installed and each test
takes milliseconds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")

FAKE_PYTHON = """#!/bin/sh
# A Python {version} for the Makefile: the version check, the venv check, `-m venv DIR`.
case "$2" in
  *version_info*) echo {version}; exit 0 ;;
  *ensurepip*) exit {venv_check} ;;
esac
if [ "$1 $2" = "-m venv" ]; then
  mkdir -p "$3/bin"
  printf '#!/bin/sh\\necho "$*" >> "{log}"\\n' > "$3/bin/python"
  chmod +x "$3/bin/python"
  exit {venv_exit}
fi
echo "unexpected: $*" >&2
exit 3
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    shutil.copy(REPO / "Makefile", root)
    shutil.copy(REPO / "pyproject.toml", root)
    shutil.copytree(REPO / "scripts", root / "scripts")
    return root


def _python(project: Path, version: str = "3.11", venv_check: int = 0, venv_exit: int = 0) -> Path:
    path = project.parent / f"python{version}"
    log = project / "calls.log"
    path.write_text(
        FAKE_PYTHON.format(version=version, venv_check=venv_check, venv_exit=venv_exit, log=log),
        encoding="utf-8",
    )
    path.chmod(0o755)
    return path


def _make(project: Path, python: Path | str, *goals: str) -> subprocess.CompletedProcess[str]:
    # Make variables from the environment (a `make test` running these tests) stay out.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "PYTHON", "VENV", "ARGS"}
    }
    return subprocess.run(
        ["make", "--no-print-directory", f"PYTHON={python}", *goals],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _calls(project: Path) -> list[str]:
    log = project / "calls.log"
    calls = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    log.unlink(missing_ok=True)
    return calls


def _installs(calls: list[str]) -> list[str]:
    return [c.split(" -e ", 1)[1] for c in calls if c.startswith("-m pip install") and " -e " in c]


def _touch_later(path: Path) -> None:
    later = time.time() + 5
    os.utime(path, (later, later))


@pytest.mark.parametrize("goal", ["refresh", "parse", "status", "report", "export"])
def test_a_job_target_creates_the_environment_with_the_runtime_only(
    project: Path, goal: str
) -> None:
    result = _make(project, _python(project), goal)
    assert result.returncode == 0, result.stderr
    calls = _calls(project)
    assert _installs(calls) == ["."]
    assert calls[-1].startswith(f"-m pipeline {goal} --data-dir data")
    assert (project / ".venv" / ".installed-runtime").exists()
    assert not (project / ".venv" / ".installed-dev").exists()


@pytest.mark.parametrize(
    ("goal", "extras", "last"),
    [
        ("test", ".[dev]", "-m pytest"),
        ("bench", ".[dev]", "bench/run.py"),
        ("install", ".[dev,notebook]", "-m pip install"),
    ],
)
def test_a_developer_target_adds_the_extras(
    project: Path, goal: str, extras: str, last: str
) -> None:
    result = _make(project, _python(project), goal)
    assert result.returncode == 0, result.stderr
    calls = _calls(project)
    assert _installs(calls) == [extras]
    assert calls[-1].startswith(last)


def test_the_second_run_installs_nothing(project: Path) -> None:
    python = _python(project)
    assert _make(project, python, "refresh").returncode == 0
    _calls(project)
    assert _make(project, python, "refresh").returncode == 0
    assert _calls(project) == [
        "-m pipeline refresh --data-dir data --report --export bibtex,csv,jsonl,csljson,ris"
    ]


def test_a_dev_install_is_also_a_runtime_install(project: Path) -> None:
    python = _python(project)
    assert _make(project, python, "test").returncode == 0
    _calls(project)
    assert _make(project, python, "refresh").returncode == 0
    assert _installs(_calls(project)) == []


def test_a_runtime_install_gets_the_dev_extras_added_once(project: Path) -> None:
    python = _python(project)
    assert _make(project, python, "refresh").returncode == 0
    _calls(project)
    assert _make(project, python, "test").returncode == 0
    assert _installs(_calls(project)) == [".[dev]"]
    assert _make(project, python, "test").returncode == 0
    assert _installs(_calls(project)) == []


def test_a_changed_pyproject_installs_again(project: Path) -> None:
    python = _python(project)
    assert _make(project, python, "refresh").returncode == 0
    _calls(project)
    _touch_later(project / "pyproject.toml")
    assert _make(project, python, "refresh").returncode == 0
    assert _installs(_calls(project)) == ["."]


def test_python_too_old_says_which_python_to_use(project: Path) -> None:
    python = _python(project, version="3.10")
    result = _make(project, python, "refresh")
    assert result.returncode != 0
    assert result.stderr.splitlines()[0] == (
        f"make: {python} is Python 3.10; this project needs Python >= 3.11: "
        "install it and run make PYTHON=python3.11 refresh"
    )
    assert not (project / ".venv").exists()


def test_python_not_found_says_which_python_to_use(project: Path) -> None:
    result = _make(project, "python-nonexistent", "test")
    assert result.returncode != 0
    assert result.stderr.splitlines()[0] == (
        "make: python-nonexistent not found: this project needs Python >= 3.11; "
        "install it and run make PYTHON=python3.11 test"
    )


def test_python_without_venv_names_the_package(project: Path) -> None:
    python = _python(project, version="3.12", venv_check=1)
    result = _make(project, python, "refresh")
    assert result.returncode != 0
    assert result.stderr.splitlines()[0] == (
        f"make: {python} (Python 3.12) cannot create a virtual environment: install its venv "
        "module (Debian/Ubuntu: sudo apt-get install python3.12-venv) and run make refresh again"
    )
    assert not (project / ".venv").exists()


def test_a_failed_venv_leaves_no_half_made_environment(project: Path) -> None:
    python = _python(project, venv_exit=1)
    result = _make(project, python, "refresh")
    assert result.returncode != 0
    assert "sudo apt-get install python3.11-venv" in result.stderr
    assert not (project / ".venv").exists()
    assert _calls(project) == []
