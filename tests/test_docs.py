"""The rule catalog as data: schema-valid, complete, and its generated docs pages fresh."""

from __future__ import annotations

from pathlib import Path

from xfedlint import docsgen, registry
from xfedlint.checks import CHECKS

ROOT = Path(__file__).resolve().parent.parent


def test_rule_files_validate_against_the_schema():
    assert registry.validate_schema() == []


def test_every_check_is_used_and_every_rule_bound():
    rules = registry.load_rules()
    used = {r.check for r in rules.values()}
    assert set(CHECKS) <= used, f"checks no rule uses: {set(CHECKS) - used}"
    for r in rules.values():
        assert r.id in registry.ENGINE_RULES or r.check in CHECKS


def test_docs_pages_are_generated_and_fresh():
    """Fails when a page is missing or stale: run `xfedlint rules --write-docs docs/rules`."""
    rules = registry.load_rules()
    stale = []
    for r in rules.values():
        page = ROOT / "docs" / "rules" / f"{r.id}.md"
        if not page.exists() or page.read_text(encoding="utf-8") != docsgen.markdown(r):
            stale.append(r.id)
    assert not stale, f"missing or stale docs pages (run `xfedlint rules --write-docs docs/rules`): {stale}"
    pages = {p.stem for p in (ROOT / "docs" / "rules").glob("*.md")}
    assert pages == set(rules), f"pages without a rule: {pages - set(rules)}"


def test_docs_have_the_fixed_sections():
    for r in registry.load_rules().values():
        page = docsgen.markdown(r)
        for title in ("## What it does", "## Why is this bad?", "## Example", "## Use instead", "## References"):
            assert title in page, (r.id, title)


def test_catalog_cache_is_fresh():
    """rules/catalog.json spares every run the parsing of 80 YAML files: run
    `xfedlint rules --write-docs docs/rules` after editing a rule."""
    path = registry.rules_dir() / registry.CATALOG_CACHE
    assert path.read_text(encoding="utf-8") == registry.catalog_cache_text(), (
        "stale rules/catalog.json (run `xfedlint rules --write-docs docs/rules`)")


def test_a_stale_catalog_cache_is_ignored(tmp_path):
    """An edited rule file wins over the cache: the digest no longer matches, so the YAML is read."""
    for src in registry.rules_dir().iterdir():
        (tmp_path / src.name).write_bytes(src.read_bytes())
    rule = tmp_path / "AWS001.yaml"
    rule.write_text(rule.read_text(encoding="utf-8").replace("\nseverity: error\n", "\nseverity: note\n", 1),
                    encoding="utf-8")
    assert registry.load_rules()["AWS001"].severity == "error"
    assert registry.load_rules(tmp_path)["AWS001"].severity == "note"
    (tmp_path / registry.CATALOG_CACHE).write_text("{not json", encoding="utf-8")  # a broken cache is ignored too
    assert registry.load_rules(tmp_path)["AWS001"].severity == "note"


def test_ci_runs_exactly_the_readme_test_command():
    """The README's "Run the tests" command is what CI (.ci/run) runs, so the newcomer's command stays true."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("Run the tests"):]
    body = section[section.index("```sh\n") + len("```sh\n"):]
    command = body[:body.index("```")].strip()
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    assert command in ci_lines, command
