"""Pages, template folders and menu entries of a plugin follow the on/off switch without a restart.

The plugin is disabled before the app is created (as after a restart with it switched off), then
enabled and disabled again while the app runs.
"""

from __future__ import annotations

from typing import Any

import pytest

from kundenakte.core.users import set_plugin_enabled
from kundenakte.web.app import create_app
from tests import pluginpages, testplugin
from tests.conftest import make_ka
from tests.web.conftest import login


def _switch(ka: Any, name: str, enabled: bool) -> None:
    with ka.db.write() as s:
        set_plugin_enabled(s, name, enabled, user_id=None)


@pytest.fixture
def switched_ka(tmp_path: Any, database: str) -> Any:
    instance = make_ka(tmp_path, database, extra_plugins=[("testtypes", testplugin), (pluginpages.NAME, pluginpages)])
    yield instance
    instance.close()


def test_plugin_disabled_at_start_comes_back_when_enabled(switched_ka: Any, people: Any) -> None:
    ka = switched_ka
    _switch(ka, pluginpages.NAME, False)
    app = create_app(ka=ka)  # "restart" with the plugin off
    client = app.test_client()
    login(client, "owner")

    assert client.get("/testseiten/7").status_code == 404
    home = client.get("/").get_data(as_text=True)
    assert 'id="plugin-home"' not in home and "Testseiten" not in home  # core start page, no nav entry

    _switch(ka, pluginpages.NAME, True)
    page = client.get("/testseiten/7")
    assert page.status_code == 200 and 'id="plugin-page">Testseite 7' in page.get_data(as_text=True)
    home = client.get("/").get_data(as_text=True)
    assert 'id="plugin-home"' in home  # its template folder overrides the start page again
    assert 'href="/testseiten/7"' in home  # nav entry built with url_for from endpoint and values

    _switch(ka, pluginpages.NAME, False)
    assert client.get("/testseiten/7").status_code == 404
    home = client.get("/").get_data(as_text=True)
    assert 'id="plugin-home"' not in home and 'href="/testseiten/7"' not in home


def test_menu_urls_follow_a_url_prefix(switched_ka: Any, people: Any) -> None:
    app = create_app(ka=switched_ka)
    client = app.test_client()
    login(client, "owner")
    home = client.get("/", environ_overrides={"SCRIPT_NAME": "/akte"}).get_data(as_text=True)
    assert 'href="/akte/testseiten/7"' in home
