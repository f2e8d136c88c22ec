"""The command line: options in, `api` call, a reporter, an exit code. No logic of its own."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from xfedlint import __version__, api, exit_policy, registry
from xfedlint.errors import XfedlintError

FORMATS = ("text", "json", "sarif")


def _split(values: tuple) -> tuple:
    return tuple(v.strip() for item in values for v in item.split(",") if v.strip())


def _use_color(stream) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return hasattr(stream, "isatty") and stream.isatty()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="xfedlint")
def cli() -> None:
    """Audit workload identity federation: Kubernetes service accounts and CI issuers, and the AWS, Azure
    and GCP trust that accepts their tokens."""


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True, help="Output format.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="Write the report to FILE.")
@click.option("--fail-on", type=click.Choice(exit_policy.FAIL_ON), default="warning", show_default=True,
              help="Exit 1 when a finding at or above this severity is reported.")
@click.option("--select", multiple=True, help="Only these rule IDs or prefixes (comma-separated, repeatable).")
@click.option("--ignore", multiple=True, help="Skip these rule IDs or prefixes (comma-separated, repeatable).")
@click.option("--exclude", multiple=True, help="Skip files and folders matching this glob (repeatable).")
@click.option("--strict", is_flag=True, help="Unparseable inputs fail the run (exit 3).")
def scan(paths, fmt, output, fail_on, select, ignore, exclude, strict) -> None:
    """Scan files and folders (default: the current folder; `-` reads standard input)."""
    try:
        result = api.scan(tuple(paths) or (".",), select=_split(select), ignore=_split(ignore), exclude=exclude)
    except XfedlintError as exc:
        click.echo(f"xfedlint: {exc}", err=True)
        sys.exit(exc.exit_code)
    code = exit_policy.ExitPolicy(fail_on, strict).code(result)
    stream = open(output, "w", encoding="utf-8") if output else sys.stdout
    try:
        if fmt == "text":
            from xfedlint.reporters import text

            fixes = {r.id: r.fix for r in result.rules}
            text.render(result, stream, fixes, color=_use_color(stream))
        elif fmt == "json":
            from xfedlint.reporters import json_report

            json_report.render(result, stream)
        else:
            from xfedlint.reporters import sarif

            sarif.render(result, stream)
    finally:
        if output:
            stream.close()
    if code == exit_policy.NO_INPUT and not result.files_seen:
        click.echo("xfedlint: no input files found" + (f" (missing: {', '.join(result.missing_paths)})"
                                                       if result.missing_paths else ""), err=True)
    sys.exit(code)


@cli.command("rules")
@click.option("--format", "fmt", type=click.Choice(("table", "json", "markdown")), default="table", show_default=True)
@click.option("--write-docs", type=click.Path(file_okay=False), help="Write docs/rules/<ID>.md pages into DIR.")
@click.option("--validate", is_flag=True, help="Validate every rule file against the rule JSON Schema.")
def rules_cmd(fmt, write_docs, validate) -> None:
    """List the rule catalog."""
    try:
        rules = registry.load_rules()
    except XfedlintError as exc:
        click.echo(f"xfedlint: {exc}", err=True)
        sys.exit(exc.exit_code)
    if validate:
        problems = registry.validate_schema()
        for p in problems:
            click.echo(p, err=True)
        if problems:
            sys.exit(exit_policy.USAGE)
        click.echo(f"{len(rules)} rule files valid.")
        return
    if write_docs:
        from xfedlint import docsgen

        changed = docsgen.write_pages(list(rules.values()), Path(write_docs))
        click.echo(f"{len(changed)} page(s) written to {write_docs}.")
        return
    if fmt == "json":
        import json

        click.echo(json.dumps([{"id": r.id, "name": r.name, "severity": r.severity, "title": r.title,
                                "tags": list(r.tags)} for r in rules.values()], indent=2))
    elif fmt == "markdown":
        click.echo("| ID | Name | Severity | Title |\n|---|---|---|---|")
        for r in rules.values():
            click.echo(f"| [{r.id}](docs/rules/{r.id}.md) | `{r.name}` | {r.severity} | {r.title} |")
    else:
        for r in rules.values():
            click.echo(f"{r.id:<8} {r.severity:<8} {r.name:<44} {r.title}")


@cli.command()
@click.argument("rule_id")
def explain(rule_id) -> None:
    """Show one rule's documentation."""
    from xfedlint import docsgen

    rules = registry.load_rules()
    rule = rules.get(rule_id.upper()) or next((r for r in rules.values() if r.name == rule_id), None)
    if rule is None:
        click.echo(f"xfedlint: unknown rule {rule_id!r}; `xfedlint rules` lists them", err=True)
        sys.exit(exit_policy.USAGE)
    page = docsgen.markdown(rule)
    if _use_color(sys.stdout):
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(page))
    else:
        click.echo(page)


def main() -> None:
    try:
        cli(prog_name="xfedlint")
    except SystemExit:
        raise
    except Exception:  # a bug: say so plainly, with what to report
        import traceback

        traceback.print_exc()
        click.echo("xfedlint: internal error (a bug). Please report it with the output above.", err=True)
        sys.exit(exit_policy.INTERNAL)
