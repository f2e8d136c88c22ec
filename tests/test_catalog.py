"""The rule catalog's IDs and names are the public contract (SARIF ruleId, file names, suppressions).

tests/fixtures/catalog-index.json is the index table of the catalog (shared/spec/rules.md), kept with the
tests because a user's clone has no shared/ folder.
"""

from __future__ import annotations

import json
from pathlib import Path

from xfedlint import registry

INDEX = json.loads((Path(__file__).parent / "fixtures" / "catalog-index.json").read_text())


def test_rule_ids_and_names_equal_the_catalog():
    rules = registry.load_rules()
    catalog = {r["id"]: r for r in INDEX}
    for rule in rules.values():
        assert rule.id in catalog, f"{rule.id} is not in the catalog"
        assert not catalog[rule.id]["reserved"], f"{rule.id} is reserved and must stay unused"
        assert rule.name == catalog[rule.id]["name"], (rule.id, rule.name)


def test_every_non_reserved_rule_is_implemented():
    rules = set(registry.load_rules())
    wanted = {r["id"] for r in INDEX if not r["reserved"]}
    assert wanted - rules == set(), f"catalog rules without a rule file: {sorted(wanted - rules)}"


def test_reserved_ids_stay_unused():
    reserved = {r["id"] for r in INDEX if r["reserved"]}
    assert reserved == {"K8S013", "PERM003"}
    assert not reserved & set(registry.load_rules())
