"""The command line: options in, `api` call, a reporter, an exit code. No logic of its own."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NoReturn

import click

from xfedlint import __version__, api, exit_policy, registry
from xfedlint.errors import UsageError, XfedlintError

FORMATS = ("text", "json", "sarif", "github")


class OutputFile(click.Path):
    """A file to write the report to: its folder must exist and be writable, checked when the command line is
    read (a usage error, exit 2), not after a long scan."""

    def __init__(self) -> None:
        super().__init__(dir_okay=False, writable=True)

    def convert(self, value, param, ctx):
        path = super().convert(value, param, ctx)
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            self.fail(f"{click.format_filename(path)!r}: its folder does not exist", param, ctx)
        if not os.access(folder, os.W_OK):
            self.fail(f"{click.format_filename(path)!r}: its folder is not writable", param, ctx)
        return path


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
@click.option("--output", "-o", type=OutputFile(), help="Write the report to FILE.")
@click.option("--fail-on", type=click.Choice(exit_policy.FAIL_ON), default=None,
              help="Exit 1 when a finding at or above this severity is reported.  [default: warning, or the "
                   "config's fail-on]")
@click.option("--select", multiple=True, help="Only these rule IDs or prefixes (comma-separated, repeatable; "
                                              "replaces the config's select).")
@click.option("--ignore", multiple=True, help="Skip these rule IDs or prefixes (comma-separated, repeatable; "
                                              "replaces the config's ignore).")
@click.option("--exclude", multiple=True, help="Skip files and folders matching this glob (repeatable; added to "
                                               "the config's exclude).")
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              help="Configuration file (default: .xfedlint.yaml, .xfedlint.yml or [tool.xfedlint] in "
                   "pyproject.toml, in the current folder or the nearest parent).")
@click.option("--strict", is_flag=True, help="Unparseable inputs fail the run (exit 3).")
@click.option("--baseline", "baseline_file", type=click.Path(dir_okay=False),
              help="Report the findings recorded in FILE (by --write-baseline) as suppressed; new ones still count.")
@click.option("--write-baseline", "write_baseline", type=click.Path(dir_okay=False),
              help="Record the findings not otherwise suppressed in FILE (JSON); they are reported as suppressed.")
@click.option("--jobs", "-j", type=click.IntRange(min=0), default=0, show_default=False,
              help="Worker processes (1: none). The report is the same whatever the number.  [default: 0, the "
                   "usable CPUs (at most 8) for scans of 2,000 files or more, else 1]")
def scan(paths, fmt, output, fail_on, select, ignore, exclude, config_file, strict, baseline_file,
         write_baseline, jobs) -> None:
    """Scan files and folders (default: the current folder; `-` reads standard input)."""
    from xfedlint.config import load_config

    try:
        config = load_config(config_file, Path.cwd())
        result = api.scan(tuple(paths) or (".",), config=config, select=_split(select), ignore=_split(ignore),
                          exclude=exclude, baseline=baseline_file, write_baseline=write_baseline,
                          jobs=jobs or None)
    except XfedlintError as exc:
        _fail(exc)
    code = exit_policy.ExitPolicy(fail_on or config.fail_on, strict).code(result)
    _report(result, fmt, output)
    if code == exit_policy.NO_INPUT and not result.files_seen:
        _no_input(result.missing_paths)
    sys.exit(code)


def _fail(exc: XfedlintError) -> NoReturn:
    """A user-facing error: one line, and the exit code its kind says (2 usage, 3 input, ...)."""
    click.echo(f"xfedlint: {exc}", err=True)
    sys.exit(exc.exit_code)


def _no_input(missing: list) -> None:
    click.echo("xfedlint: no input files found" + (f" (missing: {', '.join(missing)})" if missing else ""), err=True)


def _open_output(output: str):
    """`output` opened for writing; a failure (the folder removed since the command line was read, a full
    disk) is a one-line error, exit 2."""
    try:
        return open(output, "w", encoding="utf-8")
    except OSError as exc:
        _fail(UsageError(f"cannot write {output}: {exc.strerror or exc}"))


def _report(result, fmt: str, output: str | None) -> None:
    """The report in `fmt` to `output` (or standard output), then the run's notices on standard error."""
    stream = _open_output(output) if output else sys.stdout
    try:
        if fmt == "text":
            from xfedlint.reporters import text

            fixes = {r.id: r.fix for r in result.rules}
            text.render(result, stream, fixes, color=_use_color(stream))
        elif fmt == "json":
            from xfedlint.reporters import json_report

            json_report.render(result, stream)
        elif fmt == "github":
            from xfedlint.reporters import github

            github.render(result, stream)
        else:
            from xfedlint.reporters import sarif

            sarif.render(result, stream)
    finally:
        if output:
            stream.close()
    for n in result.notices:  # suppressions that suppress nothing, a baseline written
        where = f"{n.location.file}:{n.location.span.line}:{n.location.span.col}" if n.location else "xfedlint"
        click.echo(f"{where}: {n.level}: {n.message}", err=True)


