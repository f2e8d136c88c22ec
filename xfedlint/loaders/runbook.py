"""Runbooks: Markdown, shell scripts and plain-text guides, read for the federation they create.

Three things are read, with positions in the runbook itself:
- heredocs (`cat > trust-policy.json <<EOF ... EOF`, `kubectl apply -f - <<EOF`): the body becomes the
  document it holds, shell variables (`${VAR}`, `$VAR`) kept as placeholders;
- the CLI commands that create federation, with their flags: `gcloud iam workload-identity-pools providers
  create-oidc|update-oidc`, `gcloud projects add-iam-policy-binding`, `gcloud iam service-accounts
  add-iam-policy-binding`, `gsutil iam ch`, `az role assignment create`, `az identity federated-credential
  create`, `az ad app federated-credential create --parameters` (inline JSON; a file is read where its
  heredoc is), `aws iam create-role --assume-role-policy-document` (inline JSON, or `file://...` joined to
  the heredoc that wrote the file) and `aws iam create-open-id-connect-provider`; each becomes the document its `describe`
  or `list` output would be. Commands that delete or remove are not read.
- in Markdown, fenced YAML and JSON blocks.

Line continuations (`\\`) and shell quoting are handled; a flag's value is placed where it is written.
"""

from __future__ import annotations

import bisect
import re

from xfedlint.loaders._positions import parse_yaml_stream
from xfedlint.loaders.synth import graft, set_path, spans_of
from xfedlint.model.document import SourceDoc
from xfedlint.model.location import Span

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<lang>[\w+-]*)[^\n]*$", re.M)
_HEREDOC = re.compile(r"<<(-?)[ \t]*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\2")
# what writes or applies a heredoc's body: a redirect, or a command that reads standard input
_HEREDOC_COMMAND = re.compile(r">|\b(?:cat|tee|kubectl|oc|envsubst|helm|bash|sh|python3?|jq|yq|aws|az|gcloud)\b")
_REDIRECT = re.compile(r"(?<![<>0-9&])>[ \t]*([^\s;|&<>]+)")
_TEE = re.compile(r"\btee\s+(?:-a\s+)?([^\s;|&<>]+)")
_COMMAND = re.compile(r"^[ \t]*(?:\$[ \t]+)?(gcloud|az|aws|gsutil)[ \t]", re.M)


class _Text:
    """The runbook's text with offset <-> line/column conversion."""

    def __init__(self, text: str):
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def pos(self, offset: int) -> tuple[int, int]:
        i = bisect.bisect_right(self.starts, offset) - 1
        return i + 1, offset - self.starts[i] + 1

    def span(self, start: int, end: int) -> Span:
        (l1, c1), (l2, c2) = self.pos(start), self.pos(end)
        return Span(l1, c1, l2, c2)


def documents(text: str, file: str, markdown: bool) -> list[SourceDoc]:
    src = _Text(text)
    docs: list[SourceDoc] = []
    for start, end, lang in _fenced(text) if markdown else ():
        if lang in ("yaml", "yml", "json"):
            line, _col = src.pos(start)
            parsed, _err = parse_yaml_stream(text[start:end], file, line - 1, 0)
            docs.extend(parsed)
    # Commands and heredocs anywhere: in shell fences, and in guides whose fences were lost (a page saved as text)
    docs.extend(_shell(src, file))
    for i, d in enumerate(docs):
        d.index = i
    return docs


def _fenced(text: str) -> list[tuple[int, int, str]]:
    """(body start, body end, language) of each fenced code block of a Markdown text."""
    out = []
    pos = 0
    while True:
        m = _FENCE.search(text, pos)
        if m is None:
            return out
        body = m.end() + 1
        close = re.compile(r"^[ \t]*" + re.escape(m.group("fence")[0]) + "{" + str(len(m.group("fence"))) + r",}[ \t]*$",
                           re.M).search(text, body)
        end = close.start() if close else len(text)
        out.append((min(body, len(text)), end, m.group("lang").lower()))
        pos = close.end() if close else len(text)


