"""Terraform (HCL) into the documents the other loaders read, with every position in the `.tf` file.

python-hcl2 parses the file into a lark tree whose every node carries its line and column. Each block of
interest becomes a synthesized document in the shape of the matching CLI output (`aws iam get-role`, a
gcloud provider describe, an Azure federated credential, a Kubernetes manifest...), whose values keep the
spans of the HCL expressions they came from; the family loaders and every check then work unchanged.

Expressions Terraform evaluates at plan time (references, function calls other than `jsonencode`,
conditionals, `for` expressions) are unknown here: they are kept as `${...}` placeholder text, which the
semantics treat as "cannot be judged statically", never as a mismatch. Within one file, a role's
`assume_role_policy = data.aws_iam_policy_document.X.json` is resolved to that data source, and role
policy attachments are joined to their role.
"""

from __future__ import annotations

import re

from xfedlint.loaders.base import LoadContext
from xfedlint.loaders.synth import graft, set_path, spans_of
from xfedlint.model.document import SourceDoc
from xfedlint.model.inventory import LoadProblem
from xfedlint.model.location import FIRST_CHAR, Location, Span

_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
_ESCAPE = re.compile(r"\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)")


class _Unknown(str):
    """A value Terraform computes at plan time, kept as its `${...}` source text."""


class Hcl:
    """One parsed `.tf` file: its top-level blocks as (type, labels, body data, spans)."""

    def __init__(self, text: str, file: str):
        self.text, self.file = text, file
        self.lines = text.split("\n")

    # --- positions --------------------------------------------------------------------------------------

    @staticmethod
    def span(node) -> Span:
        m = node.meta if hasattr(node, "meta") else node
        return Span(m.line, m.column, m.end_line, m.end_column)

    def source(self, node) -> str:
        """The text of `node` as written (for placeholders)."""
        s = self.span(node)
        if s.line == s.end_line:
            return self.lines[s.line - 1][s.col - 1:s.end_col - 1]
        parts = [self.lines[s.line - 1][s.col - 1:]] + self.lines[s.line:s.end_line - 1]
        parts.append(self.lines[s.end_line - 1][:s.end_col - 1])
        return "\n".join(parts)

    # --- expressions ------------------------------------------------------------------------------------

    def value(self, node, path: tuple, spans: dict):
        """The Python value of an HCL expression, recording the span of it and of everything inside."""
        node = _unwrap(node)
        spans[path] = (self.span(node), None)
        kind = node.data if hasattr(node, "data") else None
        if kind == "string":
            return self._string(node)
        if kind == "int_lit":
            return int(str(node.children[0]))
        if kind == "float_lit":
            return float(str(node.children[0]))
        if kind == "literal_value":
            return {"true": True, "false": False, "null": None}[str(node.children[0])]
        if kind == "tuple":
            items = [c for c in node.children if hasattr(c, "data") and c.data != "new_line_or_comment"]
            return [self.value(c, path + (i,), spans) for i, c in enumerate(items)]
        if kind == "object":
            out: dict = {}
            for elem in (c for c in node.children if hasattr(c, "data") and c.data == "object_elem"):
                key_node, value_node = _object_elem(elem)
                key = self._key(key_node)
                out[key] = self.value(value_node, path + (key,), spans)
                spans[path + (key,)] = (spans[path + (key,)][0], self.span(key_node))
            return out
        if kind in ("heredoc_template", "heredoc_template_trim"):
            return _heredoc(str(node.children[0]), kind == "heredoc_template_trim")
        if kind == "function_call" and _function_name(node) == "jsonencode":
            args = _arguments(node)
            if len(args) == 1:
                return self.value(args[0], path, spans)
        return _Unknown("${" + self.source(node) + "}")

    def _string(self, node) -> str:
        out = []
        unknown = False
        for part in node.children:
            if not hasattr(part, "data"):
                continue  # the quotes
            inner = part.children[0]
            if hasattr(inner, "data"):  # an interpolation or a template directive
                out.append(self.source(inner))
                unknown = True
            elif inner.type == "ESCAPED_INTERPOLATION":
                out.append(str(inner)[1:])  # `$${` is a literal `${`
            elif inner.type == "ESCAPED_DIRECTIVE":
                out.append(str(inner)[1:])
            else:
                out.append(_unescape(str(inner)))
        text = "".join(out)
        return _Unknown(text) if unknown and text.startswith("${") and text.endswith("}") and \
            text.count("${") == 1 else text

    def _key(self, node) -> str:
        node = _unwrap(node)
        kind = node.data if hasattr(node, "data") else None
        if kind == "identifier":
            return str(node.children[0])
        if kind == "string":
            return self._string(node)
        return "${" + self.source(node) + "}"

    # --- blocks -----------------------------------------------------------------------------------------

    def blocks(self, tree):
        """(type, labels, data, spans, block node) for every top-level block."""
        body = next(c for c in tree.children if hasattr(c, "data") and c.data == "body")
        for node in body.children:
            if hasattr(node, "data") and node.data == "block":
                btype, labels, inner = self._block_head(node)
                spans: dict = {(): (self.span(node), None)}
                data = self.body(inner, (), spans)
                yield btype, labels, data, spans, node

    def _block_head(self, node):
        names = []
        inner = None
        for c in node.children:
            if hasattr(c, "data"):
                if c.data == "body":
                    inner = c
                elif c.data in ("identifier", "keyword", "literal_value"):
                    names.append(str(c.children[0]))
                elif c.data == "string":
                    names.append(self._string(c))
        return names[0], names[1:], inner

    def body(self, node, path: tuple, spans: dict) -> dict:
        """Attributes as keys; nested blocks as lists under their type (`statement`: [...])."""
        out: dict = {}
        if node is None:
            return out
        for c in node.children:
            if not hasattr(c, "data"):
                continue
            if c.data == "attribute":
                name_node = c.children[0]
                name = str(_unwrap(name_node).children[0])
                expr = c.children[-1]
                out[name] = self.value(expr, path + (name,), spans)
                spans[path + (name,)] = (spans[path + (name,)][0], self.span(name_node))
            elif c.data == "block":
                btype, labels, inner = self._block_head(c)
                items = out.setdefault(btype, [])
                if not isinstance(items, list):
                    continue
                p = path + (btype, len(items))
                spans[p] = (self.span(c), None)
                items.append(self.body(inner, p, spans))
        return out


