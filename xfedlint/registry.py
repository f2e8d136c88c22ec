"""The rule catalog: rules/<ID>.yaml loaded, checked for consistency and bound to their checks.

Rule files are data (metadata, severity, check key, params, docs). The full JSON Schema validation
(`validate_schema`) runs in the test suite and in `xfedlint rules --validate`; every run still checks what
the engine relies on (unique IDs, a known check, a valid severity) so a bad user rule fails with exit 2.
"""

from __future__ import annotations

import json
import os
import zlib
from pathlib import Path

import msgspec

from xfedlint.errors import RuleDefinitionError, UsageError
from xfedlint.findings import SEVERITIES

ENGINE_RULES = ("XF001", "XF002")  # raised by the engine itself, not by a check


class RuleSpec(msgspec.Struct, frozen=True):
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
    params: dict = msgspec.field(default_factory=dict)
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


CATALOG_CACHE = "catalog.json"  # next to the rule files: their data as JSON, with the digest of the sources


def load_rules(directory: Path | None = None) -> dict[str, RuleSpec]:
    """Every rule, by ID, in catalog order.

    The rule files are YAML; parsing 80 of them costs more than the rest of a one-file scan, so the folder
    may hold `catalog.json` (written by `write_catalog_cache`, kept current by the test suite) with the same
    data. It is used only when its digest matches the YAML files as they are now, so an edited rule file
    is never shadowed by a stale cache.
    """
    from xfedlint.checks import CHECKS

    directory = directory or rules_dir()
    sources = _rule_sources(directory)
    cached = _cached_data(directory, sources)
    rules: dict[str, RuleSpec] = {}
    for name, raw in sources:
        path = directory / name
        if cached is not None:
            data = cached[name]
        else:
            data = _parse(path, raw)
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


def _rule_sources(directory: Path) -> list[tuple[str, bytes]]:
    out = []
    for name in sorted(os.listdir(directory)):
        if name.endswith(".yaml"):
            try:
                with open(directory / name, "rb") as fh:
                    out.append((name, fh.read()))
            except OSError as exc:
                raise RuleDefinitionError(f"{directory / name}: {exc}") from exc
    return out


def _parse(path: Path, raw: bytes):
    import yaml

    try:
        return yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise RuleDefinitionError(f"{path}: {exc}") from exc


def _digest(sources: list[tuple[str, bytes]]) -> str:
    """Detects any change to the rule files (not an integrity check: the cache sits beside them)."""
    crc = 0
    for name, raw in sources:
        crc = zlib.crc32(raw, zlib.crc32(name.encode() + b"\0", crc))
    return f"{len(sources)}:{sum(len(raw) for _, raw in sources)}:{crc:08x}"


def _cached_data(directory: Path, sources: list[tuple[str, bytes]]) -> dict | None:
    try:
        with open(directory / CATALOG_CACHE, encoding="utf-8") as fh:
            cache = json.load(fh)
    except (OSError, ValueError):
        return None
    if not isinstance(cache, dict) or cache.get("digest") != _digest(sources):
        return None
    data = cache.get("rules")
    return data if isinstance(data, dict) and all(name in data for name, _ in sources) else None


def catalog_cache_text(directory: Path | None = None) -> str:
    """What `catalog.json` must hold for the rule files of `directory` as they are now."""
    directory = directory or rules_dir()
    sources = _rule_sources(directory)
    data = {name: _parse(directory / name, raw) for name, raw in sources}
    return json.dumps({"digest": _digest(sources), "rules": data}, indent=1, ensure_ascii=False) + "\n"


def write_catalog_cache(directory: Path | None = None) -> bool:
    """Writes `catalog.json` when it is missing or stale; returns whether it changed."""
    directory = directory or rules_dir()
    text = catalog_cache_text(directory)
    path = directory / CATALOG_CACHE
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    return True


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
    for name, raw in _rule_sources(directory):
        path = directory / name
        data = _parse(path, raw)
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
