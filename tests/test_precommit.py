"""The pre-commit hook (.pre-commit-hooks.yaml), proven with a real `pre-commit` run.

pre-commit installs the hook the way a user gets it: it clones the hook repository at a commit, builds a
virtualenv and pip-installs it (PyPI must be reachable). `pre-commit try-repo PATH` takes the commit of PATH
plus its uncommitted changes to TRACKED files only (new, untracked files are left out), so the test first
snapshots this working tree (tracked and untracked files that .gitignore does not exclude) into a fresh git
repository and points pre-commit at that. Then, in a temporary git repository holding one bad trust policy
(a wildcard audience: AWS019) and one good one:
- `pre-commit try-repo SNAPSHOT xfedlint --files bad.json` fails, naming AWS019; the good file passes;
- installed as the git hook, a commit of the good file goes through and a commit of the bad one is blocked.

Slow (three hook installs, about 20 s with a warm pip cache), marked `slow`, but part of the default run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "AWS019"
SKIP_DIRS = {".git", "__pycache__", ".venv", "venv", "build", "dist", ".pytest_cache", ".hypothesis", ".ruff_cache"}

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed: pre-commit needs it")


def test_hook_manifest():
    import yaml

    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "xfedlint" and hook["entry"] == "xfedlint scan" and hook["language"] == "python"
    assert hook["pass_filenames"] is True
    # not hcl or markdown yet: no loader reads them, and a named .tf or .md file is read as YAML (XF001)
    assert hook["types_or"] == ["yaml", "json", "terraform", "markdown", "shell"]
    # one process for all staged files: cross-file correlation sees the same inputs whatever the CPU count
    assert hook["require_serial"] is True


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """git and pre-commit isolated from the user's configuration and caches."""
    home = tmp_path_factory.mktemp("home")
    (home / "gitconfig").write_text("")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    return {**clean, "GIT_CONFIG_GLOBAL": str(home / "gitconfig"), "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "xfedlint tests", "GIT_AUTHOR_EMAIL": "tests@xfedlint.invalid",
            "GIT_COMMITTER_NAME": "xfedlint tests", "GIT_COMMITTER_EMAIL": "tests@xfedlint.invalid",
            "PRE_COMMIT_HOME": str(home / "pre-commit"), "PRE_COMMIT_COLOR": "never"}


def _run(args, cwd, env, check=True) -> subprocess.CompletedProcess:
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


def _working_tree_files(env) -> list[str]:
    if (ROOT / ".git").exists():
        proc = _run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], ROOT, env, check=False)
        if proc.returncode == 0:
            return [p for p in proc.stdout.split("\0") if p and (ROOT / p).is_file()]
    out = []  # not a git checkout (an sdist): everything but caches
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.endswith(".egg-info")]
        out += [os.path.relpath(os.path.join(folder, f), ROOT) for f in files if not f.endswith(".pyc")]
    return out


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory, env):
    """This working tree, committed in a fresh repository: what a user's pre-commit would clone."""
    snap = tmp_path_factory.mktemp("xfedlint-hook-repo")
    for rel in _working_tree_files(env):
        target = snap / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, target)
    assert (snap / ".pre-commit-hooks.yaml").is_file() and (snap / "pyproject.toml").is_file()
    _run(["git", "init", "-q"], snap, env)
    _run(["git", "add", "-A"], snap, env)
    _run(["git", "commit", "-q", "-m", "snapshot of the xfedlint working tree"], snap, env)
    rev = _run(["git", "rev-parse", "HEAD"], snap, env).stdout.strip()
    return snap, rev


@pytest.fixture
def project(tmp_path, env):
    """A user's repository: one bad and one good trust policy, a workflow, a README and some Terraform."""
    _run(["git", "init", "-q"], tmp_path, env)
    (tmp_path / "iam").mkdir()
    (tmp_path / "iam" / "bad-trust.json").write_text((FIXTURES / "fail-star" / "trust.json").read_text())
    (tmp_path / "iam" / "good-trust.json").write_text((FIXTURES / "pass-exact" / "trust.json").read_text())
    # neither is YAML: were Markdown or Terraform passed to the hook, XF001 would fail it
    (tmp_path / "README.md").write_text("# infra\n\n`iam/` holds one trust policy per role.\n")
    (tmp_path / "main.tf").write_text('variable "region" {\n  type    = string\n  default = "us: east"\n}\n')
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "ci.yml").write_text(
        "on: [push]\njobs:\n  scan:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.sha }}\n")
    return tmp_path


def _pre_commit(*args) -> list[str]:
    return [sys.executable, "-m", "pre_commit", *args]


@pytest.mark.slow
@needs_git
def test_try_repo_fails_the_bad_manifest_and_passes_the_good_one(hook_repo, project, env):
    snap, _ = hook_repo
    _run(["git", "add", "-A"], project, env)
    bad = _run(_pre_commit("try-repo", str(snap), "xfedlint", "--files", "iam/bad-trust.json"), project, env,
               check=False)
    output = bad.stdout + bad.stderr
    print(output)
    assert bad.returncode == 1, output
    assert "Failed" in output and "- hook id: xfedlint" in output and "- exit code: 1" in output
    assert "AWS019" in output and "iam/bad-trust.json" in output and "10:71" in output

    good = _run(_pre_commit("try-repo", str(snap), "xfedlint", "--files", "iam/good-trust.json"), project, env,
                check=False)
    output = good.stdout + good.stderr
    print(output)
    assert good.returncode == 0, output
    assert "Passed" in output and "AWS019" not in output


@pytest.mark.slow
@needs_git
def test_installed_hook_blocks_the_bad_commit_and_lets_the_good_one_through(hook_repo, project, env):
    snap, rev = hook_repo
    (project / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {snap.as_posix()}\n    rev: {rev}\n    hooks:\n      - id: xfedlint\n")
    _run(_pre_commit("install"), project, env)

    _run(["git", "add", ".pre-commit-config.yaml", ".github", "README.md", "main.tf", "iam/good-trust.json"],
         project, env)
    good = _run(["git", "commit", "-m", "good trust policy"], project, env, check=False)
    output = good.stdout + good.stderr
    print(output)
    assert good.returncode == 0, output
    assert "Passed" in output  # both YAML files and the good JSON were checked; README.md and main.tf not passed

    _run(["git", "add", "iam/bad-trust.json"], project, env)
    bad = _run(["git", "commit", "-m", "bad trust policy"], project, env, check=False)
    output = bad.stdout + bad.stderr
    print(output)
    assert bad.returncode != 0, output
    assert "Failed" in output and "AWS019" in output
    log = _run(["git", "log", "--format=%s"], project, env).stdout.split("\n")
    assert log[0] == "good trust policy"  # the bad commit was not made