def _shell(src: _Text, file: str) -> list[SourceDoc]:
    """Documents from the heredocs and commands of a shell text (or of a whole guide)."""
    text = src.text
    end = len(text)
    docs: list[SourceDoc] = []
    files: dict[str, SourceDoc] = {}  # heredoc target file name -> its document
    skip: list[tuple[int, int]] = []  # heredoc bodies, in order: not scanned for commands
    pos = 0
    while True:
        m = _HEREDOC.search(text, pos, end)
        if m is None:
            break
        line_start = text.rfind("\n", 0, m.start()) + 1
        line_end = text.find("\n", m.end())
        if line_end < 0:
            break
        if not _HEREDOC_COMMAND.search(text, line_start, m.start()):
            pos = m.end()  # `<<EOF` in prose, not a command feeding a heredoc: it must not hide what follows
            continue
        marker, strip = m.group(3), m.group(1) == "-"
        closing = re.compile(r"^\t*" + re.escape(marker) + r"[ \t]*$" if strip else r"^" + re.escape(marker) + r"[ \t]*$",
                             re.M).search(text, line_end + 1, end)
        body_end = closing.start() if closing else end
        body = text[line_end + 1:body_end]
        skip.append((line_end + 1, body_end))
        pos = closing.end() if closing else end
        line, _col = src.pos(line_end + 1)
        parsed, err = parse_yaml_stream(body, file, line - 1, 0)
        head = text[line_start:line_end]
        target = _REDIRECT.search(head) or _TEE.search(head)
        if err is None:
            docs.extend(parsed)
            if target and len(parsed) == 1:
                files[target.group(1).strip("'\"")] = parsed[0]
    skip_starts = [a for a, _b in skip]
    for m in _COMMAND.finditer(text):
        i = bisect.bisect_right(skip_starts, m.start()) - 1
        if i >= 0 and m.start() < skip[i][1]:
            continue
        tokens = _tokens(text, m.start(1), end)
        doc = _command(src, file, tokens, files, docs)
        if doc is not None:
            docs.append(doc)
    return docs


def _tokens(text: str, pos: int, end: int) -> list[tuple[str, int, int]]:
    """Shell words from `pos` to the end of the command: (word without quotes, start, end in the text).
    Backslash-newline continues the command; an unquoted newline, `;`, `|`, `&` or `#` word ends it."""
    out: list[tuple[str, int, int]] = []
    i = pos
    while i < end:
        c = text[i]
        if c in " \t":
            i += 1
            continue
        if c == "\\" and text.startswith("\n", i + 1):
            i += 2
            continue
        if c in "\n;|&" or c == "#":
            break
        start, word = i, []
        while i < end and text[i] not in " \t\n;|&":
            c = text[i]
            if c == "\\" and i + 1 < end:
                if text[i + 1] == "\n":
                    break
                word.append(text[i + 1])
                i += 2
            elif c in "'\"":
                close = text.find(c, i + 1, end)
                if close < 0:
                    close = end
                word.append(text[i + 1:close])
                i = close + 1
            else:
                word.append(c)
                i += 1
        out.append(("".join(word), start, i))
    return out


def _flags(tokens: list) -> tuple[dict, list]:
    """{flag: (value, value start, value end)} and the positional words (with their positions)."""
    flags: dict = {}
    positional = []
    i = 0
    while i < len(tokens):
        word, s, e = tokens[i]
        if word.startswith("--"):
            name, eq, value = word.partition("=")
            if eq:
                raw_eq = _raw_index_of_eq(tokens[i])
                flags[name] = (value, raw_eq, e)
            elif i + 1 < len(tokens) and not tokens[i + 1][0].startswith("--"):
                values = [tokens[i + 1]]
                # list flags (`--client-id-list a b`) take the words that follow
                while name.endswith("-list") and i + 2 < len(tokens) and not tokens[i + 2][0].startswith("--"):
                    i += 1
                    values.append(tokens[i + 1])
                flags[name] = (values[0][0] if len(values) == 1 else [v[0] for v in values], values[0][1],
                               values[-1][2])
                i += 1
            else:
                flags[name] = (True, s, e)
        else:
            positional.append(tokens[i])
        i += 1
    return flags, positional


def _raw_index_of_eq(token: tuple) -> int:
    """Where the value of `--flag=value` starts in the text (just after `=`)."""
    word, start, _end = token
    return start + word.index("=") + 1  # flag names are never quoted, so the offset is the same in the text


