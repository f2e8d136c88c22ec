"""The hand-written CEL parser against cases of the cel-spec grammar and conformance suite
(`doc/langdef.md`, `tests/simple/testdata/parse.textproto`), and the condition analyser built on it."""

from __future__ import annotations

import pytest

from xfedlint.semantics import cel
from xfedlint.semantics.cel_weakness import (
    alternatives,
    bare_dots,
    is_anchored,
    is_trivially_true,
    literal_prefix,
    mapping_claims,
    pins_everywhere,
    pins_owner,
    weaknesses,
)


def value(expr: str):
    node = cel.parse(expr)
    assert isinstance(node, cel.Literal), node
    return node.value


def shape(node) -> str:
    """A compact, fully parenthesised rendering of a tree, to compare structure."""
    if isinstance(node, cel.Literal):
        return repr(node.value)
    if isinstance(node, cel.Ident):
        return node.name
    if isinstance(node, cel.Select):
        return f"{shape(node.operand)}.{node.field}"
    if isinstance(node, cel.Index):
        return f"{shape(node.operand)}[{shape(node.index)}]"
    if isinstance(node, cel.Call):
        args = ", ".join(shape(a) for a in node.args)
        return f"{shape(node.target) + '.' if node.target is not None else ''}{node.function}({args})"
    if isinstance(node, cel.Unary):
        return f"{node.op}{shape(node.operand)}"
    if isinstance(node, cel.Binary):
        return f"({shape(node.left)} {node.op} {shape(node.right)})"
    if isinstance(node, cel.Conditional):
        return f"({shape(node.cond)} ? {shape(node.then)} : {shape(node.otherwise)})"
    if isinstance(node, cel.ListLit):
        return "[" + ", ".join(shape(i) for i in node.items) + "]"
    if isinstance(node, cel.MapLit):
        return "{" + ", ".join(f"{shape(k)}: {shape(v)}" for k, v in node.entries) + "}"
    if isinstance(node, cel.Message):
        return node.type_name + "{" + ", ".join(f"{k}: {shape(v)}" for k, v in node.fields) + "}"
    raise AssertionError(node)


# ---- literals ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("expr,expected", [
    ("'hello'", "hello"), ('"hello"', "hello"), ("'''hello'''", "hello"), ('"""hello"""', "hello"),
    ("''", ""), ("'\"\"'", '""'), ("'''x''x'''", "x''x"), ('"\\""', '"'), ('"\\\\"', "\\"),
    ("' \\\\ \\? \\\" \\' \\` '", " \\ ? \" ' ` "),  # single_quoted_escaped_punctuation
    ("' \\a \\b \\f \\t \\v '", " \a \b \f \t \v "),
    ("' \\n \\r '", " \n \r "),
    ("''' \n '''", " \n "), ("''' \r\n '''", " \r\n "),  # triple quotes may hold raw newlines
    ("' \\000 \\012 \\177 '", " \x00 \x0a \x7f "), ('"\\303\\277"', "\u00c3\u00bf"), ('"\\377"', "\u00ff"),
    ("' \\x00 \\x0A \\x7F \\X4c '", " \x00 \x0a \x7f \x4c "),
    ("' \\u0000 \\u0100 \\uFFFB '", " \x00 \u0100 \ufffb "),
    ("' \\U0001F62C \\U00088888 '", " \U0001f62c \U00088888 "),
    ("'\\uD83D\\uDE00'", "\U0001f600"),  # a surrogate pair makes one code point
    ("r'\\n \\x00'", "\\n \\x00"), ("R'''a\\b'''", "a\\b"),  # raw strings keep escapes
    ("'ÿ'", "ÿ"),
])
def test_string_literals(expr, expected):
    assert value(expr) == expected


@pytest.mark.parametrize("expr,expected", [
    ("b'hello'", b"hello"), ("b'\\303\\277'", b"\xc3\xbf"), ('b"ÿ"', b"\xc3\xbf"), ("b'\\377'", b"\xff"),
    ("b'\\xFF'", b"\xff"), ("B'''\\x4a'''", b"\x4a"), ("br'\\x00'", b"\\x00"), ("Rb'\\n'", b"\\n"),
])
def test_bytes_literals(expr, expected):
    assert value(expr) == expected