def _unwrap(node):
    while hasattr(node, "data") and node.data == "expr_term" and len(
            [c for c in node.children if hasattr(c, "data")]) == 1 and not _parenthesised(node):
        node = next(c for c in node.children if hasattr(c, "data"))
    return node


def _parenthesised(node) -> bool:
    return any(not hasattr(c, "data") and c.type == "LPAR" for c in node.children)


def _object_elem(elem):
    parts = [c for c in elem.children if hasattr(c, "data")]
    key = parts[0]
    if key.data == "object_elem_key":
        key = next(c for c in key.children if hasattr(c, "data"))
    return key, parts[-1]


def _function_name(node) -> str:
    return str(node.children[0].children[0]) if hasattr(node.children[0], "data") else ""


def _arguments(node) -> list:
    for c in node.children:
        if hasattr(c, "data") and c.data == "arguments":
            return [a for a in c.children if hasattr(a, "data") and a.data != "new_line_or_comment"]
    return []


def _unescape(s: str) -> str:
    def one(m):
        e = m.group(1)
        if e[0] in "uU":
            return chr(int(e[1:], 16))
        return _ESCAPES.get(e, "\\" + e)
    return _ESCAPE.sub(one, s) if "\\" in s else s


def _heredoc(token: str, trim: bool) -> str:
    """The body of a heredoc token (`<<-` strips the indentation its lines share)."""
    lines = token.split("\n")
    body = lines[1:-2]  # the marker line, then the closing marker and the trailing newline
    if trim:
        indents = [len(line) - len(line.lstrip(" \t")) for line in body if line.strip()]
        cut = min(indents) if indents else 0
        body = [line[cut:] for line in body]
    return "\n".join(body) + ("\n" if body else "")


# python-hcl2's lark parser is pure Python and keeps a node per token: measured, 1 MiB of dense HCL (40,000
# list entries) takes 9 s and 420 MB, 1 MiB of role blocks 4.4 s and 250 MB. A larger file would reach minutes
# and gigabytes under the 10 MiB size cap; real modules stay far below (the largest in ../shared/corpus is
# 11 KB). The walk over the tree recurses once per nesting level.
MAX_HCL_BYTES = 1 << 20
MAX_HCL_DEPTH = 200  # as for YAML (loaders._positions.MAX_DEPTH); Terraform nests a few levels


def _budget_problem(text: str, file: str) -> LoadProblem | None:
    """XF001 for a file too large, or nested too deeply, to parse within bounded time and memory."""
    size = len(text.encode("utf-8"))
    if size > MAX_HCL_BYTES:
        return LoadProblem(Location(file, FIRST_CHAR),
                           f"Terraform file of {size:,} bytes is over the {MAX_HCL_BYTES:,}-byte limit for HCL "
                           f"(its parser needs hundreds of bytes of memory per byte); not read; split it",
                           "too-large")
    if sum(text.count(c) for c in "[{(") <= MAX_HCL_DEPTH:
        return None  # cannot nest that deep
    at = _too_deep(text)
    if at is None:
        return None
    line, col = at
    return LoadProblem(Location(file, Span(line, col, line, col + 1)),
                       f"nesting deeper than {MAX_HCL_DEPTH} levels", "too-deep")


