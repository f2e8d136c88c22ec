"""`--format github`: GitHub Actions workflow-command annotations, one per active finding."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from xfedlint import registry
from xfedlint.findings import Finding, RunResult, Suppression
from xfedlint.model.location import Location, Span
from xfedlint.reporters import github
from xfedlint.reporters.paths import Rebase

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "seed-guide"
COMMAND = re.compile(r"^::(error|warning|notice) ((?:[a-zA-Z]+=[^,:]*)(?:,[a-zA-Z]+=[^,:]*)*)::(.*)$")

BAD_TRUST = (ROOT / "tests" / "fixtures" / "AWS019" / "fail-star" / "trust.json").read_text()


def _parse(line: str) -> tuple[str, dict, str]:
    m = COMMAND.match(line)
    assert m, line
    props = dict(p.split("=", 1) for p in m.group(2).split(","))
    return m.group(1), props, m.group(3)


def _render(*findings: Finding, root: Path, notices=()) -> list[str]:
    rules = registry.load_rules()
    result = RunResult(findings=list(findings), rules=[rules["AWS019"]], files_seen=1)
    result.notices = list(notices)
    out = io.StringIO()
    github.render(result, out, Rebase(root=str(root), cwd=str(root)))
    return out.getvalue().splitlines()


def _finding(**kw) -> Finding:
    base = dict(rule="AWS019", name="aws-oidc-aud-wildcard", severity="error", message="`StringLike` admits `*`",
                location=Location("trust.json", Span(10, 71, 10, 74)), fingerprint="0" * 32)
    base.update(kw)
    return Finding(**base)


def test_one_annotation_per_active_finding_through_the_cli(run_cli, tmp_path):
    (tmp_path / ".git").mkdir()  # the repository root
    (tmp_path / "iam").mkdir()
    (tmp_path / "iam" / "trust.json").write_text(BAD_TRUST)
    code, out, _ = run_cli("scan", "iam", "--format", "github", cwd=tmp_path)
    assert code == 1
    lines = out.splitlines()
    assert lines[-1].startswith("xfedlint: 1 finding (1 error, 0 warning, 0 note) in 1 file read")
    assert len(lines) == 2
    level, props, message = _parse(lines[0])
    # line 10 of the fixture: the wildcard `"*"` starts at column 71 and spans 3 characters (71..73 inclusive)
    col = BAD_TRUST.splitlines()[9].index('"*"') + 1
    assert level == "error"
    assert props == {"file": "iam/trust.json", "line": "10", "col": str(col), "endLine": "10",
                     "endColumn": str(col + 2), "title": "AWS019 aws-oidc-aud-wildcard"}
    assert list(props) == ["file", "line", "col", "endLine", "endColumn", "title"]
    assert message.startswith("`StringLike` on `oidc.eks.us-east-1.amazonaws.com/id/ABC:aud` admits `*`")


def test_paths_are_repository_relative_from_a_subfolder(run_cli, tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / "infra" / "iam").mkdir(parents=True)
    (tmp_path / "infra" / "iam" / "trust.json").write_text(BAD_TRUST)
    code, out, _ = run_cli("scan", "iam", "--format", "github", cwd=tmp_path / "infra")
    assert _parse(out.splitlines()[0])[1]["file"] == "infra/iam/trust.json"


def test_levels_map_to_error_warning_notice(tmp_path):
    lines = _render(_finding(), _finding(severity="warning", fingerprint="1" * 32),
                    _finding(severity="note", fingerprint="2" * 32), root=tmp_path)
    assert [_parse(x)[0] for x in lines[:3]] == ["error", "warning", "notice"]


def test_suppressed_findings_are_not_annotated(tmp_path):
    lines = _render(_finding(suppression=Suppression("inSource", "reviewed")),
                    _finding(fingerprint="1" * 32, suppression=Suppression("external")), root=tmp_path)
    assert lines == ["xfedlint: 0 findings (0 error, 0 warning, 0 note; 2 suppressed) in 1 file read"]


def test_escaping_of_message_and_properties(tmp_path):
    f = _finding(name="odd,name", message="100% sure:\nline two\r\nend",
                 location=Location("dir,with:odd%chars/trust.json", Span(3, 5, 3, 9)))
    line = _render(f, root=tmp_path)[0]
    assert "\n" not in line and "\r" not in line
    level, props, message = _parse(line)
    assert props["file"] == "dir%2Cwith%3Aodd%25chars/trust.json"
    assert props["title"] == "AWS019 odd%2Cname"
    assert message == "100%25 sure:%0Aline two%0D%0Aend"  # `:` and `,` stay in the message
    assert github.escape_property("a%b:c,d\ne\rf") == "a%25b%3Ac%2Cd%0Ae%0Df"
    assert github.escape_data("a%b:c,d\ne\rf") == "a%25b:c,d%0Ae%0Df"


def test_multi_line_span_has_no_columns_and_a_file_outside_is_absolute(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    f = _finding(location=Location("../other/pod.yaml", Span(4, 3, 9, 1)))
    _, props, _ = _parse(_render(f, root=repo)[0])
    assert props == {"file": str(tmp_path / "other" / "pod.yaml"), "line": "4", "endLine": "9",
                     "title": "AWS019 aws-oidc-aud-wildcard"}


def test_stdin_and_fileless_findings_have_no_file(tmp_path):
    lines = _render(_finding(location=Location("<stdin>", Span(2, 1, 2, 4))),
                    _finding(location=Location("", Span(1, 1, 1, 1)), fingerprint="1" * 32), root=tmp_path)
    for line in lines[:2]:
        assert _parse(line)[1] == {"title": "AWS019 aws-oidc-aud-wildcard"}


def test_notices_are_annotated_after_findings(tmp_path):
    notice = SimpleNamespace(level="warning", message="`# xfedlint: ignore` suppresses nothing: name the rules",
                             location=Location("pod.yaml", Span(3, 3, 3, 22)))
    lines = _render(_finding(), notices=[notice], root=tmp_path)
    level, props, message = _parse(lines[1])
    assert level == "warning" and props["title"] == "xfedlint" and props["file"] == "pod.yaml"
    assert message == notice.message


def test_seed_guide_annotations_match_active_findings(run_cli):
    code, out, _ = run_cli("scan", "examples/seed-guide", "--format", "github", "--fail-on", "never", cwd=ROOT)
    assert code == 0
    json_code, json_out, _ = run_cli("scan", "examples/seed-guide", "--format", "json", "--fail-on", "never",
                                     cwd=ROOT)
    import json

    active = [f for f in json.loads(json_out)["findings"] if not f["suppressed"]]
    annotations = [line for line in out.splitlines() if line.startswith("::")]
    assert len(annotations) == len(active) > 0
    for line, f in zip(annotations, active, strict=True):
        level, props, _ = _parse(line)
        assert level == {"error": "error", "warning": "warning", "note": "notice"}[f["severity"]]
        assert props["file"] == f["file"] and props["line"] == str(f["line"])
        assert props["title"] == f"{f['rule']} {f['name']}"


def test_github_format_imports_no_rich():
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "xfedlint", "scan", str(SEED / "1-eks"),
                           "--format", "github"], capture_output=True, text=True, cwd=ROOT)
    names = {line.rsplit("|", 1)[1].strip().split(".")[0] for line in proc.stderr.splitlines()
             if line.startswith("import time:") and "|" in line}
    assert names and "rich" not in names and "jsonschema" not in names
