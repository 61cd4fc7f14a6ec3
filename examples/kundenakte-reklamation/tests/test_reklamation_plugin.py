"""The plugin's own tests, written only against Kundenakte's public fixtures and services.

Run them from this folder: ``python -m pytest`` (each test runs on SQLite and on PostgreSQL).
"""

from __future__ import annotations

from typing import Any

from kundenakte.core.categories import categories
from kundenakte.core.documents import DocumentInput, create_document
from kundenakte.core.tokens import create_token
from kundenakte.core.users import set_plugin_enabled

PLUGIN = "reklamation"


def test_loaded_with_its_category_and_settings(ka: Any) -> None:
    assert ka.plugins.reports[PLUGIN].loaded and ka.types.get("complaint") is not None
    assert categories(ka)["complaints"].label == "Reklamationen"
    assert ka.plugin_settings(PLUGIN).response_days == 14


def test_summary_operation_counts_what_the_token_user_may_read(ka: Any, people: Any, app: Any) -> None:
    with ka.db.write() as s:
        create_document(ka, s, people.viewer("owner"), "complaint",
                        DocumentInput(title="Pumpe", data={"article": "Pumpe P1"}, status="open"))
        create_document(ka, s, people.viewer("editor"), "complaint",
                        DocumentInput(title="Ventil", data={"article": "Ventil V2"}, status="done", readers=["*"]))
        _row, owner_token = create_token(s, people.users["owner"], "test")
        _row, outsider_token = create_token(s, people.users["outsider"], "test")
    client = app.test_client()

    def summary(token: str) -> Any:
        response = client.get("/api/v1/complaints/summary", headers={"Authorization": f"Bearer {token}"})
        return response.status_code, response.get_json()

    assert summary(owner_token) == (200, {"total": 2, "open": 1, "by_status": {"open": 1, "done": 1}})
    assert summary(outsider_token) == (200, {"total": 1, "open": 0, "by_status": {"done": 1}})
    with ka.db.write() as s:
        set_plugin_enabled(s, PLUGIN, False, user_id=None)
    assert summary(owner_token)[0] == 404
