"""The generated OpenAPI document: complete, per-type data schemas, and the app conforms to it (schemathesis)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api import api_app, make_token, world  # noqa: F401 - fixtures
from tests.example_plugin import plugin_installed

EXPECTED = {
    ("/companies", "get"), ("/companies", "post"), ("/companies/{company_id}", "get"),
    ("/companies/{company_id}", "patch"), ("/companies/{company_id}", "delete"),
    ("/contacts", "get"), ("/contacts", "post"), ("/contacts/{contact_id}", "get"),
    ("/contacts/{contact_id}", "patch"), ("/contacts/{contact_id}", "delete"),
    ("/documents", "get"), ("/documents", "post"), ("/documents/{document_id}", "get"),
    ("/documents/{document_id}", "patch"), ("/documents/{document_id}", "delete"),
    ("/documents/{document_id}/attachments", "get"), ("/documents/{document_id}/attachments", "post"),
    ("/attachments/{attachment_id}/content", "get"), ("/search", "get"), ("/folders", "get"), ("/types", "get"),
    ("/templates", "get"), ("/templates/{template_id}/create-document", "post"), ("/me", "get"),
    ("/openapi.json", "get"),
}


def _doc(api_app: Any) -> dict[str, Any]:
    response = api_app.test_client().get("/api/v1/openapi.json")  # public: no token needed
    assert response.status_code == 200
    return response.get_json()


def test_every_path_with_parameters_and_errors(ka, api_app):
    doc = _doc(api_app)
    assert doc["openapi"].startswith("3.1")
    found = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    # the installed example plugin brings an operation of its own (tests/example_plugin)
    assert found == EXPECTED | ({("/complaints/summary", "get")} if plugin_installed() else set())
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            codes = set(op["responses"])
            if path != "/openapi.json":
                assert "401" in codes, (path, method)
            if "{" in path:
                assert "404" in codes and all(p["in"] == "path" for p in op["parameters"] if p["name"] in path)
            if "requestBody" in op:
                assert {"400", "413", "415", "422"} <= codes, (path, method)
    params = {p["name"]: p for p in doc["paths"]["/contacts"]["get"]["parameters"]}
    assert set(params) == {"name", "postal_code", "company", "city", "account_manager_id", "page", "per_page"}
    assert params["per_page"]["schema"]["maximum"] == 200
    assert doc["paths"]["/documents/{document_id}"]["patch"]["responses"]["409"]["$ref"].endswith("E409")
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_document_types_become_data_schemas(ka, api_app):
    schemas = _doc(api_app)["components"]["schemas"]
    create = schemas["DocumentCreate"]
    assert create["discriminator"]["propertyName"] == "type"
    assert create["discriminator"]["mapping"]["testnote"] == "#/components/schemas/DocumentCreate_testnote"
    note = schemas["DocumentCreate_testnote"]
    assert note["properties"]["type"]["enum"] == ["testnote"] and note["additionalProperties"] is False
    assert note["properties"]["data"]["$ref"] == "#/components/schemas/Data_testnote"
    data = schemas["Data_testnote"]
    assert data["required"] == ["subject"] and data["additionalProperties"] is False
    assert data["properties"]["subject"]["maxLength"] == 50
    assert data["properties"]["direction"]["enum"] == ["in", "out", None]
    assert data["properties"]["minutes"]["maximum"] == 600
    assert data["properties"]["urgent"]["type"] == "boolean"
    assert data["properties"]["due"]["format"] == "date"
    assert "email" in create["discriminator"]["mapping"]  # the built-in plugins' types as well
    read = schemas["Document"]["oneOf"]
    assert {"$ref": "#/components/schemas/Document_testnote"} in read
    assert {"$ref": "#/components/schemas/Document_other"} in read


schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed")


def _fixtures_for_fuzzing(ka: Any, people: Any, world: Any) -> dict[str, int]:
    """Real ids for the path parameters, so generated requests reach more than the 404 branch."""
    import io

    from kundenakte.core.attachments import add_attachment
    from kundenakte.core.models import Document
    from kundenakte.plugins.communication.templates_service import save_template

    admin = people.viewer("admin")
    with ka.db.write() as s:
        att = add_attachment(ka, s, admin, s.get(Document, world.shared), io.BytesIO(b"%PDF-1.4 test"), "a.pdf")
        template = save_template(ka, s, admin, {"name": "Vorlage", "base_type": "letter", "readers": ["*"],
                                                "body": "<p>Hallo {{ kontakt.nachname }}</p>"})
        ids = {"attachment_id": att.id, "template_id": template.id}
    return ids | {"company_id": world.dochouse, "contact_id": world.lea, "document_id": world.shared}


@pytest.mark.sqlite_only
@pytest.mark.slow
def test_schemathesis_no_server_errors_and_conforming_answers(ka, people, world, api_app):
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis import checks

    # Admin: sees and may change everything, so most generated requests reach the real code paths.
    token = make_token(ka, people.users["admin"])
    headers = {"Authorization": f"Bearer {token}"}
    real_ids = _fixtures_for_fuzzing(ka, people, world)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", api_app)
    selected = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
                checks.response_schema_conformance]
    operations = [result.ok() for result in schema.get_all_operations()]
    operations.sort(key=lambda op: op.method.upper() == "DELETE")  # deletions last
    failures: list[str] = []
    seen: dict[tuple[str, int], int] = {}
    for operation in operations:
        calls = iter(range(10**6))

        @settings(max_examples=15, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            # Every other case uses existing objects' ids, the rest keeps the generated (mostly unknown) ones.
            if case.path_parameters and next(calls) % 2 == 0:
                case.path_parameters = {k: real_ids.get(k, v) for k, v in case.path_parameters.items()}
            response = case.call(headers=headers)
            key = (operation.label, response.status_code)
            seen[key] = seen.get(key, 0) + 1
            case.validate_response(response, checks=selected)

        try:
            run()
        except Exception as exc:  # collect every operation's failure, then report them together
            failures.append(f"{operation.label}: {exc}"[:3000])
    assert not failures, "\n\n".join(failures)
    # The fuzzing reached the success paths, not only the refusals.
    succeeded = {label for (label, status), _n in seen.items() if status < 300}
    assert {"GET /documents/{document_id}", "PATCH /companies/{company_id}", "POST /documents",
            "GET /attachments/{attachment_id}/content"} <= succeeded, sorted(seen.items())


def test_plugin_operations_follow_the_plugin_switch(ka, people, api_app):
    """The communication plugin brings /templates itself: listed and answering only while enabled."""
    from kundenakte.core.users import set_plugin_enabled

    client = api_app.test_client()
    headers = {"Authorization": f"Bearer {make_token(ka, people.users['owner'])}"}
    assert client.get("/api/v1/templates", headers=headers).status_code == 200
    assert client.get("/api/v1/templates").status_code == 401  # the token check comes first
    with ka.db.write() as s:
        set_plugin_enabled(s, "communication", False, user_id=None)
    response = client.get("/api/v1/templates", headers=headers)
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"
    assert client.post("/api/v1/templates/1/create-document", json={}, headers=headers).status_code == 404
    doc = _doc(api_app)
    assert "/templates" not in doc["paths"] and "Template" not in doc["components"]["schemas"]
    with ka.db.write() as s:
        set_plugin_enabled(s, "communication", True, user_id=None)
    assert client.get("/api/v1/templates", headers=headers).status_code == 200
    doc = _doc(api_app)
    assert doc["paths"]["/templates"]["get"]["operationId"] == "communication.list_templates"
    assert "TemplateList" in doc["components"]["schemas"]
