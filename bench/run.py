"""The benchmark runner: xfedlint against the libyaml parse floor, `python -c pass` and (optionally) checkov.

    python bench/run.py --sizes 1000,10000 --runs 5 --out bench/results.json

For each size, a corpus from bench/generate.py (made once under --corpus-root, byte-identical for a given
size and seed), then, side by side in one run, each measured by bench/measure.py (wall, CPU, peak memory of
the whole process tree), medians over --runs:

- `floor`: bench/parse_floor.py, `yaml.load_all(..., CSafeLoader)` over the very files xfedlint reads;
- `xfedlint -j1`: `xfedlint scan DIR --format json -o /dev/null --jobs 1`, one process;
- `xfedlint`: the same with the default worker count (--jobs not given);
- `checkov`: `checkov -d DIR --framework kubernetes --quiet --compact -o json --skip-download`, when
  --checkov names its executable (install it in its own virtualenv), for the sizes in --checkov-sizes,
  stopped after --checkov-timeout seconds (then reported as not completed).

Start-up: `python -c pass` and the pre-commit case, `xfedlint scan` of one small file (a trust policy, a
Kubernetes manifest), median of --startup-runs. Prints a Markdown table; --out keeps every measurement (JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)



def measure(cmd: list[str], timeout: float | None = None) -> dict:
    """bench/measure.py in a process of its own: the kernel's peak RSS of children (ru_maxrss) is a maximum
    over every child a process ever reaped, so only a fresh measuring process gives this command's own."""
    extra = ["--timeout", str(timeout)] if timeout else []
    out = subprocess.run([sys.executable, os.path.join(HERE, "measure.py"), *extra, "--", *cmd],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)

ONE_FILE_CASES = {
    "one trust policy": os.path.join(ROOT, "examples", "seed-guide", "1-eks", "trust-policy.json"),
    "one Kubernetes manifest": os.path.join(ROOT, "examples", "seed-guide", "1-eks", "scenario1-1-eks-to-aws.yaml"),
}


def xfedlint_command() -> list[str]:
    """The console script next to this interpreter (what pre-commit runs), else `python -m xfedlint`."""
    script = os.path.join(os.path.dirname(sys.executable), "xfedlint")
    return [script] if os.path.exists(script) else [sys.executable, "-m", "xfedlint"]


def ensure_corpus(root: str, size: int, seed: int, terraform_share: float = 0.0) -> str:
    tf = f"-tf{terraform_share:g}" if terraform_share else ""
    path = os.path.join(root, f"corpus-{size}-seed{seed}{tf}")
    marker = os.path.join(path, ".complete")
    if not os.path.exists(marker):
        if os.path.exists(path):
            shutil.rmtree(path)
        subprocess.run([sys.executable, os.path.join(HERE, "generate.py"), "--files", str(size), "--seed",
                        str(seed), "--out", path, "--terraform-share", str(terraform_share)], check=True,
                       stdout=subprocess.DEVNULL)
        open(marker, "w").close()
    return path


def file_list(corpus: str) -> tuple[str, int, int]:
    """A file listing what xfedlint itself reads in `corpus` (its own discovery), its count and bytes."""
    from xfedlint.loaders.files import discover

    files, _missing = discover((corpus,))
    fd, path = tempfile.mkstemp(prefix="xfedlint-bench-", suffix=".txt")
    with os.fdopen(fd, "w") as fh:
        fh.write("\n".join(f.path for f in files) + "\n")
    return path, len(files), sum(os.path.getsize(f.path) for f in files)


def median_of(runs: list[dict]) -> dict:
    keys = ("wall", "cpu", "peak_rss", "peak_pss", "max_process_rss")
    out = {k: statistics.median(r[k] for r in runs) if all(r[k] is not None for r in runs) else None for k in keys}
    out["runs"] = len(runs)
    out["walls"] = [round(r["wall"], 3) for r in runs]
    out["rc"] = sorted({r["rc"] for r in runs})
    out["timed_out"] = any(r["timed_out"] for r in runs)
    return out


