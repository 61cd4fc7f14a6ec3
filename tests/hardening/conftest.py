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
    if FIGURES.get("budget.refused"):
        worker = (f"worker +{FIGURES['budget.worker_mb']} MB peak RSS"
                  + ("" if FIGURES.get("budget.worker_exact") else " (RSS, peak not resettable)")
                  if "budget.worker_mb" in FIGURES else "no gunicorn worker run")
        write(f"template budget: {FIGURES['budget.refused']} renders of a {FIGURES['budget.kb']} KB '~' bomb refused, "
              f"{worker}, in-process peak {FIGURES['budget.peak_mb']} MB (limit 100 MB)")
    if FIGURES.get("ids.checked"):
        write(f"ids: {FIGURES['ids.checked']} new documents after a deletion + {FIGURES['ids.reused_checked']} on a "
              f"reused id showed no foreign history, {FIGURES['ids.migrations']} migrations of filled databases kept "
              "every row, index, foreign key and trigger")
    if FIGURES.get("names.refused"):
        writers = sorted(k.split(":", 1)[1] for k in FIGURES if k.startswith("names.writer:"))
        write(f"display names: {FIGURES['names.refused']} look-alike spellings refused at {len(writers)} writers "
              f"({', '.join(writers)})")
    if FIGURES.get("grants.drafts"):
        write(f"template grants: {FIGURES['grants.drafts']} drafts from a shared template, {FIGURES['grants.silent']} "
              f"silent grants, {FIGURES['grants.dropped']} unpickable principals dropped from proposals")
    if FIGURES.get("followups.tried"):
        write(f"follow-ups: {FIGURES['followups.tried']} invalid follow-up requests, {FIGURES['followups.5xx']} 5xx")
    if FIGURES.get("sanitizer.payloads"):
        write(f"sanitizer: {FIGURES['sanitizer.payloads']} off-origin/data: URL payloads, {FIGURES['sanitizer.passed']} "
              f"let through, {FIGURES['sanitizer.in_mails']} in {FIGURES['sanitizer.mails']} sent mails")
    if FIGURES.get("sessions.replays"):
        write(f"sessions: {FIGURES['sessions.replays']} replayed session/remember-me cookies after logout, password "
              f"change/reset, deactivation and 'alle Sitzungen beenden', {FIGURES['sessions.accepted']} accepted "
              f"({FIGURES['sessions.browser']} in the browser, {FIGURES['sessions.cookie_attributes']} cookies "
              f"HttpOnly+SameSite=Lax)")
    if FIGURES.get("throttle.logins") or FIGURES.get("throttle.api_bad"):
        write(f"throttle: {FIGURES['throttle.logins']} failed logins from {FIGURES['throttle.addresses']} addresses, "
              f"worker RSS +{FIGURES['throttle.rss_mb']} MB (limit 30), {FIGURES['throttle.rows']} rows; real user "
              f"{FIGURES['throttle.real_refused']} of {FIGURES['throttle.real_logins']} logins refused; admin elsewhere "
              f"after 12 wrong passwords: {FIGURES['throttle.admin_elsewhere']} ok; valid API token after "
              f"{FIGURES['throttle.api_bad']} bad ones from its address: {FIGURES['throttle.api_valid_ok']} ok; "
              f"{FIGURES['throttle.shared_rounds']} rounds counted across both workers")
    if FIGURES.get("slow.saves"):
        write(f"slow client: {FIGURES['slow.clients']} requests dribbling 1 byte/s, {FIGURES['slow.saves']} saves by "
              f"others, slowest {FIGURES['slow.max_ms']} ms (limit 3000), {FIGURES['slow.failures']} failures")
    for problem in PROBLEMS:
        write(f"PROBLEM: {problem}")
