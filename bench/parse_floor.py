"""The parse floor: read and parse every file of a list with PyYAML's libyaml loader, nothing else.

`python bench/parse_floor.py FILE_LIST` (one path per line, as bench/run.py writes it from xfedlint's own
file discovery). `yaml.load_all(..., CSafeLoader)` on each YAML or JSON file's bytes: what any YAML-reading linter pays
before it looks at a single value. Errors are counted, not raised (the generated corpus has none). Files
libyaml cannot read (Terraform, with `bench/generate.py --terraform-share`) are skipped, so the floor is
that of the YAML and JSON part only.
"""

from __future__ import annotations

import sys

import yaml


def main(argv: list[str]) -> int:
    with open(argv[0], encoding="utf-8") as fh:
        files = fh.read().splitlines()
    errors = skipped = 0
    for path in files:
        if not path.endswith((".yaml", ".yml", ".json")):  # Terraform, runbooks: libyaml cannot read them
            skipped += 1
            continue
        with open(path, "rb") as fh:
            data = fh.read()
        try:
            for _doc in yaml.load_all(data, Loader=yaml.CSafeLoader):
                pass
        except yaml.YAMLError:
            errors += 1
    print(f"{len(files) - skipped} files parsed, {errors} errors, {skipped} not YAML or JSON (skipped)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