def run_case(name: str, cmd: list[str], runs: int, timeout: float | None = None, warm_up: bool = True) -> dict:
    if warm_up:  # bytecode caches written, files in the page cache: every measured run starts alike
        measure(cmd, timeout)
    results = []
    for _ in range(runs):
        r = measure(cmd, timeout)
        results.append(r)
        if r["timed_out"]:
            break
    m = median_of(results)
    m["case"], m["command"] = name, " ".join(cmd)
    print(f"  {name}: {m['wall']:.3f} s (runs {m['walls']})" + (" TIMED OUT" if m["timed_out"] else ""),
          file=sys.stderr)
    return m


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="1000,10000", help="corpus sizes (files), comma-separated")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--startup-runs", type=int, default=15)
    p.add_argument("--corpus-root", default=os.path.join(tempfile.gettempdir(), "xfedlint-bench"))
    p.add_argument("--terraform-share", type=float, default=0.0,
                   help="share of the AWS roles written as Terraform (generate.py); the floor skips those files")
    p.add_argument("--checkov", help="checkov executable (its own virtualenv)")
    p.add_argument("--checkov-sizes", default="100,1000", help="sizes to run checkov on")
    p.add_argument("--checkov-timeout", type=float, default=1800.0)
    p.add_argument("--checkov-runs", type=int, default=1)
    p.add_argument("--out", help="write every measurement here (JSON)")
    args = p.parse_args(argv)
    xf = xfedlint_command()
    report: dict = {"machine": {"python": platform.python_version(), "platform": platform.platform(),
                                "cpus": os.cpu_count()}, "startup": [], "corpora": []}

    print("start-up", file=sys.stderr)
    report["startup"].append(run_case("python -c pass", [sys.executable, "-c", "pass"], args.startup_runs))
    for name, path in ONE_FILE_CASES.items():
        report["startup"].append(run_case(f"xfedlint scan ({name})", xf + ["scan", path], args.startup_runs))

    checkov_sizes = {int(s) for s in args.checkov_sizes.split(",") if s}
    for size in (int(s) for s in args.sizes.split(",") if s):
        corpus = ensure_corpus(args.corpus_root, size, args.seed, args.terraform_share)
        listing, n, nbytes = file_list(corpus)
        print(f"corpus {size}: {n} files, {nbytes / 1e6:.1f} MB ({corpus})", file=sys.stderr)
        cases = [run_case("floor", [sys.executable, os.path.join(HERE, "parse_floor.py"), listing], args.runs),
                 run_case("xfedlint -j1", xf + ["scan", corpus, "--format", "json", "-o", os.devnull, "--jobs", "1"],
                          args.runs),
                 run_case("xfedlint", xf + ["scan", corpus, "--format", "json", "-o", os.devnull], args.runs)]
        if args.checkov and size in checkov_sizes:
            cases.append(run_case("checkov", [args.checkov, "-d", corpus, "--framework", "kubernetes", "--quiet",
                                              "--compact", "-o", "json", "--skip-download"],
                                  args.checkov_runs, args.checkov_timeout, warm_up=False))
        os.unlink(listing)
        report["corpora"].append({"size": size, "files": n, "bytes": nbytes, "cases": cases})

    print(markdown(report))
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(report, fh, indent=2)
            fh.write("\n")
    return 0


def _mib(v) -> str:
    return "–" if not v else f"{v / 2**20:.0f} MiB"


def _rss(c: dict) -> str:
    """The sampled tree total, or the kernel's peak of the largest process when sampling missed a short run."""
    return _mib(max(c["peak_rss"] or 0, c["max_process_rss"] or 0))


def markdown(report: dict) -> str:
    lines = ["| case | files | wall (median) | CPU | peak RSS, tree | peak PSS, tree | files/s | × floor |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    base = next(c for c in report["startup"] if c["case"] == "python -c pass")
    for c in report["startup"]:
        lines.append(f"| {c['case']} | {0 if 'pass' in c['case'] else 1} | {c['wall'] * 1000:.0f} ms | "
                     f"{c['cpu'] * 1000:.0f} ms | {_rss(c)} | – | | "
                     f"{c['wall'] / base['wall']:.1f}× `python -c pass` |")
    for corpus in report["corpora"]:
        floor = next(c for c in corpus["cases"] if c["case"] == "floor")
        for c in corpus["cases"]:
            done = not c["timed_out"]
            wall = f"{c['wall']:.2f} s" if done else f"> {c['wall']:.0f} s (stopped)"
            rate = f"{corpus['files'] / c['wall']:,.0f}" if done else ""
            ratio = f"{c['wall'] / floor['wall']:.2f}" if done else ""
            lines.append(f"| {c['case']} | {corpus['files']:,} | {wall} | {c['cpu']:.2f} s | {_rss(c)} "
                         f"| {_mib(c['peak_pss'])} | {rate} | {ratio} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