@pytest.mark.parametrize("expr,expected,kind", [
    ("0", 0, "int"), ("42", 42, "int"), ("0x1F", 31, "int"), ("0XfF", 255, "int"), ("42u", 42, "uint"),
    ("0x10U", 16, "uint"), ("18446744073709551615u", 2 ** 64 - 1, "uint"), ("9223372036854775807", 2 ** 63 - 1, "int"),
    ("-9223372036854775808", -(2 ** 63), "int"),
    ("3.14", 3.14, "double"), (".5", 0.5, "double"), ("1e3", 1000.0, "double"), ("2.5E-1", 0.25, "double"),
    ("true", True, "bool"), ("false", False, "bool"), ("null", None, "null"),
])
def test_number_and_keyword_literals(expr, expected, kind):
    node = cel.parse(expr)
    assert isinstance(node, cel.Literal) and node.kind == kind and node.value == expected


# ---- precedence and structure ---------------------------------------------------------------------------


@pytest.mark.parametrize("expr,expected", [
    ("a || b && c", "(a || (b && c))"),
    ("a && b || c && d", "((a && b) || (c && d))"),
    ("a == b && c != d", "((a == b) && (c != d))"),
    ("1 + 2 * 3 - 4", "((1 + (2 * 3)) - 4)"),
    ("1 - 2 - 3", "((1 - 2) - 3)"),  # left-associative
    ("a < b == c", "((a < b) == c)"),  # relations chain left to right
    ("!a && b", "(!a && b)"),
    ("!!a", "!!a"), ("--1", "--1"), ("-x.y", "-x.y"),
    ("a ? b : c ? d : e", "(a ? b : (c ? d : e))"),  # right-associative
    ("a || b ? c : d", "((a || b) ? c : d)"),
    ("x in [1, 2] && y", "((x in [1, 2]) && y)"),
    ("'a' + 'b' in l", "(('a' + 'b') in l)"),
    ("(a || b) && c", "((a || b) && c)"),
])
def test_precedence(expr, expected):
    assert shape(cel.parse(expr)) == expected


@pytest.mark.parametrize("expr,expected", [
    ("assertion.sub", "assertion.sub"),
    ("assertion['kubernetes.io']['namespace']", "assertion['kubernetes.io']['namespace']"),
    ("a.b.c(1, 'x')", "a.b.c(1, 'x')"),
    ("size(x) > 0", "(size(x) > 0)"),
    ("x.startsWith('a').f()[0]", "x.startsWith('a').f()[0]"),
    (".a.b", "a.b"),  # a leading dot names the root scope
    ("[]", "[]"), ("[1, 2,]", "[1, 2]"), ("{}", "{}"), ("{'a': 1, 2: [3],}", "{'a': 1, 2: [3]}"),
    ("google.protobuf.Duration{seconds: 10}", "google.protobuf.Duration{seconds: 10}"),
    ("TestAllTypes{}.child.payload", "TestAllTypes{}.child.payload"),
    ("a.`b-c`.d", "a.b-c.d"),  # backtick-quoted field names
    ("l.all(x, x > 0)", "l.all(x, (x > 0))"),
    ("has(assertion.email)", "has(assertion.email)"),
    ("{ 'if': 1 }.if", "{'if': 1}.if"),  # host-reserved words are allowed as selectors...
    ("a.while() || true", "(a.while() || True)"),  # ...as receiver functions...
    ("TestAllTypes{ for: true }", "TestAllTypes{for: True}"),  # ...and as message fields
])
def test_members_calls_and_aggregates(expr, expected):
    assert shape(cel.parse(expr)) == expected


def test_whitespace_and_comments_are_ignored():
    spaced = "[ . cel. expr .conformance. proto3. TestAllTypes { single_int64 : int ( 17 ) } . single_int64 ] [ 0 ]"
    for sep in (" ", "\t", "\n", "\f", "\r"):
        assert shape(cel.parse(spaced.replace(" ", sep))) == \
            "[cel.expr.conformance.proto3.TestAllTypes{single_int64: int(17)}.single_int64][0]"
    assert shape(cel.parse("a // first\n&& b // second\n")) == "(a && b)"


