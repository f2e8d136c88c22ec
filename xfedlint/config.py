"""The configuration: `.xfedlint.yaml` / `.xfedlint.yml`, or `[tool.xfedlint]` in `pyproject.toml`.

Found by `load_config`: the file given with `--config`; else, from the start folder up to the filesystem
root, the first folder holding `.xfedlint.yaml`, `.xfedlint.yml` or a `pyproject.toml` with a
`[tool.xfedlint]` table (in that order within one folder: the nearest folder wins); else the defaults.

Validated by the JSON Schema `schemas/config.schema.json` (compiled by fastjsonschema, imported only when
a file exists). Every error is a `UsageError` (exit 2) whose one-line message names the file, the line
and column, and the key: `.xfedlint.yaml:7:13: clusters[0].issuer must be an https:// URL ...`. What
the schema cannot know (rule IDs, a rule's params) is checked against the loaded rules by
`Config.check_rules`, with the same kind of message.

Globs (`exclude`, `per-path-ignores`, `clusters[].paths`, `gcp.policy-levels`) are matched against a
file's path relative to the folder of the configuration file (the start folder without one), with
forward slashes: `*` also crosses `/`; a glob matching a folder covers everything below it; a glob
without `/` also matches a file or folder name at any depth (unless it starts with `/`); a leading `**/`
also matches at the top.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
from pathlib import Path
from typing import Any, Callable

import msgspec

from xfedlint.errors import UsageError
from xfedlint.loaders.files import DEFAULT_SIZE_CAP, STDIN, display_path

CONFIG_NAMES = (".xfedlint.yaml", ".xfedlint.yml")
PYPROJECT = "pyproject.toml"
DEFAULT_FAIL_ON = "warning"
SCHEMA_FILE = Path(__file__).parent / "schemas" / "config.schema.json"

_Locate = Callable[[tuple, bool], "tuple[int, int] | None"]  # (path, at the key?) -> (line, column)


class Cluster(msgspec.Struct, frozen=True):
    """A cluster whose manifests live under `paths`: its service-account tokens carry `issuer`."""

    name: str
    issuer: str
    paths: tuple = ()


class Config(msgspec.Struct, frozen=True):
    select: tuple = ()  # rule IDs or prefixes, upper case
    ignore: tuple = ()
    per_path_ignores: dict = msgspec.field(default_factory=dict)  # glob -> tuple of rule IDs or prefixes
    severity: dict = msgspec.field(default_factory=dict)  # rule ID -> error|warning|note
    params: dict = msgspec.field(default_factory=dict)  # rule ID -> {param: value}, over rules/<ID>.yaml's params
    clusters: tuple = ()  # Cluster
    policy_levels: dict = msgspec.field(default_factory=dict)  # glob -> organization|folder|project|...
    kubernetes_inventory_complete: bool = False
    fail_on: str = DEFAULT_FAIL_ON
    exclude: tuple = ()  # globs
    size_cap: int = DEFAULT_SIZE_CAP
    source: str | None = None  # the file read (absolute), None for the defaults
    root: str = ""  # absolute folder the globs are relative to; "" means the working folder at use time
    _raw: dict | None = None  # the validated data, keys as written
    _locate: Any = None  # _Locate into the source file

    # --- paths -------------------------------------------------------------------------------------

    def relative(self, file: str) -> str | None:
        """A reported file name (relative to the working folder) as a path relative to `root`."""
        if not file or file == display_path(STDIN):
            return None
        rel = os.path.relpath(os.path.abspath(file), self.root or os.getcwd())
        return rel.replace(os.sep, "/")

    def cluster_for(self, file: str) -> Cluster | None:
        """The first cluster one of whose `paths` globs matches `file` (a reported file name)."""
        rel = self.relative(file) if self.clusters else None
        if rel is None:
            return None
        return next((c for c in self.clusters if any(path_matches(rel, g) for g in c.paths)), None)

    def cluster_issuer(self, file: str) -> str | None:
        cluster = self.cluster_for(file)
        return cluster.issuer if cluster else None

    def policy_level(self, file: str) -> str | None:
        """The `gcp.policy-levels` level of the first glob matching `file`, if any."""
        rel = self.relative(file)
        if rel is None:
            return None
        return next((level for g, level in self.policy_levels.items() if path_matches(rel, g)), None)

    def excluded(self, file: str) -> bool:
        if not self.exclude:
            return False
        rel = self.relative(file)
        return rel is not None and any(path_matches(rel, g) for g in self.exclude)

    def ignored(self, rule_id: str, file: str) -> bool:
        """Whether `per-path-ignores` drops findings of `rule_id` in `file`."""
        if not self.per_path_ignores:
            return False
        rel = self.relative(file)
        if rel is None:
            return False
        return any(path_matches(rel, g) and any(rule_id.startswith(p) for p in refs)
                   for g, refs in self.per_path_ignores.items())

    # --- checks against the loaded rules ---------------------------------------------------------------

    def check_rules(self, rules: dict) -> None:
        """Rule IDs and params named by the config must exist: a typo must not silently do nothing.

        `rules` maps a rule ID to its RuleSpec (registry.load_rules()).
        """
        raw = self._raw if self._raw is not None else _raw_of(self)
        ids = sorted(rules)
        families = sorted({re.sub(r"[0-9]+$", "", i) for i in ids})

        def ref_ok(ref: str, path: tuple) -> None:
            up = ref.upper()
            if any(i.startswith(up) for i in ids):
                return
            self._fail(path, f"`{ref}` is not a rule ID or prefix" + _suggest(up, ids + families)
                       + " (`xfedlint rules` lists them)")

        for key in ("select", "ignore"):
            for i, ref in enumerate(raw.get(key) or ()):
                ref_ok(ref, (key, i))
        for glob, refs in (raw.get("per-path-ignores") or {}).items():
            for i, ref in enumerate(refs or ()):
                ref_ok(ref, ("per-path-ignores", glob, i))
        for key in ("severity", "params"):
            for rid in raw.get(key) or {}:
                if rid.upper() not in rules:
                    self._fail((key, rid), f"`{rid}` is not a rule ID" + _suggest(rid.upper(), ids), key=True)
        for rid, given in (raw.get("params") or {}).items():
            rule = rules[rid.upper()]
            declared = rule.params
            for name, value in given.items():
                where = ("params", rid, name)
                if name not in declared:
                    known = ", ".join(f"`{n}`" for n in declared) or "none"
                    self._fail(where, f"{rule.id} has no param `{name}`" + _suggest(name, list(declared))
                               + f" (its params: {known})", key=True)
                want, got = _kind(declared[name]), _kind(value)
                if want is not None and got != want and not (want == "number" and got == "int"):
                    self._fail(where, f"must be {_KIND_WORDS[want]}, like the default of {rule.id}, "
                                      f"not {_KIND_WORDS.get(got, type(value).__name__)}")

    def _fail(self, path: tuple, message: str, key: bool = False) -> None:
        """A UsageError at `path` (at its key when `key`), named by its parent for a key."""
        named = path[:-1] if key else path
        prefix = "tool.xfedlint" if self.source and os.path.basename(self.source) == PYPROJECT else ""
        name = _name(named, prefix)
        raise UsageError(f"{self._where(path, key)}: {name + ': ' if name else ''}{message}")

    def _where(self, path: tuple, key: bool = False) -> str:
        if self.source is None:
            return "configuration"
        pos = self._locate(path, key) if self._locate else None
        name = display_path(self.source)
        return f"{name}:{pos[0]}:{pos[1]}" if pos else name


# --- globs ----------------------------------------------------------------------------------------------

def path_matches(rel: str, glob: str) -> bool:
    """Whether `glob` (config semantics, see the module docstring) matches `rel` or a folder above it."""
    g = glob.strip()
    if g.startswith("./"):
        g = g[2:]
    anchored = g.startswith("/")  # `/k8s`: the folder at the top only, as in .gitignore
    g = g.strip("/") or "*"
    parts = rel.split("/")
    candidates = ["/".join(parts[:i]) for i in range(len(parts), 0, -1)]  # the path, then its folders
    alternatives = [g, g[3:]] if g.startswith("**/") else [g]
    for alt in alternatives:
        for c in candidates:
            if fnmatch.fnmatch(c, alt):
                return True
        if not anchored and "/" not in alt and any(fnmatch.fnmatch(p, alt) for p in parts):
            return True
    return False


# --- discovery and loading ---------------------------------------------------------------------------

def find_config(start: Path) -> Path | None:
    """The nearest `.xfedlint.yaml`, `.xfedlint.yml` or `pyproject.toml` with `[tool.xfedlint]`."""
    folder = Path(os.path.abspath(start))
    if folder.is_file():
        folder = folder.parent
    for d in (folder, *folder.parents):
        for name in CONFIG_NAMES:
            candidate = d / name
            if candidate.is_file():
                return candidate
        pyproject = d / PYPROJECT
        if pyproject.is_file() and _has_tool_table(pyproject):
            return pyproject
    return None


def load_config(explicit_path: str | None, start: Path) -> Config:
    """The configuration in effect: `--config FILE`, else the nearest one found from `start`, else defaults."""
    if explicit_path:
        path = Path(explicit_path)
        if not path.is_file():
            raise UsageError(f"{explicit_path}: configuration file not found")
    else:
        path = find_config(start)
        if path is None:
            return Config(root=os.path.abspath(start))
    return read_config(path)


def read_config(path: Path) -> Config:
    """Read, validate and normalise one configuration file (YAML, or a pyproject.toml's [tool.xfedlint])."""
    source = os.path.abspath(path)
    shown = display_path(source)
    try:
        raw_text = Path(source).read_bytes()
        text = raw_text.decode("utf-8-sig")
    except OSError as exc:
        raise UsageError(f"{shown}: cannot read configuration: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"{shown}: configuration is not valid UTF-8") from exc
    if Path(source).name == PYPROJECT:
        data, locate, prefix = _read_pyproject(text, shown)
    else:
        data, locate = _read_yaml(text, shown)
        prefix = ""
    cfg = Config(source=source, root=os.path.dirname(source), _locate=locate)
    if data is None:  # an empty file (or only comments): the defaults
        return cfg
    _validate(data, cfg, prefix)
    return _build(data, cfg)


# `[tool.xfedlint]`, `[tool.xfedlint.x]`, `tool.xfedlint.x = ...`; or a `[tool]` table and `xfedlint = ...`
_TOOL_XFEDLINT = re.compile(r"^\s*(?:\[\[?\s*)?tool\s*\.\s*[\"']?xfedlint\b", re.M)
_TOOL_TABLE = re.compile(r"^\s*\[\s*tool\s*\]", re.M)
_XFEDLINT_KEY = re.compile(r"^\s*[\"']?xfedlint[\"']?\s*[.=]", re.M)


def _maybe_tool_table(text: str) -> bool:
    """A cheap test that spares parsing TOML for nearly every pyproject.toml."""
    return bool(_TOOL_XFEDLINT.search(text) or (_TOOL_TABLE.search(text) and _XFEDLINT_KEY.search(text)))


def _has_tool_table(pyproject: Path) -> bool:
    try:
        text = pyproject.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return False
    if not _maybe_tool_table(text):
        return False
    try:
        tool = _toml_loads(text).get("tool")
    except ValueError as exc:  # tomllib.TOMLDecodeError is a ValueError
        if _TOOL_XFEDLINT.search(text):
            raise UsageError(f"{display_path(str(pyproject))}: invalid TOML: {exc}") from exc
        return False
    return isinstance(tool, dict) and "xfedlint" in tool


def _toml_loads(text: str) -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib
        except ModuleNotFoundError as exc:
            raise UsageError("reading [tool.xfedlint] from pyproject.toml on Python 3.10 needs `tomli` "
                             "(pip install tomli), or use a .xfedlint.yaml") from exc
    return tomllib.loads(text)


def _read_yaml(text: str, shown: str) -> tuple[Any, _Locate]:
    from xfedlint.loaders._positions import parse_yaml_stream

    docs, err = parse_yaml_stream(text, shown)
    if err is not None:
        raise UsageError(f"{shown}:{err.span.line}:{err.span.col}: {err.message}")
    if len(docs) > 1:
        s = docs[1].fallback
        raise UsageError(f"{shown}:{s.line}:{s.col}: a configuration file holds one YAML document, not several")
    if not docs:
        return None, lambda path, key=False: None
    doc = docs[0]
    if doc.tags:
        path, tag, span = doc.tags[0]
        raise UsageError(f"{shown}:{span.line}:{span.col}: {_name(path) or 'configuration'}: "
                         f"unsupported YAML tag `{tag}`")
    if doc.duplicate_keys:
        path, span = doc.duplicate_keys[0]
        raise UsageError(f"{shown}:{span.line}:{span.col}: {_name(path)} is given twice")

    def locate(path: tuple, key: bool = False) -> tuple[int, int]:
        s = doc.span(path, key=key)
        return s.line, s.col

    return doc.data, locate


def _read_pyproject(text: str, shown: str) -> tuple[Any, _Locate, str]:
    try:
        data = _toml_loads(text)
    except ValueError as exc:
        raise UsageError(f"{shown}: invalid TOML: {exc}") from exc
    tool = data.get("tool")
    section = tool.get("xfedlint") if isinstance(tool, dict) else None
    lines = text.splitlines()

    def locate(path: tuple, key: bool = False) -> tuple[int, int] | None:
        return _toml_position(lines, path)

    return (section if section is not None else None), locate, "tool.xfedlint"


def _toml_position(lines: list, path: tuple) -> tuple[int, int] | None:
    """A simple search: the `[tool.xfedlint...]` table, then each key of `path` below it, in order."""
    header = re.compile(r"^\s*\[\[?\s*tool\.xfedlint\s*[\].]")
    start = next((i for i, line in enumerate(lines) if header.match(line)), None)
    if start is None:
        return None
    row, col = start, lines[start].index("[") + 1
    for i, part in enumerate(path):
        if isinstance(part, int):
            table = path[i - 1] if i else None
            if table is not None:  # an array of tables: the (part+1)-th `[[...table]]` header
                rx = re.compile(r"^\s*\[\[\s*tool\.xfedlint\.[^\]]*?" + re.escape(str(table)) + r"\s*\]\]")
                hits = [n for n in range(row, len(lines)) if rx.match(lines[n])]
                if len(hits) > part:
                    row, col = hits[part], lines[hits[part]].index("[") + 1
            continue
        rx = re.compile(r"(?:^|[\s{,.\[])([\"']?" + re.escape(str(part)) + r"[\"']?)\s*(?:=|\]|\.)")
        for n in range(row, len(lines)):
            m = rx.search(lines[n])
            if m and not lines[n].lstrip().startswith("#"):
                row, col = n, m.start(1) + 1
                break
    return row + 1, col


# --- validation ----------------------------------------------------------------------------------------

_validator = None
_schema = None


def _compiled():
    global _validator, _schema
    if _validator is None:
        import fastjsonschema

        _schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
        _validator = fastjsonschema.compile(_schema)
    return _validator


def _drop_nulls(data: Any) -> Any:
    """`key:` with nothing after it (every example below it commented out) means the key is not set."""
    if not isinstance(data, dict):
        return data
    out = {k: v for k, v in data.items() if v is not None}
    if isinstance(out.get("gcp"), dict):
        out["gcp"] = {k: v for k, v in out["gcp"].items() if v is not None}
    return out


def _validate(data: Any, cfg: Config, prefix: str) -> None:
    import fastjsonschema

    validate = _compiled()
    try:
        validate(_drop_nulls(data))
    except fastjsonschema.JsonSchemaValueException as exc:
        message, at_key, where = _explain(exc, _real_path(_drop_nulls(data), exc.name), prefix)
        raise UsageError(f"{cfg._where(where, at_key)}: {message}") from None
    if isinstance(data, dict):
        names = [c.get("name") for c in data.get("clusters") or ()]
        for i, n in enumerate(names):
            if n in names[:i]:
                cfg._fail(("clusters", i, "name"), f"`{n}` is already the name of clusters[{names.index(n)}]")


def _real_path(data: Any, name: str) -> tuple:
    """The path of fastjsonschema's `data.gcp.policy-levels.iam/*.json` (its own `path` splits keys at dots):
    read back by walking the data, longest key first."""
    rest = name[len("data"):] if name.startswith("data") else name
    out: list = []
    node = data
    while rest:
        if isinstance(node, list) and (m := re.match(r"\[(\d+)\]", rest)):
            index = int(m.group(1))
            out.append(index)
            node = node[index] if index < len(node) else None
            rest = rest[m.end():]
            continue
        if isinstance(node, dict) and rest.startswith("."):
            fits = [k for k in node if rest[1:].startswith(k) and rest[1 + len(k):][:1] in ("", ".", "[")]
            if fits:
                key = max(fits, key=len)
                out.append(key)
                node = node[key]
                rest = rest[1 + len(key):]
                continue
        break  # not in the data (a missing key): point at the nearest ancestor found
    return tuple(out)


_TYPE_WORDS = {"object": "a mapping", "array": "a list", "string": "a string", "integer": "an integer",
               "boolean": "true or false", "number": "a number", "null": "null"}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    for py, word in ((dict, "a mapping"), (list, "a list"), (str, "a string"), (int, "an integer"),
                     (float, "a number")):
        if isinstance(value, py):
            return word
    return type(value).__name__


def _explain(exc, path: tuple, prefix: str) -> tuple[str, bool, tuple]:
    """(the message, naming the key; whether to point at the key rather than the value; the path to point at)."""
    rule, definition, value = exc.rule, exc.definition or {}, exc.value
    name = _name(path, prefix)
    subject = f"{name} " if name else ""
    allowed = list(definition.get("properties") or {})
    extra = next((k for k in value if k not in allowed), None) if isinstance(value, dict) and allowed else None
    if extra is not None and definition.get("additionalProperties") is False:
        # also when another keyword failed first: `pth` for `paths` is a typo, not a missing key
        return (f"unknown key `{_name(path + (extra,), prefix)}`"
                + (_suggest(extra, allowed) or f" (known keys here: {_list(allowed)})"), True, path + (extra,))
    if rule == "propertyNames" and isinstance(value, dict):
        names = definition.get("propertyNames") or {}
        rx = names.get("pattern")
        bad = next((k for k in value if (rx and not re.search(rx, k)) or len(k) < names.get("minLength", 0)),
                   next(iter(value), ""))
        what = "a rule ID such as AWS001" if rx else "a non-empty glob"
        return f"{subject}key `{bad}` must be {what}", True, path + (bad,)
    if rule == "required" and isinstance(value, dict):
        missing = [k for k in definition.get("required", ()) if k not in value]
        return f"{subject}needs `{missing[0] if missing else '?'}`", False, path
    if rule == "type":
        want = definition.get("type")
        words = " or ".join(_TYPE_WORDS.get(t, t) for t in (want if isinstance(want, list) else [want]))
        return f"{subject or 'the configuration '}must be {words}, not {_json_type(value)}", False, path
    if rule == "enum":
        options = definition.get("enum", [])
        return (f"{subject}must be one of {', '.join(map(str, options))}, not {value!r}"
                + _suggest(str(value), [str(o) for o in options])), False, path
    if rule == "pattern":
        hint = definition.get("x-hint")
        if hint:
            return f"{subject}must be {hint}, not {value!r}", False, path
        return f"{subject}must match pattern {definition.get('pattern')}, not {value!r}", False, path
    if rule in ("minItems", "minLength"):
        return f"{subject}must not be empty", False, path
    if rule == "uniqueItems":
        return f"{subject}lists a value twice", False, path
    if rule == "minimum":
        return f"{subject}must be at least {definition.get('minimum')}, not {value!r}", False, path
    message = re.sub(r"^data\S*\s+", "", exc.message)  # the schema's own words, without its root name
    return f"{subject}{message}", False, path


def _name(path: tuple, prefix: str = "") -> str:
    """`clusters[0].issuer`, `per-path-ignores."legacy/*.json"[1]`; with `tool.xfedlint` in front for TOML."""
    out = prefix
    for p in path:
        if isinstance(p, int):
            out += f"[{p}]"
        elif re.fullmatch(r"[A-Za-z0-9_-]+", str(p)):
            out += f".{p}" if out else str(p)
        else:
            out += (f".{json.dumps(p)}" if out else json.dumps(p))
    return out


def _suggest(word: str, choices: list) -> str:
    import difflib  # only to suggest a correction

    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean `{close[0]}`?" if close else ""


def _list(items: list) -> str:
    return ", ".join(f"`{i}`" for i in items)


_KIND_WORDS = {"list": "a list", "mapping": "a mapping", "bool": "true or false", "int": "an integer",
               "number": "a number", "string": "a string"}


def _kind(value: Any) -> str | None:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return None


# --- building ---------------------------------------------------------------------------------------------

def _refs(values) -> tuple:
    return tuple(v.strip().upper() for v in values or () if v.strip())


def _build(data: dict, cfg: Config) -> Config:
    data = _drop_nulls(data)
    gcp = data.get("gcp") or {}
    return Config(
        select=_refs(data.get("select")),
        ignore=_refs(data.get("ignore")),
        per_path_ignores={g: _refs(r) for g, r in (data.get("per-path-ignores") or {}).items()},
        severity={k.upper(): v for k, v in (data.get("severity") or {}).items()},
        params={k.upper(): dict(v) for k, v in (data.get("params") or {}).items()},
        clusters=tuple(Cluster(c["name"], c["issuer"], tuple(c["paths"])) for c in data.get("clusters") or ()),
        policy_levels=dict(gcp.get("policy-levels") or {}),
        kubernetes_inventory_complete=bool(data.get("kubernetes-inventory-complete", False)),
        fail_on=data.get("fail-on", DEFAULT_FAIL_ON),
        exclude=tuple(data.get("exclude") or ()),
        size_cap=int(data.get("size-cap", DEFAULT_SIZE_CAP)),
        source=cfg.source, root=cfg.root, _raw=data, _locate=cfg._locate,
    )


def _raw_of(cfg: Config) -> dict:
    """The raw form of a Config built in code (no file), for `check_rules`."""
    return {"select": list(cfg.select), "ignore": list(cfg.ignore),
            "per-path-ignores": {g: list(r) for g, r in cfg.per_path_ignores.items()},
            "severity": dict(cfg.severity), "params": dict(cfg.params)}


# --- xfedlint init --------------------------------------------------------------------------------------------

STARTER = """\
# xfedlint configuration. Every key is optional; delete what you do not need.
# Globs are matched against paths relative to this file's folder (`*` also crosses `/`; a glob matching a
# folder covers everything below it). The command line's --select, --ignore and --fail-on replace the
# values given here; --exclude adds to them. Schema: xfedlint/schemas/config.schema.json.

# Run only these rules (rule IDs or prefixes such as AWS or GCP0); absent: every rule.
# select: [K8S, AWS, AZ, GCP, X, CRED, PERM]

# Never run these rules.
ignore: []

# Findings of these rules in matching files are reported as suppressed (JSON has no comments for inline
# `# xfedlint: ignore[ID]` suppressions).
per-path-ignores:
  # "legacy/**": [AWS019]
  # "**/*-sandbox.json": [GCP]

# Report a rule's findings at another severity: error, warning or note.
severity:
  # K8S011: note

# Rule parameters, replacing a default of rules/<ID>.yaml (`xfedlint explain ID` shows them).
params:
  # AWS002:
  #   expected_audiences: [sts.amazonaws.com]
  # GCP019:
  #   resource_scoped_roles: ["roles/storage.*", "roles/secretmanager.*"]

# Which cluster a Kubernetes manifest belongs to, so its service accounts are matched with the cloud
# trust that names the cluster's OIDC issuer (exactly: scheme, case and trailing slash).
clusters:
  # - name: prod-eks
  #   issuer: https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE
  #   paths: ["k8s/prod/**"]
  # - name: prod-aks
  #   issuer: https://westeurope.oic.prod-aks.azure.com/00000000-0000-0000-0000-000000000000/11111111-1111-1111-1111-111111111111/
  #   paths: ["aks/**"]

# The level of the GCP IAM policies (get-iam-policy output) in matching files, when neither the input
# nor the file name says: organization, folder, project, service-account or bucket.
gcp:
  policy-levels:
    # "iam/org-*.json": organization
    # "iam/buckets/**": bucket

# Set to true when the scanned manifests are every object of the cluster(s), so that a missing object
# (say, a service account no manifest defines) is evidence rather than an unknown.
kubernetes-inventory-complete: false

# Exit 1 when a finding at or above this severity is reported: error, warning, note or never.
fail-on: warning

# Files and folders not to scan.
exclude:
  # - "vendor"
  # - "**/testdata/**"

# Files larger than this many bytes are reported (XF001), not read.
size-cap: 10485760
"""
