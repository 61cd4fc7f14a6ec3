"""Fixtures and the figure summary of the hardening battery."""

from __future__ import annotations

from typing import Any

import pytest

from tests.hardening import FIGURES, PROBLEMS


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not FIGURES and not PROBLEMS:
        return
    write = terminalreporter.write_line
    terminalreporter.section("hardening figures")
    if FIGURES.get("leak.cells"):
        write(f"leak matrix: {FIGURES['leak.cells']} cells checked, {FIGURES['leak.leaks']} leaks "
              f"({FIGURES['leak.requests']} requests, {FIGURES['leak.5xx']} 5xx)")
    if FIGURES.get("acl.steps"):
        write(f"acl model: {FIGURES['acl.examples']} examples, {FIGURES['acl.steps']} steps, "
              f"{FIGURES['acl.checks']} checks, {FIGURES['acl.mismatches']} mismatches")
    if FIGURES.get("hostile.payloads"):
        write(f"hostile input: {FIGURES['hostile.payloads']} payloads tried, {FIGURES['hostile.executed']} executed, "
              f"{FIGURES['hostile.5xx']} 5xx, {FIGURES['hostile.files']} hostile files")
    if FIGURES.get("crash.kills") or FIGURES.get("crash.mail_kills"):
        write(f"crash safety: {FIGURES['crash.kills']} server kills + {FIGURES['crash.mail_kills']} mail delivery kill, "
              f"{FIGURES['crash.inconsistencies']} inconsistencies ({FIGURES['crash.saves']} acknowledged saves, "
              f"{FIGURES['crash.uploads']} acknowledged uploads, {FIGURES['crash.locked']} 'database is locked' in the log)")
    for problem in PROBLEMS:
        write(f"PROBLEM: {problem}")
