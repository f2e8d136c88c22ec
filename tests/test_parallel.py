"""Several worker processes give exactly the report of one (`--jobs`, xfedlint.parallel).

The input mixes a generated estate (bench/generate.py: correlated manifests, trust policies, credentials,
providers and bindings across files, one application in ten with an anti-pattern), the seed guide and the
hostile fixtures (load problems must merge back in scan order too).
"""

from __future__ import annotations

import sys

import pytest

from tests.conftest import ROOT
from xfedlint import api, parallel
from xfedlint.loaders import load_files
from xfedlint.loaders.files import discover

pytestmark = pytest.mark.skipif(not parallel.available(), reason="worker processes need fork()")


@pytest.fixture(scope="module")
def estate(tmp_path_factory) -> str:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import generate
    finally:
        sys.path.remove(str(ROOT / "bench"))
    out = tmp_path_factory.mktemp("estate") / "corpus"
    assert generate.main(["--files", "160", "--out", str(out), "--seed", "7"]) == 0
    return str(out)


def _inputs(estate: str) -> tuple[str, ...]:
    return (estate, str(ROOT / "examples" / "seed-guide"), str(ROOT / "tests" / "fixtures" / "hostile"))


@pytest.mark.parametrize("fmt", ["json", "sarif", "text"])
def test_workers_give_the_same_report_as_one_process(run_cli, estate, fmt):
    args = ("scan", *_inputs(estate), "--format", fmt, "--fail-on", "never")
    one = run_cli(*args, "--jobs", "1", cwd=ROOT)
    assert one[0] == 0 and "XF001" in one[1] and "AWS019" in one[1]  # load problems and findings both
    for jobs in ("2", "3"):
        assert run_cli(*args, "--jobs", jobs, cwd=ROOT) == one, f"--jobs {jobs} differs from --jobs 1"


def test_workers_load_the_same_inventory(estate):
    files, _ = discover(_inputs(estate))
    one, two = load_files(files, jobs=1), load_files(files, jobs=2)
    assert [(type(r).__name__, r.identity, r.src.loc().span) for r in one] == \
           [(type(r).__name__, r.identity, r.src.loc().span) for r in two]
    assert [p.location for p in one.problems] == [p.location for p in two.problems]
    assert (one.files_seen, one.files_relevant, one.texts) == (two.files_seen, two.files_relevant, two.texts)


def test_small_scans_run_in_one_process():
    assert api.auto_jobs(1) == 1 and api.auto_jobs(api.PARALLEL_FROM_FILES - 1) == 1
    assert 1 <= api.auto_jobs(10_000) <= parallel.MAX_WORKERS


def test_standard_input_is_read_by_the_parent(run_cli, monkeypatch, estate):
    """A worker must not read the parent's standard input: with `-` among the inputs, loading stays here."""
    files, _ = discover(("-", estate))
    assert not parallel.can_load(files)


def test_a_graph_that_cannot_be_built_fails_its_rules_alone_as_with_one_process(monkeypatch, estate):
    """The graph is built before the workers fork; if building it crashes (a bug), the correlation rules each
    report XF002 and every other rule still runs, exactly as in one process."""
    from xfedlint.graph import build as graph_build

    def broken(*args, **kwargs):
        raise RuntimeError("graph bug")

    monkeypatch.setattr(graph_build, "build", broken)
    one, two = (api.scan(_inputs(estate), jobs=jobs) for jobs in (1, 2))
    crashed = [f for f in one.findings if f.rule == "XF002"]
    assert crashed and all("graph bug" in f.message for f in crashed)
    assert any(f.rule == "AWS019" for f in one.findings)
    assert [(f.rule, f.location, f.message, f.fingerprint) for f in two.findings] == \
           [(f.rule, f.location, f.message, f.fingerprint) for f in one.findings]
