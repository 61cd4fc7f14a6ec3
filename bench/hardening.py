"""The hardening battery in one command: leak matrix, ACL model, hostile input, crash safety, sessions, throttle, load.

Also: template budget, id reuse, display names, template grants, follow-ups, sanitizer URLs.

    python bench/hardening.py                 # CI sizes (the same as `pytest tests/hardening`) + 60 s load
    python bench/hardening.py --full          # full sizes: every type, PostgreSQL leak matrix, 200×50 ACL
                                              # examples, 50 kills, 100 KiB login names, 12 slow
                                              # clients (KUNDENAKTE_HARDENING_FULL=1)
    python bench/hardening.py --kills 20 --acl-examples 50 --seconds 30
    python bench/hardening.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test   # load on PostgreSQL

The parts up to slow clients run as ``pytest tests/hardening -q`` (their figures are printed by
tests/hardening/conftest.py); the last part is ``bench/load.py``. Prints one line per part and exits non-zero when a part failed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PREFIXES = ("leak matrix:", "acl model:", "hostile input:", "crash safety:", "template budget:", "ids:",
            "display names:", "template grants:", "follow-ups:", "sanitizer:", "sessions:", "throttle:",
            "slow client:", "PROBLEM:")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="full sizes (slow)")
    parser.add_argument("--kills", type=int, help="kill -9 rounds of the crash test (CI 5, full 50)")
    parser.add_argument("--acl-examples", type=int, help="hypothesis examples of the ACL model (CI 15, full 200)")
    parser.add_argument("--acl-steps", type=int, help="steps per example (CI 20, full 50)")
    parser.add_argument("--pg", action="store_true", help="also run the leak matrix on PostgreSQL")
    parser.add_argument("--seconds", type=float, default=60, help="load test duration")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--database-url", default="", help="run the load test on this PostgreSQL database")
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--skip-tests", action="store_true")
    args = parser.parse_args(argv)

    env = dict(os.environ)
    if args.full:
        env["KUNDENAKTE_HARDENING_FULL"] = "1"
    if args.pg:
        env["KUNDENAKTE_HARDENING_PG"] = "1"
    for name, value in (("KUNDENAKTE_CRASH_KILLS", args.kills), ("KUNDENAKTE_ACL_EXAMPLES", args.acl_examples),
                        ("KUNDENAKTE_ACL_STEPS", args.acl_steps)):
        if value is not None:
            env[name] = str(value)
    failed = []
    lines: list[str] = []
    if not args.skip_tests:
        started = time.time()
        cmd = [sys.executable, "-m", "pytest", "tests/hardening", "-q", "-p", "no:cacheprovider"]
        if args.full:
            cmd += ["-o", "timeout=3600"]
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        out = proc.stdout + proc.stderr
        lines += [line for line in out.splitlines() if line.startswith(PREFIXES)]
        summary = [line for line in out.splitlines() if " passed" in line or " failed" in line or " error" in line]
        lines.append(f"pytest tests/hardening: {summary[-1].strip('= ') if summary else 'no summary'} "
                     f"({time.time() - started:.0f} s)")
        if proc.returncode != 0:
            failed.append("tests")
            print(out[-6000:], file=sys.stderr)
    if not args.skip_load:
        cmd = [sys.executable, str(ROOT / "bench" / "load.py"), "--seconds", str(args.seconds), "--clients", str(args.clients)]
        if args.database_url:
            cmd += ["--database-url", args.database_url]
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        lines += [line for line in proc.stdout.splitlines() if line.startswith("load")]
        if proc.returncode != 0:
            failed.append("load")
            print(proc.stdout[-3000:] + proc.stderr[-3000:], file=sys.stderr)
    for line in lines:
        print(line)
    print("hardening: " + ("ok" if not failed else "FAILED: " + ", ".join(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