def test_offsets_point_at_the_source():
    expr = "assertion.sub == 'x' || assertion.repository.startsWith('acme/')"
    tree = cel.parse(expr)
    assert isinstance(tree, cel.Binary) and tree.op == "||" and expr[tree.op_start:tree.op_start + 2] == "||"
    call = tree.right
    assert expr[call.start:call.end] == "assertion.repository.startsWith('acme/')"
    assert expr[call.name_start:call.name_start + 10] == "startsWith"
    assert expr[call.args[0].start:call.args[0].end] == "'acme/'"


def test_claim_paths():
    assert cel.claim_path(cel.parse("assertion['kubernetes.io']['serviceaccount'].uid")) == \
        ("assertion", "kubernetes.io", "serviceaccount", "uid")
    assert cel.claim_path(cel.parse("assertion[x]")) is None
    assert cel.claim_path(cel.parse("f(x).y")) is None


# ---- errors, with the offset of the offending character --------------------------------------------------


@pytest.mark.parametrize("expr,offset,fragment", [
    ("assertion.sub == ", 17, "end of expression"),
    ("a &&& b", 4, "unexpected"),
    ("'abc", 0, "unterminated string"),
    ("'a\nb'", 2, "newline"),
    ("'\\q'", 1, "unknown escape"),
    ("'\\x4'", 1, "bad hex escape"),
    ("'\\400'", 1, "unknown escape"),  # octal escapes run from \\000 to \\377
    ("'\\08'", 1, "bad octal escape"),
    ("'\\uD800'", 1, "not a valid Unicode code point"),
    ("'\\U00110000'", 1, "not a valid Unicode code point"),
    ("b'\\u0041'", 2, "not allowed in bytes"),
    ("9223372036854775808", 0, "int literal out of range"),
    ("18446744073709551616u", 0, "uint literal out of range"),
    ("0x", 0, "hex literal without digits"),
    ("f(a,)", 4, "unexpected"),  # no trailing comma in a call
    ("a.in", 2, "keyword 'in'"),
    ("if", 0, "reserved word"),
    ("while(x)", 0, "reserved word"),
    ("x.true", 2, "keyword"),
    ("a ? b", 5, "expected ':'"),
    ("(a", 2, "expected ')'"),
    ("[1, 2", 5, "expected ']'"),
    ("{'a' 1}", 5, "expected ':'"),
    ("a.", 2, "field name"),
    ("a $ b", 2, "unexpected character"),
    ("ünïcode", 0, "unexpected character"),  # identifiers are ASCII
    ("x == ²", 5, "unexpected character"),  # and so are digits
    ("has(a)", 4, "has()"),
    ("has(a['b'])", 4, "has()"),
    ("l.all(x.y, true)", 6, "simple name"),
    ("`a`", 0, "quoted name"),
    ("1.", 2, "field name"),  # FLOAT_LIT needs digits after the dot
])
def test_syntax_errors_carry_offsets(expr, offset, fragment):
    with pytest.raises(cel.CelSyntaxError) as err:
        cel.parse(expr)
    assert not isinstance(err.value, cel.CelLimitError)
    assert err.value.offset == offset, err.value
    assert fragment in err.value.message


# ---- depth: the conformance minimums parse, and no input exhausts the stack -----------------------------


@pytest.mark.parametrize("expr", [
    "a[a[a[a[a[a[a[a[a[a[a[a[0]]]]]]]]]]]]",
    "int(uint(int(uint(int(uint(int(uint(int(uint(int(uint(7))))))))))))",
    "size([[[[[[[[[[[[0]]]]]]]]]]]])",
    "size({0: {0: {0: {0: {0: {0: {0: {0: {0: {0: {0: {0: 'foo'}}}}}}}}}}}})",
    "(" * 32 + "7" + ")" * 32,
    " || ".join(["false"] * 32 + ["true"]),
    " && ".join(["true"] * 32 + ["false"]),
    " ? true : ".join(["true"] * 24) + " ? true : false",
    "!" * 32 + "true",
    "-" * 32 + "19",
    "[[[[[[[[[[[['foo']]]]]]]]]]]]" + "[0]" * 12,
])
def test_conformance_nesting_minimums(expr):
    cel.parse(expr)


@pytest.mark.parametrize("expr", ["(" * 5000 + "1" + ")" * 5000, "[" * 5000 + "]" * 5000, "a ? b : " * 3000 + "c",
                                  "{1: " * 3000 + "1" + "}" * 3000, "f(" * 3000 + ")" * 3000])