def _command(src: _Text, file: str, tokens: list, files: dict, docs: list) -> SourceDoc | None:
    words = [t[0] for t in tokens]
    if not words:
        return None
    if any(w in ("delete", "remove-iam-policy-binding", "detach-role-policy", "delete-role") for w in words[:6]):
        return None
    flags, positional = _flags(tokens)
    b = _Builder(src, file, tokens)
    head = " ".join(words[:5])
    if head.startswith("gcloud iam workload-identity-pools providers create-oidc") or \
            head.startswith("gcloud iam workload-identity-pools providers update-oidc"):
        name = positional[5][0] if len(positional) > 5 else "PROVIDER"
        pool = flags.get("--workload-identity-pool", ("POOL",))[0]
        project = flags.get("--project", ("${PROJECT_NUMBER}",))[0]
        b.put(("name",), f"projects/{project}/locations/global/workloadIdentityPools/{pool}/providers/{name}",
              positional[5] if len(positional) > 5 else tokens[0])
        if "--attribute-mapping" in flags:
            value, s, e = flags["--attribute-mapping"]
            b.put(("attributeMapping",), {}, (None, s, e))
            offset = s + (1 if src.text[s] in "'\"" else 0)
            for item in _split_mapping(str(value)):
                key, _, expr = item[0].partition("=")
                b.put(("attributeMapping", key.strip()), expr, (None, offset + item[1], offset + item[2]))
        if "--attribute-condition" in flags:
            b.flag(("attributeCondition",), flags["--attribute-condition"])
        b.put(("oidc",), {}, tokens[0])
        if "--issuer-uri" in flags:
            b.flag(("oidc", "issuerUri"), flags["--issuer-uri"])
        if "--allowed-audiences" in flags:
            value, s, e = flags["--allowed-audiences"]
            b.put(("oidc", "allowedAudiences"), [a for a in str(value).split(",") if a], (None, s, e))
        return b.doc
    if head.startswith(("gcloud projects add-iam-policy-binding", "gcloud iam service-accounts add-iam-policy-binding")):
        target = positional[3 if words[1] == "projects" else 4] if len(positional) > (3 if words[1] == "projects" else 4) \
            else None
        if target is None or "--member" not in flags or "--role" not in flags:
            return None
        resource = f"projects/{target[0]}" if words[1] == "projects" else f"projects/-/serviceAccounts/{target[0]}"
        b.put(("resource",), resource, target)
        b.put(("policy",), {"bindings": []}, tokens[0])
        b.put(("policy", "bindings", 0), {}, tokens[0])
        b.flag(("policy", "bindings", 0, "role"), flags["--role"])
        b.put(("policy", "bindings", 0, "members"), [], (None, flags["--member"][1], flags["--member"][2]))
        b.flag(("policy", "bindings", 0, "members", 0), flags["--member"])
        return b.doc
    if head.startswith("gsutil iam ch") and len(positional) >= 5:
        grant, bucket = positional[3], positional[-1]
        member, _, role = grant[0].rpartition(":")
        if not member or not bucket[0].startswith("gs://"):
            return None
        role = role if role.startswith("roles/") else f"roles/storage.{role}"  # gsutil's short names
        b.put(("resource",), f"//storage.googleapis.com/{bucket[0][5:]}", bucket)
        b.put(("policy",), {"bindings": []}, tokens[0])
        b.put(("policy", "bindings", 0), {"role": role}, grant)
        b.put(("policy", "bindings", 0, "members"), [member], grant)
        return b.doc
    if head.startswith("az role assignment create"):
        b.put((), {"type": "Microsoft.Authorization/roleAssignments"}, tokens[0])
        for flag, key in (("--scope", "scope"), ("--role", "roleDefinitionName"), ("--assignee", "principalId"),
                          ("--assignee-object-id", "principalId"), ("--condition", "condition")):
            if flag in flags:
                b.flag((key,), flags[flag])
        if "scope" not in b.doc.data:
            return None  # the default scope is the subscription the CLI logs into: not known here
        return b.doc
    if head.startswith("az identity federated-credential create"):
        b.put((), {"type": "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials"},
              tokens[0])
        for flag, key in (("--name", "name"), ("--issuer", "issuer"), ("--subject", "subject")):
            if flag in flags:
                b.flag((key,), flags[flag])
        value, s, e = flags.get("--audiences", (["api://AzureADTokenExchange"], tokens[0][1], tokens[0][2]))
        b.put(("audiences",), value if isinstance(value, list) else [value], (None, s, e))
        return b.doc
    if head.startswith("az ad app federated-credential create") and "--parameters" in flags:
        return _inline_document(src, file, *flags["--parameters"])  # a file (`@params.json`): its heredoc
    if head.startswith("aws iam create-role") and "--assume-role-policy-document" in flags:
        value, s, e = flags["--assume-role-policy-document"]
        if str(value).startswith("file://"):
            source = files.get(str(value).replace("file://", "", 1))
        else:
            source = _inline_document(src, file, value, s, e)  # the JSON written in the command itself
        if source is None:
            return None
        if source in docs:
            docs.remove(source)  # the heredoc is this role's trust, not a bare policy
        b.put(("Role",), {}, tokens[0])
        if "--role-name" in flags:
            b.flag(("Role", "RoleName"), flags["--role-name"])
        graft(b.doc, ("Role", "AssumeRolePolicyDocument"), spans_of(source), (), source.data, source.duplicate_keys)
        return b.doc
    if head.startswith("aws iam create-open-id-connect-provider") and "--url" in flags:
        b.put((), {}, tokens[0])
        b.flag(("Url",), flags["--url"])
        for flag, key in (("--client-id-list", "ClientIDList"), ("--thumbprint-list", "ThumbprintList")):
            if flag in flags:
                value, s, e = flags[flag]
                values = value if isinstance(value, list) else [value]
                b.put((key,), [_braced(v) for v in values], (None, s, e))
        if "ClientIDList" not in b.doc.data and "ThumbprintList" not in b.doc.data:
            b.doc.data["ThumbprintList"] = []
        return b.doc
    return None