def _too_deep(text: str) -> tuple[int, int] | None:
    """(line, column) of the first bracket past MAX_HCL_DEPTH levels, outside strings, comments and
    heredocs; None when there is none. Iterative (it must not itself recurse on hostile input), and it jumps
    from one character that matters to the next."""
    depth, n = 0, len(text)
    m = _SCAN.search(text)
    while m is not None:
        i, c = m.start(), m.group()
        if c == '"':  # a string, up to its closing quote (interpolations are not counted)
            end = _STRING_REST.match(text, i + 1)
            i = end.end()
        elif c == "#" or c == "//":
            i = text.find("\n", i)
            i = n if i < 0 else i
        elif c == "/*":
            i = text.find("*/", i + 2)
            i = n if i < 0 else i + 2
        elif c.startswith("<<"):
            end = re.compile(rf"^[ \t]*{re.escape(m.group(1))}[ \t]*$", re.M).search(text, m.end())
            i = n if end is None else end.end()
        elif c in "[{(":
            depth += 1
            if depth > MAX_HCL_DEPTH:
                return text.count("\n", 0, i) + 1, i - (text.rfind("\n", 0, i) + 1) + 1
            i += 1
        else:
            depth = max(0, depth - 1)
            i += 1
        m = _SCAN.search(text, i)
    return None


_SCAN = re.compile(r'<<-?([A-Za-z_][A-Za-z0-9_-]*)[ \t]*\n|"|#|//|/\*|[\[\]{}()]')
_STRING_REST = re.compile(r'(?:[^"\\\n]|\\.)*"?')


def parse(text: str, file: str):
    """The lark tree of a `.tf` file, or the LoadProblem that says where it does not parse."""
    import hcl2
    from lark.exceptions import LarkError, UnexpectedInput

    try:
        return hcl2.parses_to_tree(text)
    except UnexpectedInput as exc:
        line, col = getattr(exc, "line", 1) or 1, getattr(exc, "column", 1) or 1
        token = getattr(exc, "token", None)
        if token is None:
            what = "character"
        elif str(token).startswith("\n"):
            what = "end of line"
        elif token.type == "$END":
            what = "end of file"
        else:
            what = f"`{str(token)[:40]}`"
        return LoadProblem(Location(file, Span(line, col, line, col + 1)), f"HCL syntax error: unexpected {what}",
                           "syntax")
    except (LarkError, RecursionError, ValueError) as exc:
        return LoadProblem(Location(file, FIRST_CHAR), f"HCL syntax error: {type(exc).__name__}", "syntax")


def documents(text: str, ctx: LoadContext) -> tuple[list[SourceDoc], list[LoadProblem], list[LoadProblem]]:
    """One synthesized document per Terraform block xfedlint reads, in the shapes of the family loaders;
    the problems met; and notes for what is not inspected (module calls)."""
    problem = _budget_problem(text, ctx.file)
    tree = parse(text, ctx.file) if problem is None else problem
    if isinstance(tree, LoadProblem):
        return [], [tree], []
    hcl = Hcl(text, ctx.file)
    try:
        blocks = list(hcl.blocks(tree))
        synth = _Synth(hcl.file, blocks)
        return synth.docs(), [], _module_notes(hcl, blocks) + synth.notes
    except RecursionError:  # nesting the depth scan cannot see (inside string templates)
        return [], [LoadProblem(Location(ctx.file, FIRST_CHAR), "nested too deeply to analyse",
                                "too-deep")], []


def plan_documents(plan: SourceDoc) -> list[SourceDoc]:
    """The resources of `terraform show -json` (planned values, and data sources from the prior state), read
    by the same builders as HCL blocks; attribute values are what Terraform computed, unknown ones absent."""
    spans = spans_of(plan)
    blocks = []

    def module(node, path: tuple) -> None:
        if not isinstance(node, dict):
            return
        for i, r in enumerate(node.get("resources") or []):
            if isinstance(r, dict) and isinstance(r.get("values"), dict) and r.get("type") and r.get("name"):
                base = path + ("resources", i, "values")
                block_spans = {p[len(base):]: sp for p, sp in spans.under(base)}
                block_spans.setdefault((), (plan.span(path + ("resources", i)), None))
                mode = "data" if r.get("mode") == "data" else "resource"
                blocks.append((mode, [str(r["type"]), str(r["name"])], r["values"], block_spans, None))
        for j, child in enumerate(node.get("child_modules") or []):
            module(child, path + ("child_modules", j))

    for top in ("planned_values", "prior_state", "values"):
        section = plan.data.get(top)
        if isinstance(section, dict):
            inner = section.get("values") if top == "prior_state" else section
            rel = (top, "values") if top == "prior_state" else (top,)
            if isinstance(inner, dict):
                module(inner.get("root_module"), rel + ("root_module",))
    seen: set = set()
    unique = []
    for b in blocks:  # a resource in both the plan and the prior state: the plan's values
        key = (b[0], tuple(b[1]))
        if key not in seen:
            seen.add(key)
            unique.append(b)
    return _Synth(plan.file, unique).docs()