def test_deep_nesting_is_a_limit_not_a_crash(expr):
    with pytest.raises(cel.CelLimitError):
        cel.parse(expr)


def test_long_flat_inputs_parse_and_analyse_without_recursion():
    expr = " || ".join(f"assertion.sub == 's{i}'" for i in range(3000))
    tree = cel.parse(expr)
    assert len(cel.flatten(tree, "||")) == 3000
    assert not is_trivially_true(tree)
    assert weaknesses(expr, tree) == []
    assert cel.parse("!" * 5000 + "true") is not None
    assert is_trivially_true(cel.parse("!" * 5000 + "true"))
    chain = "a" + ".b" * 3000
    assert len(list(cel.walk(cel.parse(chain)))) == 3001


def test_fuzzed_inputs_raise_only_syntax_errors():
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import strategies as st

    alphabet = "ab_01 .'\"\\xuU[](){}<>=!&|?:,+-*/%`\nrb"

    @hypothesis.settings(max_examples=400, deadline=None)
    @hypothesis.given(st.text(alphabet=alphabet, max_size=40))
    def check(text):
        try:
            tree = cel.parse(text)
        except cel.CelSyntaxError as e:
            assert 0 <= e.offset <= len(text)
            return
        weaknesses(text, tree)
        is_trivially_true(tree)

    check()


# ---- the analyser ----------------------------------------------------------------------------------------


def found(expr: str, mapping=None, multi_tenant=None):
    tree = cel.parse(expr)
    return [(w.severity, expr[w.start:w.end], w.message)
            for w in weaknesses(expr, tree, mapping_claims(mapping), multi_tenant)]


@pytest.mark.parametrize("expr", [
    "true", "1 == 1", "'a' == 'a'", "has(assertion.sub)", "assertion.sub == 'x' || true", "!false",
    "true ? true : false", "assertion.sub == 'x' || has(assertion.sub)",
])
def test_trivially_true(expr):
    assert is_trivially_true(cel.parse(expr))


@pytest.mark.parametrize("expr", [
    "assertion.sub == 'x'", "false", "assertion.sub == 'x' && true", "has(assertion.sub) && assertion.sub == 'x'",
    "size(assertion.sub) > 0", "assertion.sub != 'x'",
])
def test_not_trivially_true(expr):
    assert not is_trivially_true(cel.parse(expr))


def test_alternatives_push_negation_down():
    alts = alternatives(cel.parse("!(assertion.a == '1' || assertion.b != '2') && assertion.c == '3'"))
    assert [[(a.claim[-1], a.positive) for a in alt] for alt in alts] == [[("a", False), ("b", True), ("c", True)]]
    alts = alternatives(cel.parse("assertion.a == '1' ? assertion.b == '2' : assertion.c == '3'"))
    assert [[(a.claim[-1], a.positive) for a in alt] for alt in alts] == \
        [[("a", True), ("b", True)], [("a", False), ("c", True)]]
    huge = " && ".join(f"(assertion.a == '{i}' || assertion.b == '{i}')" for i in range(20))
    assert alternatives(cel.parse(huge)) is None  # 2^20 alternatives: not analysed as a whole


@pytest.mark.parametrize("expr,severity,fragment", [
    ("assertion.sub.startsWith('system:serviceaccount:prod')", "error", "no delimiter"),
    ("assertion.sub.startsWith('system:serviceaccount:')", "error", "every service account"),
    ("assertion.sub.startsWith('system:serviceaccount:prod:')", "warning", "namespace-wide"),
    ("assertion.repository.endsWith('/api')", "error", "ends with"),
    ("assertion['kubernetes.io']['namespace'].contains('prod')", "error", "contains"),
    ("assertion.repository.matches('acme/.*')", "error", "unanchored"),
    ("matches(assertion.repository, 'acme/.*')", "error", "unanchored"),
    ("assertion.sub.matches('^a|b$')", "error", "splits the anchors"),
    ("assertion.sub.matches('^repo:acme/api.prod$')", "error", "unescaped `.`"),
    ("assertion.sub.matches('^repo:acme/.*$')", "warning", "owner-wide"),
    ("assertion.sub.matches('^system:serviceaccount:prod.*$')", "error", "no delimiter"),
    ("assertion.sub != 'system:serviceaccount:kube-system:default'", "error", "deny-list"),
    ("!(assertion.repository_owner == 'evil')", "error", "deny-list"),
    ("!assertion.repository.startsWith('evil/')", "error", "deny-list"),
    ("assertion.sub == 'a' || assertion.sub != 'b'", "error", "deny-list"),
    ("assertion.sub == 'x' && (assertion.aud == 'y' || true)", "error", "always true"),
])
def test_weaknesses(expr, severity, fragment):
    got = found(expr)
    assert len(got) == 1, got
    assert got[0][0] == severity and fragment in got[0][2], got


