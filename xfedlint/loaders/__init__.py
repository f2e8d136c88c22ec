"""Files to an `Inventory`: read, parse with positions, recognise each document by its content.

A loader never raises on user input: an unreadable file, a syntax error, an unrendered template or a
recognised document with a wrongly shaped field each become a `LoadProblem` (XF001) and loading goes on.
"""

from __future__ import annotations

import re

import msgspec

from xfedlint.loaders import aws, azure, cloudformation, gcp, k8s
from xfedlint.loaders._positions import parse_json_fallback, parse_yaml_stream
from xfedlint.loaders.base import LoadContext, ShapeError
from xfedlint.loaders.files import DEFAULT_SIZE_CAP, InputFile, read_text
from xfedlint.model.document import SourceDoc
from xfedlint.model.inventory import Inventory, LoadProblem
from xfedlint.model.location import FIRST_CHAR, Location, Span, pointer

# Order matters only for shapes that could be read two ways; Kubernetes objects are the most specific.
FAMILIES = (k8s.from_document, aws.from_document, azure.from_document, gcp.from_document)

# A Go/Helm template action where YAML expects a node: at a line start, after `key:` or after `- `.
_GO_TEMPLATE_LINE = re.compile(r"(?:^[ \t]*|:[ \t]+|^[ \t]*-[ \t]+)(\{\{)", re.M)
_PLACEHOLDER = re.compile(r"\$\{[^}]*\}|%[A-Z][A-Z0-9_]*%|\{\{[^}]*\}\}|<[A-Z][A-Z0-9_ -]*>")


class FileLoad(msgspec.Struct):
    """What one file gave: its text (None when unreadable), load problems and resources in document order.
    Plain data, so a worker process can load files and hand the results back (see xfedlint.parallel)."""

    display: str
    text: str | None
    problems: list
    resources: list
    notes: list = msgspec.field(default_factory=list)  # LoadProblems that are only notes: what was not inspected


def load_files(files: list[InputFile], size_cap: int = DEFAULT_SIZE_CAP, policy_levels: dict | None = None,
               jobs: int = 1) -> Inventory:
    """The inventory of `files`, loaded in scan order; `jobs` > 1 loads them in worker processes."""
    inv = Inventory()
    levels = policy_levels or {}
    if jobs > 1:
        from xfedlint import parallel

        if parallel.can_load(files):
            for loaded in parallel.load(files, size_cap, levels, jobs):
                absorb(inv, loaded)
            return inv
    for f in files:
        absorb(inv, load_one(f, size_cap, levels))
    return inv


def load_one(f: InputFile, size_cap: int = DEFAULT_SIZE_CAP, policy_levels: dict | None = None) -> FileLoad:
    text = read_text(f, size_cap)
    if isinstance(text, LoadProblem):
        return FileLoad(f.display, None, [text], [])
    ctx = LoadContext(file=f.display, text=text, policy_levels=policy_levels or {})
    resources: list = []
    notes: list = []
    problems = load_text(text, ctx, resources, notes)
    return FileLoad(f.display, text, problems, resources, notes)


def absorb(inv: Inventory, loaded: FileLoad) -> None:
    """Adds one file's results to the inventory (files in scan order give the same inventory every time)."""
    inv.files_seen += 1
    if loaded.text is not None:
        inv.texts[loaded.display] = loaded.text
    inv.problems.extend(loaded.problems)
    inv.notes.extend(loaded.notes)
    for r in loaded.resources:
        inv.add(r)
    if loaded.resources:
        inv.files_relevant += 1


def load_text(text: str, ctx: LoadContext, found: list, notes: list | None = None) -> list[LoadProblem]:
    """Parses `text` and appends the resources it holds to `found` (and to `notes` what it did not inspect);
    returns the problems met."""
    if ctx.file.lower().endswith(RUNBOOK_SUFFIXES):  # Markdown, shell and text runbooks: heredocs and commands
        from xfedlint.loaders import runbook

        problems = []
        docs = _convert("runbook", FIRST_CHAR, ctx, problems, runbook.documents, text, ctx.file,
                        ctx.file.lower().endswith((".md", ".markdown")))
        _recognise(docs or [], ctx, found, problems)
        return problems
    if ctx.file.endswith(".tf"):  # Terraform: HCL, read by xfedlint.loaders.terraform
        from xfedlint.loaders import terraform

        problems = []
        docs, more, not_inspected = _convert("Terraform file", FIRST_CHAR, ctx, problems, terraform.documents, text,
                                             ctx) or ([], [], [])
        problems.extend(more)
        if notes is not None:
            notes.extend(not_inspected)
        _recognise(docs, ctx, found, problems)
        return problems
    problems: list[LoadProblem] = []
    m = _GO_TEMPLATE_LINE.search(text) if "{{" in text else None
    if m:
        start = m.start(1)
        line = text.count("\n", 0, start) + 1
        col = start - (text.rfind("\n", 0, start) + 1) + 1
        return [LoadProblem(Location(ctx.file, Span(line, col, line, col + 2)),
                            "Go/Helm template (`{{ ... }}`): render it first (e.g. `helm template`) and scan the output",
                            "template")]
    docs, err = parse_yaml_stream(text, ctx.file, lazy=True)
    if err is not None:
        stripped = text.lstrip()
        fallback = parse_json_fallback(text, ctx.file) if stripped[:1] in ("{", "[") and not docs else None
        if fallback is not None:
            docs = [fallback]
        else:
            problems.append(_syntax_problem(text, ctx.file, err))
    _recognise(docs, ctx, found, problems)
    return problems


