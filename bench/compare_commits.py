"""Run one benchmark on two commits in the same run, alternating, and print each side's lines.

    python bench/compare_commits.py --base b0c8c14 -- bench/import_bench.py --contacts 20000

"Not worse than before" is only worth saying for figures measured side by side: same machine,
same moment, same data. Both commits are checked out into temporary worktrees (detached, removed
afterwards); the benchmark script is the one of ``--head`` (copied into the base tree when the
base has no such file or an older one), so both sides do exactly the same work. Rounds alternate
base, head, base, head … so that a change of load on a shared machine hits both sides alike.
Each side runs with its own tree first on ``sys.path``; the installed packages are shared.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True, text=True).stdout.strip()


def _checkout(commit: str, into: Path) -> None:
    _git("worktree", "add", "--detach", "-q", str(into), commit)


def _run(tree: Path, script: str, args: list[str]) -> list[str]:
    env = dict(os.environ, PYTHONPATH=str(tree))
    proc = subprocess.run([sys.executable, str(tree / script), *args], cwd=tree, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{script} failed in {tree}:\n{proc.stdout}\n{proc.stderr}")
    return [line for line in proc.stdout.splitlines() if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the commit measured as 'before'")
    parser.add_argument("--head", default="HEAD", help="the commit measured as 'after' (default HEAD)")
    parser.add_argument("--rounds", type=int, default=2, help="runs per side, alternating")
    parser.add_argument("script", help="benchmark script, relative to the repository (e.g. bench/import_bench.py)")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the script (after --)")
    ns = parser.parse_args()
    args = [a for a in ns.args if a != "--"] if ns.args[:1] == ["--"] else ns.args

    base, head = _git("rev-parse", "--short", ns.base), _git("rev-parse", "--short", ns.head)
    tmp = Path(tempfile.mkdtemp(prefix="ka-compare-"))
    trees = {"before": tmp / f"before-{base}", "after": tmp / f"after-{head}"}
    try:
        _checkout(base, trees["before"])
        _checkout(head, trees["after"])
        shutil.copy2(trees["after"] / ns.script, trees["before"] / ns.script)
        results: dict[str, list[str]] = {"before": [], "after": []}
        for round_no in range(1, ns.rounds + 1):
            for side in ("before", "after"):
                for line in _run(trees[side], ns.script, args):
                    results[side].append(line)
                    print(f"[{side} {base if side == 'before' else head} round {round_no}] {line}", flush=True)
    finally:
        for tree in trees.values():
            if tree.exists():
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                               capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