def _module_notes(hcl: Hcl, blocks: list) -> list[LoadProblem]:
    out = []
    for btype, labels, data, spans, _node in blocks:
        if btype == "module" and labels:
            source = data.get("source")
            where = f" (source `{source}`)" if isinstance(source, str) else ""
            s = spans[()][0]
            out.append(LoadProblem(Location(hcl.file, Span(s.line, s.col, s.line, s.col + len("module"))),
                                   f"module `{labels[0]}`{where} is not inspected: xfedlint reads the resources "
                                   f"written in this file; scan the module's own folder too", "not-inspected"))
    return out


class _Synth:
    """Builds the documents of one file. `put` records a value with the spans of the HCL it came from."""

    def __init__(self, file: str, blocks: list):
        self.file, self.blocks = file, blocks
        self.out: list[SourceDoc] = []
        self.notes: list[LoadProblem] = []  # what cannot be judged statically, where it matters

    def docs(self) -> list[SourceDoc]:
        policy_docs = {labels[1]: (data, spans) for btype, labels, data, spans, _n in self.blocks
                       if btype == "data" and len(labels) > 1 and labels[0] == "aws_iam_policy_document"}
        used_policy_docs: set = set()
        attachments = self._attachments()
        self.iam_policies = {labels[1]: (data, spans) for btype, labels, data, spans, _n in self.blocks
                             if btype == "data" and len(labels) > 1 and labels[0] == "google_iam_policy"}
        for btype, labels, data, spans, _node in self.blocks:
            if btype != "resource" or len(labels) < 2:
                continue
            rtype, name = labels[0], labels[1]
            build = _RESOURCES.get(rtype)
            if build is not None:
                build(self, name, data, spans, policy_docs, used_policy_docs, attachments)
        for name, (data, spans) in policy_docs.items():
            if name not in used_policy_docs:  # not the trust of a role in this file: judged on its own
                doc = self._new()
                self._policy_document(doc, (), data, spans)
                self._finish(doc)
        return self.out

    # --- the document being built -----------------------------------------------------------------------

    def _new(self, spans: dict | None = None) -> SourceDoc:
        """A new document of this file; with `spans`, placed (as a whole) at the block they describe."""
        doc = SourceDoc(file=self.file, data={}, index=len(self.out))
        if spans is not None:
            doc.value_spans[()] = spans[()][0]
        return doc

    def _finish(self, doc: SourceDoc) -> None:
        doc.fallback = doc.value_spans.get((), FIRST_CHAR)
        self.out.append(doc)

    def put(self, doc: SourceDoc, dst: tuple, data: dict, spans: dict, attr: str, listed: bool = False) -> None:
        """Copies attribute `attr` of a block body to `dst`, if the block sets it, and (`listed`) to a list: a
        list Terraform computes (`var.x`, a splat) is unknown, so it is left out rather than judged."""
        if attr in data and (not listed or isinstance(data[attr], list)):
            graft(doc, dst, spans, (attr,), data[attr])

    # --- AWS --------------------------------------------------------------------------------------------

    def _policy_document(self, doc: SourceDoc, dst: tuple, data: dict, spans: dict) -> None:
        """`data "aws_iam_policy_document"` as the IAM JSON it renders (statement, principals, condition
        blocks; repeated test+variable blocks collapse to the last, as Terraform does)."""
        set_path(doc.data, dst, {"Version": data.get("version", "2012-10-17"), "Statement": []})
        doc.value_spans[dst] = spans[()][0]
        statements = data.get("statement") or []
        for i, st in enumerate(statements if isinstance(statements, list) else []):
            sp = ("statement", i)
            out = dst + ("Statement", i)
            set_path(doc.data, out, {})
            doc.value_spans[out] = spans[sp][0]
            if "sid" in st:
                graft(doc, out + ("Sid",), spans, sp + ("sid",), st["sid"])
            if "effect" in st:
                graft(doc, out + ("Effect",), spans, sp + ("effect",), st["effect"])
            else:
                set_path(doc.data, out + ("Effect",), "Allow")
            for key, name in (("actions", "Action"), ("not_actions", "NotAction")):
                if key in st:
                    graft(doc, out + (name,), spans, sp + (key,), st[key])
            for block, name in (("principals", "Principal"), ("not_principals", "NotPrincipal")):
                for j, pr in enumerate(st.get(block) or []):
                    ptype = pr.get("type")
                    if not isinstance(ptype, str) or "identifiers" not in pr:
                        continue
                    principal = doc.get(out + (name,)) or {}
                    ids = pr["identifiers"]
                    existing = principal.get(ptype)
                    if isinstance(existing, list) and isinstance(ids, list):
                        start = len(existing)
                        set_path(doc.data, out + (name,), principal)
                        for k, ident in enumerate(ids):
                            graft(doc, out + (name, ptype, start + k), spans,
                                       sp + (block, j, "identifiers", k), ident)
                    else:
                        set_path(doc.data, out + (name,), principal)
                        graft(doc, out + (name, ptype), spans, sp + (block, j, "identifiers"), ids)
                        doc.key_spans[out + (name, ptype)] = spans[sp + (block, j, "type")][0]
                    doc.value_spans.setdefault(out + (name,), spans[sp + (block, j)][0])
            conditions = st.get("condition") or []
            for j, cond in enumerate(conditions if isinstance(conditions, list) else []):
                test, variable = cond.get("test"), cond.get("variable")
                if not isinstance(test, str) or not isinstance(variable, str) or "values" not in cond:
                    continue
                cpath = sp + ("condition", j)
                block = doc.get(out + ("Condition",)) or {}
                set_path(doc.data, out + ("Condition",), block)
                doc.value_spans.setdefault(out + ("Condition",), spans[cpath][0])
                if variable in (block.get(test) or {}):
                    # Terraform keeps the last block for a test+variable pair: the earlier one is dropped
                    doc.duplicate_keys.append((out + ("Condition", test, variable), spans[cpath + ("variable",)][0]))
                if test not in block:
                    set_path(doc.data, out + ("Condition", test), {})
                    doc.value_spans[out + ("Condition", test)] = spans[cpath][0]
                    doc.key_spans[out + ("Condition", test)] = spans[cpath + ("test",)][0]
                graft(doc, out + ("Condition", test, variable), spans, cpath + ("values",), cond["values"])
                doc.key_spans[out + ("Condition", test, variable)] = spans[cpath + ("variable",)][0]

    def _attachments(self) -> dict:
        """Role reference (`aws_iam_role.NAME`) -> managed policy ARNs attached in this file."""
        out: dict = {}
        for btype, labels, data, _spans, _n in self.blocks:
            if btype == "resource" and labels[:1] == ["aws_iam_role_policy_attachment"]:
                role, arn = data.get("role"), data.get("policy_arn")
                m = re.match(r"\$\{aws_iam_role\.([A-Za-z0-9_-]+)\.(?:name|id)\}$", str(role))
                if m and isinstance(arn, str):
                    out.setdefault(m.group(1), []).append(arn)
        return out


