"""The operations of the API and the OpenAPI 3.1 document generated from them.

Each view is declared once with :func:`operation`: path, method, parameters, body and answers.
The decorator registers the Flask route (and parses the declared query parameters for the view);
:func:`build_document` turns the same declarations — plus the enabled document types' declared
fields — into ``/api/v1/openapi.json``.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask, jsonify, request
from flask.typing import ResponseReturnValue

from kundenakte.core.doctypes import DocumentType
from kundenakte.web.api import bp
from kundenakte.web.api.schemas import (
    ATTACHMENT,
    COMPANY,
    COMPANY_SUMMARY,
    CONTACT,
    CONTACT_SUMMARY,
    DOCUMENT,
    FOLDER,
    MAX_ID,
    ApiError,
    Param,
    data_model,
    data_schema,
    document_create_model,
    document_update_model,
    page_schema,
    parse_args,
)
from kundenakte.web.context import current_ka, db

log = logging.getLogger(__name__)

API_VERSION = "1.0.0"
ERROR_STATUSES = (400, 401, 403, 404, 409, 413, 415, 422, 429)
ERROR_TEXT = {
    400: "Ungültige Anfrage (z. B. fehlerhaftes JSON oder eine unverständliche Suchanfrage).",
    401: "Kein, ein unbekanntes oder widerrufenes Token, oder der Benutzer ist deaktiviert.",
    403: "Das Objekt ist sichtbar, aber Sie dürfen es nicht ändern.",
    404: "Gibt es nicht oder Sie dürfen es nicht sehen (beides sieht gleich aus).",
    409: "Versionskonflikt, schreibgeschütztes Dokument oder noch verknüpfte Daten.",
    413: "Die Anfrage ist zu groß (JSON höchstens 1 MiB, Dateien bis zur eingestellten Grenze).",
    415: "Falscher Content-Type.",
    422: "Eingaben ungültig: unbekannte Felder, falsche Typen oder Werte; Details in fields.",
    429: "Zu viele ungültige Tokens von dieser Adresse; Retry-After nennt die Wartezeit in Sekunden.",
}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    endpoint: str
    summary: str
    tag: str
    params: tuple[Param, ...] = ()
    body: str | None = None  # a component schema name
    body_type: str = "application/json"
    ok: int = 200
    response: str | dict[str, Any] | None = None  # a component schema name or an inline schema
    response_type: str = "application/json"
    errors: tuple[int, ...] = ()
    public: bool = False
    description: str = ""

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)


OPERATIONS: list[Operation] = []


@dataclass(frozen=True)
class ApiOperation:
    """An API operation a plugin brings through ``register_api_operations``.

    ``path`` is relative to ``/api/v1``; ``{name}`` segments are positive integer ids passed to
    ``view`` by name, and declared query ``params`` arrive parsed as ``args``. ``body`` and
    ``response`` name a component schema (the core's or one of ``schemas``) or are inline JSON
    schemas. The operation answers only with a valid token and while its plugin is enabled (404
    otherwise, like an unknown path); the OpenAPI document lists it under the same condition.
    """

    method: str
    path: str
    view: Callable[..., Any]
    summary: str
    tag: str
    params: tuple[Param, ...] = ()
    body: str | dict[str, Any] | None = None
    ok: int = 200
    response: str | dict[str, Any] | None = None
    errors: tuple[int, ...] = ()
    description: str = ""
    schemas: Mapping[str, dict[str, Any]] = field(default_factory=dict)


def _declare(method: str, path: str, endpoint: str, view: Callable[..., Any], *, summary: str, tag: str,
             params: tuple[Param, ...], body: Any, body_type: str, ok: int, response: Any, response_type: str,
             errors: tuple[int, ...], public: bool, description: str) -> Operation:
    status = set(errors)
    if not public:
        status.update({401, 429})
    if "{" in path:
        status.add(404)
    if any(p.location == "query" for p in params):
        status.add(422)
    if body is not None:
        status.update({400, 413, 415, 422})
    return Operation(method, path, endpoint, summary, tag, params, body, body_type, ok, response,
                     response_type, tuple(sorted(status)), public, description or (view.__doc__ or "").strip())


def _add_route(blueprint: Blueprint, op: Operation, view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapper(**path_values: Any) -> Any:
        if any(v > MAX_ID for v in path_values.values()):
            raise ApiError(404, "not_found", "Das Objekt gibt es nicht oder Sie dürfen es nicht sehen.")
        if op.params:
            path_values["args"] = parse_args(op.params, request.args)
        return view(**path_values)

    rule = re.sub(r"{(\w+)}", r"<int:\1>", op.path)
    blueprint.add_url_rule(rule, endpoint=view.__name__, view_func=wrapper, methods=[op.method])
    return wrapper


def operation(method: str, path: str, *, summary: str, tag: str, params: tuple[Param, ...] = (),
              body: str | None = None, body_type: str = "application/json", ok: int = 200,
              response: str | dict[str, Any] | None = None, response_type: str = "application/json",
              errors: tuple[int, ...] = (), public: bool = False,
              description: str = "") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare and register one API operation; the view gets ``args`` (parsed query) and path ids."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        op = _declare(method, path, view.__name__, view, summary=summary, tag=tag, params=params, body=body,
                      body_type=body_type, ok=ok, response=response, response_type=response_type, errors=errors,
                      public=public, description=description)
        OPERATIONS.append(op)
        return _add_route(bp, op, view)

    return decorate


PLUGIN_OPERATIONS = "kundenakte_api_plugin_operations"


def install_plugin_operations(app: Flask) -> None:
    """Register every loaded plugin's ``register_api_operations`` on ``app``, once, at app creation.

    Each plugin gets a blueprint of its own under ``/api/v1`` with the API's token check and error
    answers; a disabled plugin's operations answer 404 after the token check.
    """
    from kundenakte.web.api.auth import init_blueprint

    ka = app.extensions["kundenakte"]
    installed: list[tuple[str, Operation, Mapping[str, dict[str, Any]]]] = []
    blueprints: dict[str, Blueprint] = {}
    for plugin, declared in ka.plugins.collect("register_api_operations"):
        if not isinstance(declared, ApiOperation):
            log.error("plugin %s: register_api_operations returned %s", plugin, type(declared).__name__)
            continue
        bp_plugin = blueprints.get(plugin)
        if bp_plugin is None:
            bp_plugin = blueprints[plugin] = Blueprint(f"api_{plugin}", __name__, url_prefix="/api/v1")
            init_blueprint(bp_plugin)
            bp_plugin.before_request(_hide_when_disabled(plugin))
        op = _declare(declared.method.upper(), declared.path, f"{plugin}.{declared.view.__name__}", declared.view,
                      summary=declared.summary, tag=declared.tag, params=declared.params, body=declared.body,
                      body_type="application/json", ok=declared.ok, response=declared.response,
                      response_type="application/json", errors=declared.errors, public=False,
                      description=declared.description)
        _add_route(bp_plugin, op, declared.view)
        installed.append((plugin, op, declared.schemas))
    from kundenakte.web.app import csrf

    for blueprint in blueprints.values():
        app.register_blueprint(blueprint)
        csrf.exempt(blueprint)
    app.extensions[PLUGIN_OPERATIONS] = installed


def _hide_when_disabled(plugin: str) -> Callable[[], None]:
    def check() -> None:
        if plugin in current_ka().disabled_plugins(db()):
            raise ApiError(404, "not_found", "Das Objekt gibt es nicht oder Sie dürfen es nicht sehen.")

    return check


def plugin_operations(disabled: frozenset[str]) -> list[tuple[Operation, Mapping[str, dict[str, Any]]]]:
    """The enabled plugins' operations of the current app, with their component schemas."""
    from flask import current_app

    return [(op, schemas) for plugin, op, schemas in current_app.extensions.get(PLUGIN_OPERATIONS, [])
            if plugin not in disabled]


# -- the document ----------------------------------------------------------------------------------


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


STRING = {"type": "string"}
INT = {"type": "integer"}
ID = {"type": "integer", "minimum": 1}


def document_schema(type_key: str | None, data: dict[str, Any], known: list[str]) -> dict[str, Any]:
    """A document as the API answers it (``DOCUMENT``); ``type_key`` None is the fallback for types not enabled."""
    schema = DOCUMENT.schema(read=True)
    schema["properties"]["type"] = {"const": type_key} if type_key else (
        {"type": "string", "not": {"enum": known}} if known else {"type": "string"})
    schema["properties"]["data"] = data
    return schema


def _static_schemas() -> dict[str, Any]:
    return {
        "Error": {
            "type": "object",
            "required": ["error", "message"],
            "properties": {
                "error": {"type": "string", "description": "Maschinenlesbarer Fehlercode, z. B. not_found."},
                "message": {"type": "string", "description": "Meldung für Menschen (deutsch)."},
                "status": {"type": "integer"},
                "fields": {"type": "object", "additionalProperties": {"type": "string"},
                           "description": "Fehler je Feld, z. B. {\"data.subject\": \"Dieses Feld ist ein Pflichtfeld.\"}."},
                "current_version": {"type": "integer", "description": "Bei 409: die aktuelle Version."},
            },
        },
        "PageLinks": {
            "type": "object",
            "required": ["self", "first", "last", "next", "prev"],
            "properties": {k: _nullable(STRING) if k in ("next", "prev") else STRING
                           for k in ("self", "first", "last", "next", "prev")},
        },
        "Company": COMPANY.schema(read=True),
        "CompanyCreate": COMPANY.schema(),
        "CompanyUpdate": COMPANY.schema(partial=True),
        "CompanySummary": COMPANY_SUMMARY.schema(read=True),
        "CompanyPage": page_schema("#/components/schemas/CompanySummary"),
        "Contact": CONTACT.schema(read=True),
        "ContactCreate": CONTACT.schema(),
        "ContactUpdate": CONTACT.schema(partial=True),
        "ContactSummary": CONTACT_SUMMARY.schema(read=True),
        "ContactPage": page_schema("#/components/schemas/ContactSummary"),
        "DocumentPage": page_schema("#/components/schemas/Document"),
        "Attachment": ATTACHMENT.schema(read=True),
        "AttachmentList": {"type": "object", "required": ["items"],
                           "properties": {"items": {"type": "array", "items": _ref("Attachment")}}},
        "AttachmentUpload": {
            "type": "object",
            "required": ["file"],
            "additionalProperties": False,
            "properties": {"file": {"type": "string", "format": "binary", "contentMediaType": "application/octet-stream"}},
        },
        "Folder": FOLDER.schema(read=True),
        "FolderList": {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": _ref("Folder")}}},
        "SearchHit": {"type": "object", "required": ["highlights", "document"],
                      "properties": {"highlights": STRING, "document": _ref("Document")}},
        "SearchResult": {
            "type": "object",
            "required": ["items", "total", "page", "per_page", "facets"],
            "properties": {
                "items": {"type": "array", "items": _ref("SearchHit")},
                "total": {"type": "integer", "minimum": 0},
                "page": {"type": "integer"},
                "per_page": {"type": "integer"},
                "facets": {"type": "object", "additionalProperties": {"type": "object", "additionalProperties": INT}},
            },
        },
        "DocumentType": {
            "type": "object",
            "required": ["key", "label", "label_en", "category", "plugin", "fields", "statuses", "data_schema"],
            "properties": {
                "key": STRING, "label": STRING, "label_en": STRING, "category": STRING, "plugin": STRING,
                "retention_days": _nullable(INT),
                "default_folders": {"type": "array", "items": STRING},
                "fields": {"type": "array", "items": {"type": "object", "required": ["name", "kind", "label", "required"]}},
                "statuses": {"type": "array", "items": {"type": "object", "required": ["value", "label", "closed"]}},
                "data_schema": {"type": "object"},
            },
        },
        "TypeList": {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": _ref("DocumentType")}}},
        "Me": {
            "type": "object",
            "required": ["id", "login", "display_name", "email", "is_admin", "language", "groups", "principals"],
            "properties": {
                "id": ID, "login": STRING, "display_name": STRING, "email": STRING, "is_admin": {"type": "boolean"},
                "language": STRING, "principals": {"type": "array", "items": STRING},
                "groups": {"type": "array", "items": {"type": "object", "required": ["id", "name"],
                                                      "properties": {"id": ID, "name": STRING}}},
            },
        },
    }


def type_schemas(types: list[DocumentType]) -> dict[str, Any]:
    """Per-type schemas: data in and out, create bodies (oneOf with discriminator), documents."""
    schemas: dict[str, Any] = {}
    keys = [t.key for t in types]
    read_refs = []
    create_mapping: dict[str, str] = {}
    update_data: list[dict[str, Any]] = []
    for t in types:
        data_in = data_model(t)
        data_out = data_model(t, output=True)
        schemas[data_in.name] = data_schema(data_in, output=False)
        schemas[data_in.name + "_Partial"] = data_schema(data_in, output=False, partial=True)
        schemas[data_out.name] = data_schema(data_out, output=True)
        create = document_create_model(t)
        cs = create.schema()
        cs["properties"]["data"] = _ref(data_in.name)
        schemas[create.name] = cs
        create_mapping[t.key] = f"#/components/schemas/{create.name}"
        schemas[f"Document_{t.key}"] = document_schema(t.key, _ref(data_out.name), keys)
        read_refs.append(_ref(f"Document_{t.key}"))
        update_data.append(_ref(data_in.name + "_Partial"))
    schemas["Document_other"] = document_schema(None, {"type": "object"}, keys)
    read_refs.append(_ref("Document_other"))
    schemas["Document"] = {"oneOf": read_refs, "description": "Ein Dokument; data folgt dem Dokumenttyp (siehe /types)."}
    if create_mapping:
        schemas["DocumentCreate"] = {
            "oneOf": [{"$ref": ref} for ref in create_mapping.values()],
            "discriminator": {"propertyName": "type", "mapping": create_mapping},
        }
    else:
        schemas["DocumentCreate"] = {"type": "object", "properties": {"type": {"type": "string"}}, "required": ["type"]}
    update = document_update_model(None).schema(partial=False)
    update["properties"]["data"] = {"anyOf": update_data} if update_data else {"type": "object"}
    update["required"] = ["version"]
    schemas["DocumentUpdate"] = update
    return schemas


def _content(schema: str | dict[str, Any], media: str = "application/json") -> dict[str, Any]:
    return {media: {"schema": _ref(schema) if isinstance(schema, str) else schema}}


def _operation_object(op: Operation) -> dict[str, Any]:
    out: dict[str, Any] = {"operationId": op.endpoint, "summary": op.summary, "tags": [op.tag]}
    if op.description:
        out["description"] = op.description
    params = [{"name": name, "in": "path", "required": True,
               "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}} for name in op.path_params]
    params += [p.openapi() for p in op.params if p.location == "query"]
    if params:
        out["parameters"] = params
    if op.body is not None:
        out["requestBody"] = {"required": True, "content": _content(op.body, op.body_type)}
    responses: dict[str, Any] = {}
    if op.response is None:
        responses[str(op.ok)] = {"description": "Erledigt."}
    elif op.response_type == "application/octet-stream":
        # The stored (sniffed) MIME type of the file, whatever it is.
        responses[str(op.ok)] = {"description": "Der Inhalt der Datei, mit ihrem Dateityp und als Download.",
                                 "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}}
    else:
        responses[str(op.ok)] = {"description": "Erfolg.", "content": _content(op.response)}
    for status in op.errors:
        responses[str(status)] = {"$ref": f"#/components/responses/E{status}"}
    out["responses"] = responses
    if op.public:
        out["security"] = []
    return out


def build_document(types: list[DocumentType],
                   extra: Iterable[tuple[Operation, Mapping[str, dict[str, Any]]]] = ()) -> dict[str, Any]:
    """The OpenAPI document: the core's operations, ``extra`` (enabled plugins') ones, the types' schemas."""
    paths: dict[str, Any] = {}
    schemas = _static_schemas() | type_schemas(types)
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation_object(op)
    for op, own in extra:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation_object(op)
        for name, schema in own.items():
            schemas.setdefault(name, schema)  # a plugin cannot replace the core's schemas
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Kundenakte API",
            "version": API_VERSION,
            "description": (
                "Die JSON-Schnittstelle der Kundenakte. Anmeldung mit einem persönlichen API-Token "
                "(Einstellungen → API-Tokens) im Header `Authorization: Bearer <token>`; es gelten die Rechte "
                "des Benutzers. Dokumente, die Sie nicht lesen dürfen, erscheinen nirgends und antworten wie "
                "nicht vorhandene mit 404."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "ka_…"}},
            "schemas": schemas,
            "responses": {
                f"E{status}": {"description": ERROR_TEXT[status], "content": _content("Error")} for status in ERROR_STATUSES
            },
        },
    }


@operation("GET", "/openapi.json", summary="Dieses OpenAPI-Dokument", tag="Meta", public=True,
           response={"type": "object", "required": ["openapi", "paths"]})
def openapi_document() -> ResponseReturnValue:
    """Erzeugt aus denselben Deklarationen, mit denen die Schnittstelle prüft; ohne Token abrufbar."""
    ka = current_ka()
    types = ka.enabled_types(db())
    extra = plugin_operations(ka.disabled_plugins(db()))
    return jsonify(build_document(sorted(types, key=lambda t: t.key), extra))