@pytest.mark.parametrize("expr", [
    "assertion.sub == 'system:serviceaccount:prod:app'",
    "assertion.sub in ['system:serviceaccount:prod:app', 'system:serviceaccount:prod:worker']",
    "assertion.ref.matches('^refs/heads/release-[0-9]+$')",
    "assertion.ref.startsWith('refs/heads/rel')",  # not an identity claim
    "assertion.sub.matches('^repo:acme/api\\\\.prod$')",  # an escaped dot
    "assertion.sub.matches(r'^repo:acme/api\\.prod$')",
    "assertion.sub == 'x' && assertion.ref != 'refs/heads/dev'",  # a deny part beside a pin
    "assertion.sub == 'x' || true",  # always true as a whole: GCP001's finding
])
def test_no_weakness(expr):
    assert found(expr) == []


GITHUB = "token.actions.githubusercontent.com"


@pytest.mark.parametrize("expr,mapping", [
    ("assertion.repository_owner_id == '1342004'", None),
    ("assertion.sub == 'repo:acme/api:ref:refs/heads/main'", None),
    ("assertion.sub.startsWith('repo:acme/')", None),
    ("attribute.repo == 'acme/api'", {"attribute.repo": "assertion.repository"}),
    ("assertion.repository_owner == 'acme' || assertion.repository_id == '1'", None),
    ("assertion.repository_owner_id == '1' && (assertion.ref == 'refs/heads/main' || assertion.ref == 'x')", None),
])
def test_owner_pinned_for_github(expr, mapping):
    tree = cel.parse(expr)
    m = mapping_claims(mapping)
    assert pins_everywhere(tree, lambda a: pins_owner(a, GITHUB, m))
    assert [w for w in weaknesses(expr, tree, m, GITHUB) if "pins no owner" in w.message] == []


@pytest.mark.parametrize("expr,flagged", [
    ("assertion.ref == 'refs/heads/main'", "assertion.ref == 'refs/heads/main'"),
    ("assertion.repository_owner == 'acme' || assertion.event_name == 'push'", "assertion.event_name == 'push'"),
    ("assertion.sub.startsWith('repo:')", "assertion.sub.startsWith('repo:')"),
    ("assertion.sub.endsWith(':ref:refs/heads/main')", "assertion.sub.endsWith(':ref:refs/heads/main')"),
])
def test_ownerless_alternatives_for_github(expr, flagged):
    got = [(w.severity, expr[w.start:w.end]) for w in weaknesses(expr, cel.parse(expr), {}, GITHUB)
           if "pins no owner" in w.message]
    assert got == [("error", flagged)]


def test_regex_helpers():
    assert is_anchored("^a$") and is_anchored("^(a|b)$") and is_anchored("\\Aa\\z")
    assert not is_anchored("^a|b$") and not is_anchored("^a\\$") and not is_anchored("a$")
    assert bare_dots("^a.b$") == [2] and bare_dots("^a\\.b$") == [] and bare_dots("^a.*[.]$") == []
    assert literal_prefix("^repo:acme/.*$") == ("repo:acme/", ".*$")
    assert literal_prefix("^acme\\.io/x.+$") == ("acme.io/x", ".+$")


def test_one_finding_for_an_owner_less_prefix():
    expr = "assertion.sub.startsWith('repo:')"
    got = weaknesses(expr, cel.parse(expr), {}, GITHUB)
    assert [(w.severity, "pins no owner" in w.message) for w in got] == [("error", True)]
    expr = "assertion.sub == 'project_path:my.group/app:ref_type:branch:ref:main'"
    assert weaknesses(expr, cel.parse(expr), {}, "gitlab.com") == []