def _aws_iam_role(s: _Synth, name: str, data: dict, spans: dict, policy_docs: dict, used: set,
                  attachments: dict) -> None:
    doc = s._new()
    doc.data = {"Role": {"RoleName": data.get("name", name)}}
    doc.value_spans[()] = doc.value_spans[("Role",)] = spans[()][0]
    if "name" in data:
        s.put(doc, ("Role", "RoleName"), data, spans, "name")
    policy = data.get("assume_role_policy")
    ref = re.match(r"\$\{data\.aws_iam_policy_document\.([A-Za-z0-9_-]+)\.json\}$", str(policy))
    if ref and ref.group(1) in policy_docs:
        pdata, pspans = policy_docs[ref.group(1)]
        s._policy_document(doc, ("Role", "AssumeRolePolicyDocument"), pdata, pspans)
        used.add(ref.group(1))
    elif isinstance(policy, dict):
        s.put(doc, ("Role", "AssumeRolePolicyDocument"), data, spans, "assume_role_policy")
    elif isinstance(policy, str) and not isinstance(policy, _Unknown) and policy.lstrip().startswith("{"):
        # JSON in a heredoc or a quoted string: the AWS loader parses it in place, exactly placed in a
        # heredoc (xfedlint.loaders._positions.embedded_offsets), at the attribute when escaped
        s.put(doc, ("Role", "AssumeRolePolicyDocument"), data, spans, "assume_role_policy")
    arns = attachments.get(name)
    if arns:
        doc.data["Role"]["AttachedManagedPolicies"] = [{"PolicyArn": a} for a in arns]
    if "AssumeRolePolicyDocument" in doc.data["Role"]:
        s._finish(doc)
    elif isinstance(policy, _Unknown):
        vspan = spans[("assume_role_policy",)][0]
        ref = f" (`{policy[2:-1]}` is not in this file)" if ref else ""
        s.notes.append(LoadProblem(Location(s.file, vspan),
                                   f"the trust policy of role `{data.get('name', name)}` is computed at plan "
                                   f"time{ref}: it cannot be judged statically here; scan the file that defines it "
                                   f"or the output of `terraform show -json`", "not-inspected"))


