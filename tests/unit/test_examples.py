"""What people copy must work: the example workflow and the pre-commit manifest parse, and
say what they mean."""

from __future__ import annotations

from pathlib import Path

import yaml

from pipeline.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]


def test_the_example_workflow_checks_pull_requests_with_the_cache_and_refreshes_on_schedule() -> (
    None
):
    workflow = yaml.safe_load((ROOT / "examples" / "arxiv-list.yml").read_text(encoding="utf-8"))
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert {"pull_request", "schedule"} <= set(triggers)
    check = workflow["jobs"]["check"]["steps"]
    uses = [step.get("uses", "") for step in check]
    assert any(u.startswith("actions/cache") for u in uses)
    [run] = [step["run"] for step in check if "check" in step.get("run", "")]
    assert "--format github" in run
    refresh = [step.get("run", "") for step in workflow["jobs"]["refresh"]["steps"]]
    assert any("refresh" in r for r in refresh) and any("report" in r for r in refresh)


def test_the_pre_commit_manifest_has_the_required_keys_and_a_runnable_entry() -> None:
    [hook] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert {"id", "name", "entry", "language"} <= set(hook)
    assert hook["id"] == "arxiv-list-check" and hook["language"] == "python"
    assert hook["pass_filenames"] is True and hook["files"] == r"\.md$"
    program, *options = hook["entry"].split()
    assert program == "arxiv-list"
    # pre-commit appends the file names: the entry must take them as they come.
    args = build_parser().parse_args([*options, "a.md", "b.md"])
    assert args.command == "check" and args.files == ["a.md", "b.md"]
