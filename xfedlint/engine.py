"""Runs the selected rules over an inventory: isolates crashes, applies supersession, fingerprints, sorts."""

from __future__ import annotations

from msgspec.structs import replace

from xfedlint.checks import CHECKS
from xfedlint.checks.base import CheckContext, Hit
from xfedlint.findings import Finding, RunResult
from xfedlint.model.inventory import Inventory, LoadProblem
from xfedlint.model.location import WHOLE_FILE, Location, source_lines
from xfedlint.registry import ENGINE_RULES, RuleSpec


def run(inventory: Inventory, rules: list[RuleSpec], params: dict | None = None, config=None, jobs: int = 1) -> RunResult:
    """`params` maps a rule ID to overrides of that rule's params (from the configuration); `config` carries
    what correlation needs (clusters, whether the Kubernetes inventory is complete). `jobs` > 1 shares the
    checking among worker processes (xfedlint.parallel); the result is the same as with one."""
    params = params or {}
    by_id = {r.id: r for r in rules}
    pairs: list[tuple[Finding, str | None]] = []  # each finding with its supersession anchor
    if "XF001" in by_id:
        pairs.extend((_problem_finding(by_id["XF001"], p), None) for p in inventory.problems)
    post: list[tuple[RuleSpec, CheckContext]] = []
    checked: list[RuleSpec] = []
    for rule in rules:
        if rule.id in ENGINE_RULES:
            continue
        check = CHECKS[rule.check]
        if not check.applies(inventory):
            continue
        if check.post:
            post.append((rule, CheckContext(inventory, rule_params(rule, params), config)))
        else:
            checked.append(rule)
    if jobs > 1:
        from xfedlint import parallel

        per_rule = parallel.check(inventory, checked, params, config, by_id.get("XF002"), jobs)
    else:
        per_rule = [check_rule(inventory, rule, params, config, by_id.get("XF002")) for rule in checked]
    for rule_pairs in per_rule:
        pairs.extend(rule_pairs)
    findings = place(_supersede(pairs, rules), inventory.texts)
    for rule, ctx in post:  # escalators see every other finding and may raise their severity
        try:
            findings = list(CHECKS[rule.check].fn(findings, ctx))
        except Exception as exc:
            if "XF002" in by_id:
                findings.append(_crash_finding(by_id["XF002"], rule, None, exc))
    findings.sort(key=Finding.sort_key)
    return RunResult(findings=findings, rules=rules, files_seen=inventory.files_seen,
                     files_relevant=inventory.files_relevant, resources=len(inventory),
                     problems=list(inventory.problems), sources=inventory.texts)


def rule_params(rule: RuleSpec, params: dict) -> dict:
    return {**rule.params, **params.get(rule.id, {})}


def targets(inventory: Inventory, rule: RuleSpec) -> list:
    """What the rule's check is called on, in a fixed order: each resource of its kind, or [None] (once)."""
    check = CHECKS[rule.check]
    return inventory.of(check.kind) if check.kind is not None else [None]


def check_rule(inventory: Inventory, rule: RuleSpec, params: dict, config,
               xf002: RuleSpec | None) -> list[tuple[Finding, str | None]]:
    """(finding, supersession anchor) for each hit of one rule, a crash becoming XF002 (when selected)."""
    return [pair for _i, pairs in check_targets(inventory, rule, params, config, xf002) for pair in pairs]


def check_targets(inventory: Inventory, rule: RuleSpec, params: dict, config, xf002: RuleSpec | None,
                  only: list[int] | None = None) -> list[tuple[int, list]]:
    """(target position, its finding/anchor pairs) for the rule's targets, or for those at the positions
    `only` lists (a worker's share, which the parent merges back by position)."""
    todo = targets(inventory, rule)
    if not todo or only == []:
        return []  # and the check's module is never imported
    ctx = CheckContext(inventory, rule_params(rule, params), config)
    fn = CHECKS[rule.check].fn
    out: list[tuple[int, list]] = []
    for i in range(len(todo)) if only is None else only:
        resource = todo[i]
        try:
            hits = list(fn(resource, ctx) if resource is not None else fn(ctx))
        except Exception as exc:  # a crashing check must never end the run
            if xf002 is not None:
                out.append((i, [(_crash_finding(xf002, rule, resource, exc), None)]))
            continue
        if hits:
            identity = resource.identity if resource is not None else ""
            out.append((i, [(_finding(rule, hit, identity), hit.anchor) for hit in hits]))
    return out