def _aws_oidc_provider(s: _Synth, name: str, data: dict, spans: dict, *_):
    doc = s._new(spans)
    doc.data = {"Url": data.get("url", "")}  # lists set only when known: a computed list is not judged
    s.put(doc, ("Url",), data, spans, "url")
    s.put(doc, ("ClientIDList",), data, spans, "client_id_list", listed=True)
    s.put(doc, ("ThumbprintList",), data, spans, "thumbprint_list", listed=True)
    s._finish(doc)


# --- GCP ----------------------------------------------------------------------------------------------


def _gcp_provider(s: _Synth, name: str, data: dict, spans: dict, *_):
    doc = s._new(spans)
    pool, pid = data.get("workload_identity_pool_id"), data.get("workload_identity_pool_provider_id")
    project = data.get("project", "${project}")
    full = f"projects/{project}/locations/global/workloadIdentityPools/{pool}/providers/{pid}"
    doc.data = {"name": full, "attributeMapping": {}}
    if "workload_identity_pool_provider_id" in data:
        doc.value_spans[("name",)] = spans[("workload_identity_pool_provider_id",)][0]
    s.put(doc, ("attributeMapping",), data, spans, "attribute_mapping")  # `${var.x}`: unknown to the loader
    s.put(doc, ("attributeCondition",), data, spans, "attribute_condition")
    if "disabled" in data:
        s.put(doc, ("disabled",), data, spans, "disabled")
    for kind in ("oidc", "aws", "saml", "x509"):
        blocks = data.get(kind)
        if isinstance(blocks, list) and blocks:
            block = blocks[0]
            set_path(doc.data, (kind,), {})
            doc.value_spans[(kind,)] = spans[(kind, 0)][0]
            for attr, key in (("issuer_uri", "issuerUri"), ("allowed_audiences", "allowedAudiences"),
                              ("account_id", "accountId")):
                if attr in block:  # a computed value stays `${...}`: the GCP loader marks it unknown
                    graft(doc, (kind, key), spans, (kind, 0, attr), block[attr])
            break
    s._finish(doc)


def _gcp_iam(level: str, members_attr: str):
    def build(s: _Synth, name: str, data: dict, spans: dict, *_):
        doc = s._new(spans)
        # The resource name says the level (xfedlint.loaders.gcp.policy_level), known or not.
        if level == "service-account":
            resource = str(data.get("service_account_id", "${service_account_id}"))
            if "/serviceAccounts/" not in resource:
                resource = f"projects/-/serviceAccounts/{resource}"
        else:
            resource = f"projects/{data.get('project', '${project}')}"
        doc.data = {"resource": resource, "policy": {"bindings": [{"role": data.get("role", ""), "members": []}]}}
        b = ("policy", "bindings", 0)
        doc.value_spans[("policy",)] = doc.value_spans[b] = spans[()][0]
        s.put(doc, b + ("role",), data, spans, "role")
        if members_attr == "member":
            if "member" in data:
                graft(doc, b + ("members", 0), spans, ("member",), data["member"])
                doc.value_spans[b + ("members",)] = spans[("member",)][0]
        else:
            s.put(doc, b + ("members",), data, spans, "members", listed=True)
        if isinstance(data.get("condition"), list) and data["condition"]:
            cond = data["condition"][0]
            set_path(doc.data, b + ("condition",), {})
            doc.value_spans[b + ("condition",)] = spans[("condition", 0)][0]
            for attr in ("title", "expression", "description"):
                if attr in cond:
                    graft(doc, b + ("condition", attr), spans, ("condition", 0, attr), cond[attr])
        s._finish(doc)
    return build


def _gcp_project_policy(s: _Synth, name: str, data: dict, spans: dict, *_):
    """`google_project_iam_policy` whose `policy_data` is a `data "google_iam_policy"` of the same file."""
    ref = re.match(r"\$\{data\.google_iam_policy\.([A-Za-z0-9_-]+)\.policy_data\}$", str(data.get("policy_data")))
    source = getattr(s, "iam_policies", {}).get(ref.group(1)) if ref else None
    if source is None:
        return
    pdata, pspans = source
    doc = s._new(spans)
    doc.data = {"resource": f"projects/{data.get('project', '${project}')}", "policy": {"bindings": []}}
    doc.value_spans[("policy",)] = pspans[()][0]
    for i, binding in enumerate(pdata.get("binding") or []):
        b = ("policy", "bindings", i)
        set_path(doc.data, b, {"role": binding.get("role", ""), "members": []})
        doc.value_spans[b] = pspans[("binding", i)][0]
        for attr in ("role", "members"):
            if attr in binding and (attr != "members" or isinstance(binding[attr], list)):
                graft(doc, b + (attr,), pspans, ("binding", i, attr), binding[attr])
        if isinstance(binding.get("condition"), list) and binding["condition"]:
            cond = binding["condition"][0]
            set_path(doc.data, b + ("condition",), {})
            doc.value_spans[b + ("condition",)] = pspans[("binding", i, "condition", 0)][0]
            for attr in ("title", "expression", "description"):
                if attr in cond:
                    graft(doc, b + ("condition", attr), pspans, ("binding", i, "condition", 0, attr), cond[attr])
    s._finish(doc)