@cli.command()
@click.option("--cloud", "clouds", type=click.Choice(("aws", "azure", "gcp", "k8s", "all")), multiple=True,
              required=True, help="Clouds to read (repeatable); `all` reads every cloud xfedlint can.")
@click.option("--aws-profile", help="AWS profile (default: the standard credential chain).")
@click.option("--aws-region", help="AWS region for the STS endpoint (IAM is global).")
@click.option("--gcp-project", "gcp_projects", multiple=True, help="GCP project to read (repeatable).")
@click.option("--azure-subscription", "azure_subscriptions", multiple=True,
              help="Azure subscription ID to read (repeatable; `all`, the default: every one the credential sees).")
@click.option("--azure-tenant", help="Azure tenant (default: the credential's).")
@click.option("--kube-context", help="Kubernetes context of the kubeconfig (default: the current one).")
@click.option("--include-secret-values", is_flag=True,
              help="Also read Secret values (by default only their keys and types are read).")
@click.option("--export", "export_dir", type=click.Path(file_okay=False),
              help="Also write what was collected to DIR, in the shapes `xfedlint scan` reads.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True, help="Output format.")
@click.option("--output", "-o", type=OutputFile(), help="Write the report to FILE.")
@click.option("--fail-on", type=click.Choice(exit_policy.FAIL_ON), default=None,
              help="Exit 1 when a finding at or above this severity is reported.  [default: warning]")
@click.option("--select", multiple=True, help="Only these rule IDs or prefixes.")
@click.option("--ignore", multiple=True, help="Skip these rule IDs or prefixes.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="Configuration file.")
def audit(clouds, aws_profile, aws_region, gcp_projects, azure_subscriptions, azure_tenant, kube_context,
          include_secret_values, export_dir, fmt, output, fail_on, select, ignore, config_file) -> None:
    """Read the live clouds (read-only) and report as `scan` does; exit 4 when something was not evaluated."""
    from xfedlint import live
    from xfedlint.config import load_config

    wanted = {"aws", "azure", "gcp", "k8s"} if "all" in clouds else set(clouds)
    try:
        config = load_config(config_file, Path.cwd())
    except XfedlintError as exc:
        _fail(exc)
    collected: list = []
    failed: list = []  # (cloud, message): a cloud that could not start never hides the others
    for cloud in sorted(wanted):
        if sys.stderr.isatty():  # progress, on a terminal only (CI logs and redirected runs stay clean)
            click.echo(f"xfedlint: reading {cloud}...", err=True)
        try:
            if cloud == "aws":
                from xfedlint.live import aws

                collected.append(aws.collect(aws_profile, aws_region))
            elif cloud == "azure":
                from xfedlint.live import azure

                collected.append(azure.collect(list(azure_subscriptions), azure_tenant))
            elif cloud == "k8s":
                from xfedlint.live import k8s

                collected.append(k8s.collect(kube_context, include_secret_values))
            elif not gcp_projects:
                failed.append((cloud, "no --gcp-project given"))
            else:
                from xfedlint.live import gcp

                collected.append(gcp.collect(list(gcp_projects)))
        except (live.MissingExtra, live.NoCredentials) as exc:
            failed.append((cloud, str(exc)))
    if failed and not collected:
        for _cloud, message in failed:
            click.echo(f"xfedlint: {message}", err=True)
        sys.exit(exit_policy.USAGE)
    import tempfile

    folder = export_dir or tempfile.mkdtemp(prefix="xfedlint-audit-")
    for c in collected:
        for rel, text in c.files.items():
            path = Path(folder) / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    here = os.getcwd()
    os.chdir(folder)  # reports name the collected files as `--export` writes them: aws/<account>/...
    try:
        result = api.scan((".",), config=config, select=_split(select), ignore=_split(ignore))
    except XfedlintError as exc:
        _fail(exc)
    finally:
        os.chdir(here)
        if not export_dir:
            import shutil

            shutil.rmtree(folder, ignore_errors=True)
    code = exit_policy.ExitPolicy(fail_on or config.fail_on, False).code(result)
    _report(result, fmt, output)
    missing = [(c.cloud, what, why) for c in collected for what, why in c.not_evaluated]
    missing += [(cloud, "everything", why) for cloud, why in failed]
    for cloud, what, why in missing:
        click.echo(f"xfedlint: {cloud}: not evaluated: {what} ({why})", err=True)
    calls = ", ".join(f"{c.cloud} {c.calls} API calls" for c in collected)
    click.echo(f"xfedlint: read {calls}" + (f"; collected files written to {export_dir}" if export_dir else ""),
               err=True)
    sys.exit(exit_policy.INCOMPLETE if missing and code != exit_policy.INTERNAL else code)


@cli.command("rules")
@click.option("--format", "fmt", type=click.Choice(("table", "json", "markdown")), default="table", show_default=True)
@click.option("--write-docs", type=click.Path(file_okay=False), help="Write docs/rules/<ID>.md pages into DIR.")
@click.option("--validate", is_flag=True, help="Validate every rule file against the rule JSON Schema.")
def rules_cmd(fmt, write_docs, validate) -> None:
    """List the rule catalog."""
    try:
        rules = registry.load_rules()
    except XfedlintError as exc:
        _fail(exc)
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
        if registry.write_catalog_cache():
            click.echo(f"{registry.rules_dir() / registry.CATALOG_CACHE} rewritten.")
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

    try:
        rules = registry.load_rules()
    except XfedlintError as exc:
        _fail(exc)
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


@cli.command()
@click.option("--force", is_flag=True, help="Overwrite an existing .xfedlint.yaml.")
def init(force) -> None:
    """Write a commented starter .xfedlint.yaml in the current folder."""
    from xfedlint.config import CONFIG_NAMES, STARTER

    target = Path(CONFIG_NAMES[0])
    if target.exists() and not force:
        click.echo(f"xfedlint: {target} already exists; --force overwrites it", err=True)
        sys.exit(exit_policy.USAGE)
    target.write_text(STARTER, encoding="utf-8")
    click.echo(f"Wrote {target}: every key is optional; `xfedlint scan` reads it from this folder and below.")


@cli.command("graph")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--format", "fmt", type=click.Choice(("tree", "mermaid", "dot", "json")), default="tree",
              show_default=True, help="tree for the terminal, mermaid or dot for docs and reviews, json for machines.")
@click.option("--output", "-o", type=OutputFile(), help="Write the graph to FILE.")
@click.option("--exclude", multiple=True, help="Skip files and folders matching this glob (repeatable).")
@click.option("--config", "config_file", type=click.Path(dir_okay=False),
              help="Configuration file (its clusters name each manifest's issuer; default: found as for scan).")
def graph_cmd(paths, fmt, output, exclude, config_file) -> None:
    """Draw the federation graph: which service account can become which cloud identity, through which trust,
    with which permissions; weak edges marked. Unreadable inputs (XF001) are listed on standard error."""

    from xfedlint.config import load_config
    from xfedlint.graph import render
    from xfedlint.graph.build import build
    from xfedlint.loaders import load_files

    try:
        config = load_config(config_file, Path.cwd())
    except XfedlintError as exc:
        _fail(exc)
    files, missing, levels = api.discover_inputs(tuple(paths) or (".",), tuple(exclude), config)  # as scan does
    if not files:
        _no_input(missing)
        sys.exit(exit_policy.NO_INPUT)
    inventory = load_files(files, size_cap=config.size_cap, policy_levels=levels)
    for p in inventory.problems:
        click.echo(f"{p.location.file}:{p.location.span.line}:{p.location.span.col}: XF001 {p.message}", err=True)
    federation = build(inventory, config.cluster_issuer)
    styled = fmt == "tree" and not output and _use_color(sys.stdout)
    text = render.render(federation, fmt, rich=styled)
    if output:
        with _open_output(output) as stream:
            stream.write(text)
    else:
        click.echo(text, nl=False, color=styled or None)


def main() -> NoReturn:
    """The console script: the command line, then the process ends at once (see `_exit`)."""
    _exit(run())


def run(args: list[str] | None = None) -> int:
    """The command line as a function (`args`: default sys.argv[1:]); its exit code. An internal error is
    70, with its traceback and what to report."""
    try:
        cli(args=args, prog_name="xfedlint")
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        click.echo(exc.code, err=True)  # sys.exit("message"), printed as Python would
        return 1
    except Exception:  # a bug: say so plainly, with what to report
        import traceback

        traceback.print_exc()
        click.echo("xfedlint: internal error (a bug). Please report it with the output above.", err=True)
        return exit_policy.INTERNAL
    return 0


def _exit(code: int) -> NoReturn:
    """End the process without tearing the heap down object by object (as mypy does): a large scan leaves
    millions of objects, whose deallocation alone took 0.2 s after a 10,000-file report was written. Every
    file a command writes is closed by then; the standard streams are flushed here."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # the reader went away (`| head`), or the stream is closed
            pass
    os._exit(code)
