"""The left navigation (web/navigation.py): active entry, plugin links, language — all from one cached fragment."""

from __future__ import annotations

import re

from kundenakte.core.models import User
from kundenakte.core.users import set_plugin_enabled
from tests.web.conftest import login


def nav(page: str) -> str:
    match = re.search(r'<nav class="sidebar".*?</nav>', page, re.S)
    assert match, "no sidebar"
    return match.group(0)


def active(page: str) -> list[str]:
    return re.findall(r'<a href="([^"]+)" class="active" aria-current="page">', nav(page))


def test_active_entry_follows_the_page(client, people):  # type: ignore[no-untyped-def]
    login(client, "owner")
    assert active(client.get("/kontakte").get_data(as_text=True)) == ["/kontakte"]
    assert active(client.get("/unternehmen").get_data(as_text=True)) == ["/unternehmen"]
    assert active(client.get("/").get_data(as_text=True)) == ["/"]
    assert active(client.get("/einstellungen").get_data(as_text=True)) == ["/einstellungen"]
    # a plugin's link is active on its own pages, and listed on every page
    tasks = client.get("/aufgaben").get_data(as_text=True)
    assert active(tasks) == ["/aufgaben"]
    assert 'href="/aufgaben"' in nav(client.get("/kontakte").get_data(as_text=True))


def test_language_and_disabled_plugins_change_the_fragment(client, people, ka):  # type: ignore[no-untyped-def]
    login(client, "owner")
    german = nav(client.get("/kontakte").get_data(as_text=True))
    assert ">Kontakte<" in german and ">Aufgaben<" in german
    with ka.db.write() as s:
        s.get(User, people.users["owner"]).language = "en"
    english = nav(client.get("/kontakte").get_data(as_text=True))
    assert ">Contacts<" in english and ">Kontakte<" not in english
    with ka.db.write() as s:
        s.get(User, people.users["owner"]).language = "de"
        set_plugin_enabled(s, "tasks", False, user_id=None)
    without_tasks = nav(client.get("/kontakte").get_data(as_text=True))
    assert ">Kontakte<" in without_tasks and 'href="/aufgaben"' not in without_tasks