# --- Azure --------------------------------------------------------------------------------------------


def _azure_fic(flavor: str):
    def build(s: _Synth, name: str, data: dict, spans: dict, *_):
        doc = s._new(spans)
        if flavor == "arm":
            doc.data = {"name": data.get("name", name),
                        "type": "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials"}
            s.put(doc, ("name",), data, spans, "name")
            s.put(doc, ("audiences",), data, spans, "audience", listed=True)
        else:
            doc.data = {"name": data.get("display_name", name)}
            s.put(doc, ("name",), data, spans, "display_name")
            s.put(doc, ("audiences",), data, spans, "audiences", listed=True)
        for attr in ("issuer", "subject"):
            s.put(doc, (attr,), data, spans, attr)
        if "audiences" not in doc.data:
            doc.data["audiences"] = []
        s._finish(doc)
    return build


def _azure_identity(s: _Synth, name: str, data: dict, spans: dict, *_):
    """`azurerm_user_assigned_identity`: its IDs are computed at apply time, so they are the references other
    resources use for it (`azurerm_user_assigned_identity.NAME.client_id`): equal text joins them."""
    doc = s._new(spans)
    ref = f"azurerm_user_assigned_identity.{name}"
    doc.data = {"type": "Microsoft.ManagedIdentity/userAssignedIdentities", "name": data.get("name", name),
                "clientId": f"${{{ref}.client_id}}", "principalId": f"${{{ref}.principal_id}}", "id": f"${{{ref}.id}}"}
    s.put(doc, ("name",), data, spans, "name")
    s._finish(doc)


def _azure_role_assignment(s: _Synth, name: str, data: dict, spans: dict, *_):
    doc = s._new(spans)
    doc.data = {"type": "Microsoft.Authorization/roleAssignments", "scope": data.get("scope"),
                "principalId": data.get("principal_id")}
    for attr, key in (("scope", "scope"), ("role_definition_name", "roleDefinitionName"),
                      ("role_definition_id", "roleDefinitionId"), ("principal_id", "principalId"),
                      ("condition", "condition")):
        s.put(doc, (key,), data, spans, attr)
    s._finish(doc)


# --- Kubernetes ---------------------------------------------------------------------------------------


def _k8s_service_account(s: _Synth, name: str, data: dict, spans: dict, *_):
    meta = data.get("metadata")
    if not (isinstance(meta, list) and meta):
        return
    doc = s._new(spans)
    doc.data = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"namespace": "default"}}
    doc.value_spans[("metadata",)] = spans[("metadata", 0)][0]
    for attr in ("name", "namespace", "annotations", "labels"):
        if attr in meta[0]:
            graft(doc, ("metadata", attr), spans, ("metadata", 0, attr), meta[0][attr])
    if "automount_service_account_token" in data:
        s.put(doc, ("automountServiceAccountToken",), data, spans, "automount_service_account_token")
    s._finish(doc)


# Kubernetes provider blocks that are lists in the API (the others are single objects), by block name.
_K8S_LIST_BLOCKS = {"container": "containers", "init_container": "initContainers", "env": "env",
                    "env_from": "envFrom", "volume": "volumes", "volume_mount": "volumeMounts", "sources": "sources",
                    "port": "ports", "items": "items", "toleration": "tolerations", "image_pull_secrets":
                    "imagePullSecrets"}
_K8S_WORKLOADS = {"kubernetes_deployment": "Deployment", "kubernetes_deployment_v1": "Deployment",
                  "kubernetes_stateful_set": "StatefulSet", "kubernetes_stateful_set_v1": "StatefulSet",
                  "kubernetes_daemonset": "DaemonSet", "kubernetes_daemon_set_v1": "DaemonSet",
                  "kubernetes_job": "Job", "kubernetes_job_v1": "Job", "kubernetes_pod": "Pod",
                  "kubernetes_pod_v1": "Pod"}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