def _inline_document(src, file: str, value, s: int, e: int) -> SourceDoc | None:
    """The JSON object a flag's value holds (`--parameters '{...}'`), positioned inside the quotes where the
    value is written as it reads; None for anything else (a file name, say)."""
    text = str(value)
    if not text.lstrip().startswith("{"):
        return None
    quoted = src.text[s] in "'\""
    line, col = src.pos(s + (1 if quoted else 0))
    exact = "\n" not in src.text[s:e] and src.text[s + (1 if quoted else 0):e - (1 if quoted else 0)] == text
    parsed, err = parse_yaml_stream(text, file, line - 1 if exact else 0, col - 1 if exact else 0)
    if err is not None or len(parsed) != 1 or not isinstance(parsed[0].data, dict):
        return None
    doc = parsed[0]
    if not exact:  # escaped or split over lines: every position is the flag's value
        doc.value_spans, doc.key_spans = {(): src.span(s, e)}, {}
    return doc


def _split_mapping(value: str) -> list[tuple[str, int, int]]:
    """`k=v,k2=v2` into items with their offsets; commas inside brackets or quotes do not split."""
    out, depth, quote, start = [], 0, None, 0
    for i, c in enumerate(value):
        if quote:
            quote = None if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c in "[(":
            depth += 1
        elif c in "])":
            depth -= 1
        elif c == "," and depth == 0:
            out.append((value[start:i], start, i))
            start = i + 1
    out.append((value[start:], start, len(value)))
    return [item for item in out if item[0].strip()]


class _Builder:
    """A synthesized document whose values are placed at the words of the command they come from."""

    def __init__(self, src: _Text, file: str, tokens: list):
        self.src = src
        self.doc = SourceDoc(file=file, data={})
        self.doc.fallback = src.span(tokens[0][1], tokens[0][2])
        self.doc.value_spans[()] = src.span(tokens[0][1], tokens[-1][2])

    def put(self, path: tuple, value, where: tuple) -> None:
        set_path(self.doc.data, path, value)
        if path:
            self.doc.value_spans[path] = self.src.span(where[1], where[2])

    def flag(self, path: tuple, flag: tuple) -> None:
        value, s, e = flag
        if isinstance(value, str):
            value = _braced(value)
        self.put(path, value, (None, s, e))


_BARE_VAR = re.compile(r"(?<![$\\])\$([A-Za-z_][A-Za-z0-9_]*)")


def _braced(value: str) -> str:
    """`$VAR` as `${VAR}`: the placeholder form the semantics recognise as a value known only at run time."""
    return _BARE_VAR.sub(r"${\1}", value) if "$" in value else value
