"""The rule catalog: rules/<ID>.yaml loaded, checked for consistency and bound to their checks.

Rule files are data (metadata, severity, check key, params, docs). The full JSON Schema validation
(`validate_schema`) runs in the test suite and in `xfedlint rules --validate`; every run still checks what
the engine relies on (unique IDs, a known check, a valid severity) so a bad user rule fails with exit 2.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from xfedlint.errors import RuleDefinitionError, UsageError
from xfedlint.findings import SEVERITIES

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
ENGINE_RULES = ("XF001", "XF002")  # raised by the engine itself, not by a check


@dataclass(frozen=True)
class RuleSpec:
    id: str
    name: str
    title: str
    severity: str
    check: str
    fix: str
    docs: dict
    tags: tuple = ()
    precision: str = "high"
    severities: tuple = ()
    params: dict = field(default_factory=dict)
    supersedes: tuple = ()
    source: str = ""  # the YAML file it came from

    @property
    def allowed_severities(self) -> tuple:
        return self.severities or (self.severity,)


def rules_dir() -> Path:
    """rules/ inside the installed package (wheel) or at the top of a source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "rules", here.parent / "rules"):
        if candidate.is_dir():
            return candidate
    raise RuleDefinitionError(f"no rules folder found next to {here}")


def _spec(data: dict, source: str) -> RuleSpec:
    if not isinstance(data, dict):
        raise RuleDefinitionError(f"{source}: a rule file must be a mapping")
    missing = [k for k in ("id", "name", "title", "severity", "check", "fix", "docs") if k not in data]
    if missing:
        raise RuleDefinitionError(f"{source}: missing {', '.join(missing)}")
    if data["severity"] not in SEVERITIES:
        raise RuleDefinitionError(f"{source}: severity must be one of {', '.join(SEVERITIES)}")
    return RuleSpec(id=str(data["id"]), name=str(data["name"]), title=str(data["title"]),
                    severity=data["severity"], check=str(data["check"]), fix=str(data["fix"]),
                    docs=dict(data["docs"]), tags=tuple(data.get("tags") or ()),
                    precision=str(data.get("precision", "high")), severities=tuple(data.get("severities") or ()),
                    params=dict(data.get("params") or {}), supersedes=tuple(data.get("supersedes") or ()),
                    source=source)


def load_rules(directory: Path | None = None) -> dict[str, RuleSpec]:
    """Every rule, by ID, in catalog order."""
    from xfedlint.checks import CHECKS

    directory = directory or rules_dir()
    rules: dict[str, RuleSpec] = {}
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".yaml"):
            continue
        path = directory / name
        try:
            with open(path, encoding="utf-8") as fh:
                data = yaml.load(fh, Loader=_Loader)
        except (OSError, yaml.YAMLError) as exc:
            raise RuleDefinitionError(f"{path}: {exc}") from exc
        spec = _spec(data, str(path))
        if name != f"{spec.id}.yaml":
            raise RuleDefinitionError(f"{path}: file name must be {spec.id}.yaml")
        if spec.id in rules:
            raise RuleDefinitionError(f"{path}: duplicate rule ID {spec.id}")
        if spec.id not in ENGINE_RULES and spec.check not in CHECKS:
            raise RuleDefinitionError(f"{path}: unknown check {spec.check!r}")
        rules[spec.id] = spec
    names = [r.name for r in rules.values()]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise RuleDefinitionError(f"duplicate rule names: {', '.join(sorted(dupes))}")
    return dict(sorted(rules.items(), key=lambda kv: catalog_order(kv[0])))


_FAMILY_ORDER = ("XF", "K8S", "AWS", "AZ", "GCP", "X", "CRED", "PERM")


def catalog_order(rule_id: str) -> tuple:
    family = rule_id.rstrip("0123456789")
    return (_FAMILY_ORDER.index(family) if family in _FAMILY_ORDER else 99, rule_id)


def validate_schema(directory: Path | None = None) -> list[str]:
    """Full JSON Schema validation of every rule file; returns the problems found (empty when valid)."""
    import jsonschema

    schema = json.loads((Path(__file__).parent / "schemas" / "rule.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    problems = []
    directory = directory or rules_dir()
    for path in sorted(directory.glob("*.yaml")):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
        for err in validator.iter_errors(data):
            where = "/".join(str(p) for p in err.absolute_path) or "(root)"
            problems.append(f"{path.name}: {where}: {err.message}")
    return problems


def select(rules: dict[str, RuleSpec], select_ids: tuple = (), ignore_ids: tuple = ()) -> list[RuleSpec]:
    """Rules chosen by --select / --ignore (IDs or prefixes such as AWS or GCP0)."""
    def matches(rule_id: str, patterns: tuple) -> bool:
        return any(rule_id.startswith(p.strip().upper()) for p in patterns if p.strip())

    unknown = [p for p in (*select_ids, *ignore_ids) if p.strip() and not any(matches(r, (p,)) for r in rules)]
    if unknown:  # a typo must not silently select nothing (or ignore nothing)
        raise UsageError(f"unknown rule ID or prefix: {', '.join(unknown)} (`xfedlint rules` lists them)")
    chosen = [r for r in rules.values() if not select_ids or matches(r.id, select_ids)]
    return [r for r in chosen if not matches(r.id, ignore_ids)]
