"""The communication plugin's JSON API operations: visible templates (with their language variants), a
document from a template.

Contributed through ``register_api_operations``; the core's API knows nothing of templates.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, url_for

from kundenakte.web.api.extend import (
    ApiOperation,
    Model,
    Prop,
    created,
    current_ka,
    db,
    document_json,
    read_json,
    ts,
    viewer,
)

TEMPLATE_CREATE = Model(
    "TemplateCreateDocument",
    (Prop("contact_id", "id", nullable=True, description="Kontakt, für den das Dokument entsteht; seine Sprache wählt die Fassung."),
     Prop("company_id", "id", nullable=True,
          description="Unternehmen, für das das Dokument ohne Kontakt entsteht (ein Kontakt muss dazu gehören)."),),
)
VARIANT_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["subject", "body", "appendix"], "additionalProperties": False,
    "properties": {"subject": {"type": "string"}, "body": {"type": "string", "description": "HTML mit Platzhaltern"},
                   "appendix": {"type": "string", "description": "HTML mit Platzhaltern"}},
}

SCHEMAS: dict[str, dict[str, Any]] = {
    "Template": {
        "type": "object",
        "required": ["id", "name", "base_type", "kind", "subject", "language", "variants", "can_edit", "updated_at"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer", "minimum": 1}, "name": {"type": "string"}, "base_type": {"type": "string"},
            "kind": {"type": "string"}, "subject": {"type": "string", "description": "Betreff der Standardsprache"},
            "language": {"type": "string", "enum": ["de", "en"], "description": "Standardsprache der Vorlage"},
            "variants": {"type": "object", "description": "Fassungen je Sprache (de, en); Kontakte ohne passende "
                         "Fassung erhalten die Standardsprache mit einem Hinweis im Entwurf.",
                         "additionalProperties": {"$ref": "#/components/schemas/TemplateVariant"}},
            "can_edit": {"type": "boolean"},
            "updated_at": {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]},
        },
    },
    "TemplateList": {"type": "object", "required": ["items"],
                     "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Template"}}}},
    "TemplateVariant": VARIANT_SCHEMA,
    "TemplateCreateDocument": TEMPLATE_CREATE.schema(),
}


def list_templates() -> Any:
    """Die Vorlagen, die der Benutzer sehen darf."""
    from kundenakte.plugins.communication.templates_service import can_change, template_variants, visible_templates

    return jsonify({"items": [{
        "id": t.id, "name": t.name, "base_type": t.base_type, "kind": t.kind or "", "subject": t.subject or "",
        "language": t.language or "de",
        "variants": {lang: {"subject": v.subject, "body": v.body, "appendix": v.appendix}
                     for lang, v in template_variants(t).items()},
        "can_edit": can_change(viewer(), t), "updated_at": ts(t.updated_at),
    } for t in visible_templates(db(), viewer())]})


def create_from_template(template_id: int) -> Any:
    """Ein neuer Entwurf vom Typ der Vorlage für den Kontakt, mit ausgefüllten Platzhaltern und den Dateien der Vorlage.

    Die Sprache des Kontakts wählt die Fassung der Vorlage; fehlt sie, wird die Standardsprache verwendet und der
    Entwurf trägt einen Hinweis (``data._notices``).
    Die Leser und Bearbeiter, die die Vorlage für erstellte Dokumente vorsieht, werden nur vorgeschlagen
    (``data._proposed_access``, beschränkt auf wählbare Benutzer und Gruppen): Zugriff erhalten sie erst, wenn
    ``readers``/``editors`` per PATCH gesetzt werden. Bis dahin ist der Entwurf nur für Sie sichtbar.
    """
    from kundenakte.plugins.communication import templates_service

    templates_service.get_visible(db(), viewer(), template_id)  # 404 before looking at the body
    values = TEMPLATE_CREATE.validate(read_json())
    doc = templates_service.create_from_template(current_ka(), db(), viewer(), template_id, values.get("contact_id"),
                                                 values.get("company_id"))
    db().commit()
    return created(document_json(doc), url_for("api.get_document", document_id=doc.id))


OPERATIONS = [
    ApiOperation("GET", "/templates", list_templates, summary="Sichtbare Vorlagen", tag="Vorlagen",
                 response="TemplateList", schemas=SCHEMAS),
    ApiOperation("POST", "/templates/{template_id}/create-document", create_from_template,
                 summary="Dokument aus Vorlage erstellen", tag="Vorlagen", body="TemplateCreateDocument", ok=201,
                 response="Document", errors=(403,), schemas=SCHEMAS),
]