def _recognise(docs: list, ctx: LoadContext, found: list, problems: list) -> None:
    """Each document to the resources of the first family that knows its shape."""
    for doc in docs:
        if _is_terraform_plan(doc.data):  # `terraform show -json`: the same builders as HCL
            from xfedlint.loaders import terraform

            inner = _convert("Terraform plan", doc.fallback, ctx, problems, terraform.plan_documents,
                             _positioned(doc, ctx))
            _recognise(inner or [], ctx, found, problems)
            continue
        if cloudformation.is_template(doc.data):  # short-form intrinsics (`!Sub`...) are understood there
            inner = _convert("CloudFormation template", doc.fallback, ctx, problems, cloudformation.documents,
                             _positioned(doc, ctx))
            _recognise(inner or [], ctx, found, problems)
            continue
        if doc.tags:
            path, tag, span = doc.tags[0]
            hint = " (a CloudFormation intrinsic function)" if tag.startswith("!") and tag[1:] in _CFN_TAGS else ""
            problems.append(LoadProblem(Location(ctx.file, span, pointer(path)),
                                        f"unsupported YAML tag `{tag}`{hint}; this document was not analysed",
                                        "unknown-tag"))
            continue
        for family in FAMILIES:
            try:
                resources = family(doc, ctx)
            except ShapeError as exc:
                problems.append(LoadProblem(Location(ctx.file, exc.doc.span(exc.path), pointer(exc.doc.prefix + exc.path)),
                                            exc.message, "shape"))
                break
            if resources is not None:
                found.extend(resources)
                break


RUNBOOK_SUFFIXES = (".md", ".markdown", ".sh", ".bash", ".txt")  # read by xfedlint.loaders.runbook


def _is_terraform_plan(data) -> bool:
    """`terraform show -json` of a plan or a state (checked here: the Terraform loader loads on demand)."""
    return isinstance(data, dict) and "format_version" in data and (
        "planned_values" in data or "prior_state" in data or "values" in data)


def _convert(what: str, where: Span, ctx: LoadContext, problems: list, convert, *args):
    """`convert(*args)`: a format's converter (runbook, Terraform, plan, CloudFormation). A bug in it costs
    this input, reported as such, never the scan; None then."""
    try:
        return convert(*args)
    except Exception as exc:
        problems.append(LoadProblem(Location(ctx.file, where), f"xfedlint could not read this {what} (internal "
                                    f"error: {type(exc).__name__}: {exc}); please report it", "internal"))
        return None



def _positioned(doc: SourceDoc, ctx: LoadContext) -> SourceDoc:
    """`doc` with a span recorded for every key and value (documents are read lazily, without them); the
    file is parsed for positions once, however many of its documents need them."""
    if doc.value_spans or doc.prefix:
        return doc
    if ctx.positioned is None:
        ctx.positioned, _err = parse_yaml_stream(ctx.text, ctx.file)
    return next((d for d in ctx.positioned if d.index == doc.index), doc)


_CFN_TAGS = {"Ref", "Sub", "GetAtt", "Join", "If", "Select", "Split", "FindInMap", "ImportValue", "Base64",
             "Equals", "Not", "And", "Or", "Condition", "GetAZs", "Cidr", "Transform"}


def _syntax_problem(text: str, file: str, err) -> LoadProblem:
    """A parse error, said in the user's terms: an unrendered placeholder is named as such."""
    lines = text.splitlines()
    line_text = lines[err.span.line - 1] if 0 < err.span.line <= len(lines) else ""
    m = _PLACEHOLDER.search(line_text)
    if m:
        span = Span(err.span.line, m.start() + 1, err.span.line, m.end() + 1)
        return LoadProblem(Location(file, span), f"unrendered template placeholder `{m.group(0)}` makes this file "
                                                 f"invalid ({err.message}); render the template and scan the result",
                           "template")
    return LoadProblem(Location(file, err.span), err.message, "syntax")