def place(findings: list[Finding], texts: dict) -> list[Finding]:
    """Resolves every location of `findings` and gives each its fingerprint (which quotes the offending text).

    Locations are resolved stream by stream, so each file is parsed for positions once, and those positions
    are then forgotten: a scan of thousands of files never holds the spans of all of them at once.
    Findings that already have a fingerprint (placed in a worker process) are left as they are.
    """
    groups: dict[int, list] = {}
    for f in findings:
        if f.fingerprint:
            continue
        for loc in (f.location, *(r.location for r in f.related)):
            doc = loc.pending_doc
            if doc is not None:
                groups.setdefault(id(doc.locate) if doc.locate is not None else id(doc), []).append(loc)
    for locations in groups.values():
        doc = locations[0].pending_doc
        for loc in locations:
            loc.span  # noqa: B018 - resolving is the point
        doc.release_positions()
    return [f if f.fingerprint else replace(f, fingerprint=fingerprint(f.rule, f.resource, f.location, texts))
            for f in findings]


def _finding(rule: RuleSpec, hit: Hit, identity: str) -> Finding:
    severity = hit.severity or rule.severity
    if severity not in rule.allowed_severities:
        raise AssertionError(f"{rule.id}: a check reported severity {severity!r}, not declared in {rule.source}")
    return Finding(rule=rule.id, name=rule.name, severity=severity, message=hit.message, location=hit.location,
                   related=hit.related, resource=identity, sensitive=hit.sensitive)


def _sha256(data: bytes) -> str:
    import hashlib  # here, not at the top: a clean run (no finding) never loads OpenSSL's hashes

    return hashlib.sha256(data).hexdigest()[:32]


def fingerprint(rule_id: str, identity: str, location, texts: dict) -> str:
    """Stable across unrelated edits: rule, resource, JSON pointer and the offending text, never the line."""
    text = texts.get(location.file)
    snippet = _region_text(text, location.span) if text is not None else ""
    basis = "\x1f".join((rule_id, location.file, identity, location.pointer, snippet))
    return _sha256(basis.encode("utf-8"))


def _region_text(text: str, span) -> str:
    lines = source_lines(text)
    if not (0 < span.line <= len(lines)):
        return ""
    if span.line == span.end_line:
        return lines[span.line - 1][span.col - 1:span.end_col - 1]
    parts = [lines[span.line - 1][span.col - 1:]]
    parts.extend(lines[span.line:span.end_line - 1])
    if span.end_line - 1 < len(lines):
        parts.append(lines[span.end_line - 1][:span.end_col - 1])
    return "\n".join(parts)


def _problem_finding(rule: RuleSpec, problem: LoadProblem) -> Finding:
    return Finding(rule=rule.id, name=rule.name, severity=rule.severity, message=problem.message,
                   location=problem.location, resource=problem.location.file,
                   fingerprint=_sha256("\x1f".join((rule.id, problem.location.file, problem.reason)).encode()))


def _crash_finding(xf002: RuleSpec, rule: RuleSpec, resource, exc: Exception) -> Finding:
    import traceback  # only when a check crashed

    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" ({frame.filename.rsplit('/', 1)[-1]}:{frame.lineno})" if frame else ""
    what = resource.label if resource is not None else "the inventory"
    location = resource.src.loc() if resource is not None else Location("", WHOLE_FILE)
    return Finding(rule=xf002.id, name=xf002.name, severity=xf002.severity,
                   message=f"rule {rule.id} crashed on {what}: {type(exc).__name__}: {exc}{where}; "
                           f"the run went on without it. Please report this.",
                   location=location, resource=resource.identity if resource is not None else "",
                   fingerprint=_sha256(f"XF002\x1f{rule.id}\x1f{what}".encode()))


def _supersede(pairs: list, rules: list[RuleSpec]) -> list[Finding]:
    """One problem, one finding: drop a finding when a more specific rule reported on the same anchor."""
    superseded_by: dict[str, set] = {}
    for r in rules:
        for victim in r.supersedes:
            superseded_by.setdefault(victim, set()).add(r.id)
    present = {(f.rule, anchor) for f, anchor in pairs if anchor is not None}
    out = []
    for f, anchor in pairs:
        if anchor is not None and any((winner, anchor) in present for winner in superseded_by.get(f.rule, ())):
            continue
        out.append(f)
    return out
