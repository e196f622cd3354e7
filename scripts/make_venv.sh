#!/usr/bin/env bash
# Create the project's virtual environment, or say in one line what is missing and the fix.
# Run by make before the first install; the minimum version is read from pyproject.toml.
# Usage: scripts/make_venv.sh PYTHON VENV [GOAL]   (GOAL: the make target to suggest re-running)
set -uo pipefail
python=$1 venv=$2 goal=${3:-install}
project=$(cd "$(dirname "$0")/.." && pwd)
need=$(sed -n 's/^requires-python *= *">= *\([0-9]*\.[0-9]*\).*/\1/p' "$project/pyproject.toml")
need=${need:-3.11}

fail() {
  echo "make: $*" >&2
  exit 1
}

command -v "$python" >/dev/null 2>&1 ||
  fail "$python not found: this project needs Python >= $need; install it and run make PYTHON=python$need $goal"

# print() with one argument works in Python 2 as well, so an old python still gets the message.
version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
[[ $version =~ ^[0-9]+\.[0-9]+$ ]] ||
  fail "$python did not say its version: this project needs Python >= $need; run make PYTHON=python$need $goal"
IFS=. read -r major minor <<<"$version"
IFS=. read -r need_major need_minor <<<"$need"
if ((major < need_major || (major == need_major && minor < need_minor))); then
  fail "$python is Python $version; this project needs Python >= $need: install it and run make PYTHON=python$need $goal"
fi

# Debian and Ubuntu ship venv's ensurepip in a separate package: without it `python -m venv`
# fails half-way and leaves a venv with no pip behind.
no_venv="$python (Python $version) cannot create a virtual environment: install its venv module (Debian/Ubuntu: sudo apt-get install python$version-venv) and run make $goal again"
"$python" -c 'import ensurepip, venv' >/dev/null 2>&1 || fail "$no_venv"
if ! output=$("$python" -m venv "$venv" 2>&1); then
  rm -rf "$venv"
  printf '%s\n' "$output" >&2
  fail "$python -m venv $venv failed (above); if its venv module is missing: sudo apt-get install python$version-venv (Debian/Ubuntu), then make $goal"
fi