def _k8s_object(s: _Synth, doc: SourceDoc, dst: tuple, value, spans: dict, src: tuple) -> None:
    """A Kubernetes provider body as the API object: snake_case to camelCase, repeated blocks to lists,
    single blocks to objects; `annotations`, `labels` and `data` maps keep their keys."""
    if not isinstance(value, dict):
        graft(doc, dst, spans, src, value)
        return
    set_path(doc.data, dst, {})
    if src in spans:
        doc.value_spans[dst] = spans[src][0]
    for key, item in value.items():
        if key in ("annotations", "labels", "data", "string_data", "node_selector") and isinstance(item, dict):
            graft(doc, dst + (_camel(key),), spans, src + (key,), item)
            continue
        if isinstance(item, list) and item and all(isinstance(b, dict) for b in item) and (src + (key, 0)) in spans:
            if key in _K8S_LIST_BLOCKS:  # repeated blocks: a list
                out = dst + (_K8S_LIST_BLOCKS[key],)
                set_path(doc.data, out, [])
                doc.value_spans[out] = spans[src + (key, 0)][0]
                for i, block in enumerate(item):
                    _k8s_object(s, doc, out + (i,), block, spans, src + (key, i))
            else:  # a single nested block (`metadata`, `spec`, `template`, `projected`...)
                _k8s_object(s, doc, dst + (_camel(key),), item[0], spans, src + (key, 0))
                doc.key_spans[dst + (_camel(key),)] = spans[src + (key, 0)][0]
            continue
        graft(doc, dst + (_camel(key),), spans, src + (key,), item)
        if spans.get(src + (key,), (None, None))[1] is not None:
            doc.key_spans[dst + (_camel(key),)] = spans[src + (key,)][1]


def _k8s_workload(kind: str):
    def build(s: _Synth, name: str, data: dict, spans: dict, *_):
        if not (isinstance(data.get("metadata"), list) and isinstance(data.get("spec"), list)):
            return
        doc = s._new(spans)
        _k8s_object(s, doc, (), data, spans, ())
        doc.data = {"apiVersion": "apps/v1" if kind not in ("Pod", "Job") else ("v1" if kind == "Pod" else "batch/v1"),
                    "kind": kind, **doc.data}
        doc.data.setdefault("metadata", {}).setdefault("namespace", "default")
        s._finish(doc)
    return build


def _k8s_data_object(kind: str):
    """`kubernetes_secret`/`_config_map` (and `_v1`): the provider takes `data` as plain text (it encodes a
    Secret's values itself), so a Secret's `data` is its `stringData`; `binary_data` stays base64."""
    def build(s: _Synth, name: str, data: dict, spans: dict, *_):
        meta = data.get("metadata")
        if not (isinstance(meta, list) and meta):
            return
        doc = s._new(spans)
        doc.data = {"apiVersion": "v1", "kind": kind}
        _k8s_object(s, doc, ("metadata",), meta[0], spans, ("metadata", 0))
        doc.data["metadata"].setdefault("namespace", "default")
        if "type" in data:
            s.put(doc, ("type",), data, spans, "type")
        plain = "stringData" if kind == "Secret" else "data"
        if isinstance(data.get("data"), dict):
            graft(doc, (plain,), spans, ("data",), data["data"])
        if isinstance(data.get("binary_data"), dict):
            graft(doc, ("data" if kind == "Secret" else "binaryData",), spans, ("binary_data",), data["binary_data"])
        s._finish(doc)
    return build


_RESOURCES = {
    "aws_iam_role": _aws_iam_role,
    "aws_iam_openid_connect_provider": _aws_oidc_provider,
    "google_iam_workload_identity_pool_provider": _gcp_provider,
    "google_service_account_iam_member": _gcp_iam("service-account", "member"),
    "google_service_account_iam_binding": _gcp_iam("service-account", "members"),
    "google_project_iam_member": _gcp_iam("project", "member"),
    "google_project_iam_binding": _gcp_iam("project", "members"),
    "google_project_iam_policy": _gcp_project_policy,
    "azuread_application_federated_identity_credential": _azure_fic("graph"),
    "azurerm_federated_identity_credential": _azure_fic("arm"),
    "azurerm_role_assignment": _azure_role_assignment,
    "azurerm_user_assigned_identity": _azure_identity,
    "kubernetes_service_account": _k8s_service_account,
    "kubernetes_service_account_v1": _k8s_service_account,
    **{rtype: _k8s_workload(kind) for rtype, kind in _K8S_WORKLOADS.items()},
    **{rtype: _k8s_data_object(kind) for rtype, kind in (
        ("kubernetes_secret", "Secret"), ("kubernetes_secret_v1", "Secret"),
        ("kubernetes_config_map", "ConfigMap"), ("kubernetes_config_map_v1", "ConfigMap"))},
}
