"""Rule documentation, generated from rules/<ID>.yaml: docs/rules/<ID>.md, `explain`, SARIF help."""

from __future__ import annotations

import json
from pathlib import Path

from xfedlint.registry import RuleSpec

PROJECT_URL = "https://github.com/xfedlint/xfedlint"
SECTIONS = (("what_it_does", "What it does"), ("why_bad", "Why is this bad?"), ("example", "Example"),
            ("use_instead", "Use instead"), ("notes", "Notes"))


def help_uri(rule: RuleSpec) -> str:
    return f"{PROJECT_URL}/blob/main/docs/rules/{rule.id}.md"


def severity_line(rule: RuleSpec) -> str:
    if rule.severities:
        return f"{rule.severity} (by case: {', '.join(rule.severities)})"
    return rule.severity


def markdown(rule: RuleSpec) -> str:
    """The docs page. Generated: edit rules/<ID>.yaml, then run `xfedlint rules --write-docs docs/rules`."""
    lines = [f"# {rule.id} `{rule.name}`", "", f"**{rule.title}**", "",
             f"- Severity: {severity_line(rule)}", f"- Precision: {rule.precision}",
             f"- Tags: {', '.join(rule.tags)}"]
    if rule.supersedes:
        lines.append(f"- Supersedes: {', '.join(rule.supersedes)} (reported instead of them for the same resource)")
    if rule.params:
        lines.append("- Parameters (override in `.xfedlint.yaml` under `params`):")
        for k, v in rule.params.items():
            lines.append(f"  - `{k}`: `{json.dumps(v)}`")
    lines.append("")
    for key, title in SECTIONS:
        text = rule.docs.get(key)
        if text:
            lines += [f"## {title}", "", text.strip(), ""]
    lines += ["## How to fix", "", rule.fix.strip(), "", "## References", ""]
    lines += [f"- [{r['title']}]({r['url']})" for r in rule.docs.get("references", [])]
    lines += ["", "<!-- Generated from rules/%s.yaml by `xfedlint rules --write-docs`. Do not edit. -->" % rule.id, ""]
    return "\n".join(lines)


def plain_help(rule: RuleSpec) -> str:
    return f"{rule.docs['what_it_does'].strip()}\n\nFix: {rule.fix.strip()}"


def write_pages(rules: list[RuleSpec], directory: Path) -> list[Path]:
    """Write every page; returns the files that changed."""
    directory.mkdir(parents=True, exist_ok=True)
    changed = []
    for rule in rules:
        path = directory / f"{rule.id}.md"
        text = markdown(rule)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed
