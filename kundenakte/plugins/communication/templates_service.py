"""Vorlagen (templates): saving with validation, visibility, search and "create document from template"."""

from __future__ import annotations

import html as html_lib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kundenakte.core import acl, audit
from kundenakte.core.attachments import attach_blob
from kundenakte.core.doctypes import ValidationError
from kundenakte.core.documents import (
    DocumentInput,
    Forbidden,
    NotFound,
    add_notice,
    create_document,
    propose_access,
)
from kundenakte.core.html import html_to_text, sanitize_html
from kundenakte.core.models import Company, Contact, Document, Folder, User
from kundenakte.core.storage import StoredBlob
from kundenakte.core.text import fold
from kundenakte.core.validation import N_
from kundenakte.plugins.communication.composition import compose, to_editor_html
from kundenakte.plugins.communication.models import CommTemplate, CommTemplateFile
from kundenakte.plugins.communication.rendering import (
    BASE_PLACEHOLDER_KEYS,
    TemplateRenderError,
    build_context,
    render,
    trial_render,
    validate_template,
)
from kundenakte.plugins.communication.salutation import closing, letter_salutation
from kundenakte.plugins.communication.types import DEFAULT_SENDER_FORMAT, TEMPLATE_BASE_TYPES

if TYPE_CHECKING:
    from kundenakte.core.runtime import Kundenakte

# Labels are msgids: the form shows them in the reader's language.
SENDER_FORMATS = {"name_address": N_("Name und Anschrift"), "company": N_("Firma")}
SENDER_MODES = {"current_user": N_("Angemeldeter Benutzer"), "fixed": N_("Fester Absender")}
TEMPLATE_FIELDS = ("subject", "body", "appendix", "display_title")
VARIANT_FIELDS = ("subject", "body", "appendix")
HTML_FIELDS = frozenset({"body", "appendix"})
FIELD_LABELS = {"subject": "Betreff", "body": "Inhalt", "appendix": "Anhänge", "display_title": "Angezeigter Titel"}
# The languages a template can be written in: those the salutation and closing know (a contact's
# ``language`` is one of them). German labels, as the UI shows them; the adjective forms are for
# the fallback notice ("Keine englische Fassung …").
LANGUAGES = {"de": "Deutsch", "en": "Englisch"}
LANGUAGE_ADJECTIVES = {"de": "deutsche", "en": "englische"}
DEFAULT_LANGUAGE = "de"


# -- language variants --------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    """One language's texts of a template (not yet filled in)."""

    language: str
    subject: str
    body: str
    appendix: str

    @property
    def empty(self) -> bool:
        return not (self.subject.strip() or html_to_text(self.body).strip() or html_to_text(self.appendix).strip())


def template_variants(template: CommTemplate) -> dict[str, Variant]:
    """Every language the template has a text for, its default language first."""
    default = template.language or DEFAULT_LANGUAGE
    result = {default: Variant(default, template.subject or "", template.body or "", template.appendix or "")}
    for language, texts in sorted((template.variants or {}).items()):
        if language == default or language not in LANGUAGES or not isinstance(texts, dict):
            continue
        variant = Variant(language, str(texts.get("subject") or ""), str(texts.get("body") or ""),
                          str(texts.get("appendix") or ""))
        if not variant.empty:
            result[language] = variant
    return result


@dataclass(frozen=True)
class VariantChoice:
    variant: Variant
    wanted: str  # the recipient's language
    notice: str  # German, non-empty when the variant is not in the wanted language


def variant_for(template: CommTemplate, language: str | None) -> VariantChoice:
    """The variant for a recipient's language; the template's default language when it has none.

    A fallback carries a notice for the draft, so the writer sees that the text is not in the
    recipient's language before sending.
    """
    wanted = language if language in LANGUAGES else DEFAULT_LANGUAGE
    variants = template_variants(template)
    if wanted in variants:
        return VariantChoice(variants[wanted], wanted, "")
    fallback = variants[template.language or DEFAULT_LANGUAGE]
    notice = (f"Keine {LANGUAGE_ADJECTIVES[wanted]} Fassung der Vorlage „{template.name}“ vorhanden – "
              f"{LANGUAGE_ADJECTIVES.get(fallback.language, fallback.language)} Fassung verwendet.")
    return VariantChoice(fallback, wanted, notice)


# -- visibility: the one place that decides ------------------------------------------------------


def template_access(viewer: acl.Viewer, template: CommTemplate) -> str | None:
    """``"edit"``, ``"read"`` or None: what the viewer may do with the template itself.

    Mirrors the core document rules: inactive users nothing, admins everything, the creator may
    edit, principals in ``editors`` may edit, principals in ``readers`` may read (``"*"`` = all).
    """
    if viewer.sees_nothing:
        return None
    if viewer.sees_all or (template.created_by is not None and template.created_by == viewer.user_id):
        return "edit"
    if set(template.editors or ()) & viewer.principals:
        return "edit"
    if set(template.readers or ()) & viewer.principals:
        return "read"
    return None


def can_see(viewer: acl.Viewer, template: CommTemplate) -> bool:
    return template_access(viewer, template) is not None


def can_change(viewer: acl.Viewer, template: CommTemplate) -> bool:
    return template_access(viewer, template) == "edit"


def visible_templates(session: Session, viewer: acl.Viewer) -> list[CommTemplate]:
    """Every template the viewer may see, by name; every list, search and create path uses this."""
    if viewer.sees_nothing:
        return []
    rows = session.scalars(select(CommTemplate).order_by(CommTemplate.name, CommTemplate.id))
    return [t for t in rows if can_see(viewer, t)]


def get_visible(session: Session, viewer: acl.Viewer, template_id: int) -> CommTemplate:
    template = session.get(CommTemplate, template_id)
    if template is None or not can_see(viewer, template):
        raise NotFound()
    return template


def search_templates(session: Session, viewer: acl.Viewer, query: str = "") -> list[CommTemplate]:
    """Visible templates whose name, subject or body contain every word (case/umlaut-insensitive)."""
    words = fold(query).split()
    result = []
    for template in visible_templates(session, viewer):
        texts = [t for v in template_variants(template).values() for t in (v.subject, html_to_text(v.body))]
        haystack = fold(" ".join((template.name, template.kind, *texts)))
        if all(w in haystack for w in words):
            result.append(template)
    return result


# -- saving -------------------------------------------------------------------------------------


def allowed_placeholders(ka: Kundenakte, session: Session | None = None) -> set[str]:
    keys = set(BASE_PLACEHOLDER_KEYS)
    for _plugin, placeholder in ka.collect("register_placeholders", session):
        path = getattr(placeholder, "path", None)
        if path:
            keys.add(path)
    return keys


def placeholder_examples(ka: Kundenakte, session: Session | None = None) -> dict[str, str]:
    """Example value per plugin placeholder path, for the trial render at save time."""
    examples: dict[str, str] = {}
    for _plugin, placeholder in ka.collect("register_placeholders", session):
        path = getattr(placeholder, "path", None)
        if path and path not in BASE_PLACEHOLDER_KEYS:
            examples[path] = str(getattr(placeholder, "example", "") or "")
    return examples


def plugin_placeholder_values(ka: Kundenakte, session: Session | None, plain: dict[str, Any]) -> dict[str, dict[str, str]]:
    extra: dict[str, dict[str, str]] = {}
    for _plugin, placeholder in ka.collect("register_placeholders", session):
        path = getattr(placeholder, "path", "")
        if not path or path in BASE_PLACEHOLDER_KEYS:
            continue
        value = ""
        if placeholder.resolve is not None:
            try:
                value = str(placeholder.resolve(plain) or "")
            except Exception:  # noqa: BLE001 - a broken plugin resolver must not break the letter
                value = ""
        extra.setdefault(placeholder.group, {})[placeholder.key] = value
    return extra


def _principals(raw: Any) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, str):
        raw = raw.replace(",", " ").split()
    return [acl.parse_principal(str(p)) for p in raw if str(p).strip()]


def _int_list(raw: Any) -> list[int]:
    if raw is None:
        return []
    if isinstance(raw, str):
        raw = raw.replace(",", " ").split()
    return [int(x) for x in raw if str(x).strip()]


def _variant_values(values: Mapping[str, Any], language: str) -> dict[str, dict[str, str]]:
    """Every language's texts from the input: ``variants`` {lang: {subject, body, appendix}}, and
    for the default language also the plain ``subject``/``body``/``appendix`` keys (as the API and
    older callers send them)."""
    raw = values.get("variants") or {}
    raw = raw if isinstance(raw, Mapping) else {}
    result: dict[str, dict[str, str]] = {}
    for lang in LANGUAGES:
        entry = raw.get(lang)
        given: Mapping[str, Any] = entry if isinstance(entry, Mapping) else {}
        texts = {key: str(given.get(key) or "") for key in VARIANT_FIELDS}
        if lang == language:
            for key in VARIANT_FIELDS:
                if not texts[key] and values.get(key):
                    texts[key] = str(values.get(key) or "")
        result[lang] = texts
    return result


def kind_choices(ka: Kundenakte, session: Session | None = None, lang: str = "de") -> list[tuple[str, str, str]]:
    """The "Typ" choices: every enabled document type, as (key, label, category label), by category."""
    from kundenakte.core.categories import categories, category_for

    known = categories(ka, session)
    rows = []
    for doctype in ka.enabled_types(session):
        category = category_for(known, doctype.category or "more")
        rows.append(((category.order, doctype.menu_order, doctype.label),
                     (doctype.key, doctype.label_for(lang), category.label_for(lang))))
    return [row for _rank, row in sorted(rows)]


def kind_keys(ka: Kundenakte, session: Session | None = None) -> set[str]:
    return {key for key, _label, _group in kind_choices(ka, session)}


def kind_choice_for(ka: Kundenakte, raw: str, session: Session | None = None) -> str:
    """A stored "Typ" as one of the choices: older templates have free text ("EMail", "Brief").

    A value naming a type by key or label (any case, umlauts folded, "-" and blanks ignored) maps
    to that type's key; anything else is kept as it is, so no stored value is lost.
    """
    if not raw:
        return ""

    def norm(text: str) -> str:
        return fold(text).replace("-", "").replace(" ", "")

    wanted = norm(raw)
    for doctype in ka.types.all():
        if wanted in {norm(doctype.key), norm(doctype.label), norm(doctype.label_en)}:
            return doctype.key
    if wanted == "mail":
        return "email" if "email" in ka.types else raw
    return raw


def save_template(
    ka: Kundenakte, session: Session, viewer: acl.Viewer, values: Mapping[str, Any], *, template_id: int | None = None
) -> CommTemplate:
    """Create or change a template; raise ValidationError with every field error (German) at once."""
    if viewer.sees_nothing:
        raise Forbidden()
    if template_id is not None:
        template = get_visible(session, viewer, template_id)
        if not can_change(viewer, template):
            raise Forbidden()
    else:
        template = CommTemplate(created_by=viewer.user_id, version=1, created_at=ka.clock.now())
    errors: dict[str, str] = {}

    name = str(values.get("name") or "").strip()
    if not name:
        errors["name"] = "Bitte eine Bezeichnung angeben."
    elif len(name) > 200:
        errors["name"] = "Höchstens 200 Zeichen."
    base_type = str(values.get("base_type") or "email")
    if base_type not in TEMPLATE_BASE_TYPES:
        errors["base_type"] = "Bitte einen der angebotenen Typen wählen."
    sender_format = str(values.get("sender_format") or "name_address")
    if sender_format not in SENDER_FORMATS:
        errors["sender_format"] = "Bitte eine der angebotenen Absenderangaben wählen."
    sender_mode = str(values.get("sender_mode") or "current_user")
    sender_user_id = None
    if sender_mode not in SENDER_MODES:
        errors["sender_mode"] = "Bitte einen der angebotenen Absender wählen."
    elif sender_mode == "fixed":
        try:
            sender_user_id = int(values.get("sender_user_id") or 0) or None
        except (TypeError, ValueError):
            sender_user_id = None
        if sender_user_id is None or session.get(User, sender_user_id) is None:
            errors["sender_user_id"] = "Bitte einen Benutzer als festen Absender wählen."

    folders: list[int] = []
    try:
        raw_folders = values.get("folders") or []
        if isinstance(raw_folders, str):
            raw_folders = raw_folders.replace(",", " ").split()
        for item in raw_folders:
            item = str(item).strip()
            if not item:
                continue
            fid = int(item) if item.isdigit() else session.scalar(select(Folder.id).where(Folder.name == item))
            if fid is None or session.get(Folder, fid) is None:
                raise ValueError
            folders.append(fid)
    except (TypeError, ValueError):
        errors["folders"] = "Unbekannter Ordner."

    retention: int | None = None
    raw_retention = values.get("retention_days")
    if raw_retention not in (None, ""):
        try:
            retention = int(raw_retention)
            if not 0 <= retention <= 36500:
                raise ValueError
        except (TypeError, ValueError):
            errors["retention_days"] = "Bitte eine Anzahl Tage zwischen 0 und 36500 angeben."

    principals: dict[str, list[str]] = {}
    for key in ("doc_readers", "doc_editors", "readers", "editors"):
        try:
            principals[key] = _principals(values.get(key))
        except ValueError as exc:
            errors[key] = str(exc)
            principals[key] = []

    language = str(values.get("language") or DEFAULT_LANGUAGE)
    if language not in LANGUAGES:
        errors["language"] = "Bitte eine der angebotenen Sprachen wählen."
        language = DEFAULT_LANGUAGE
    variant_texts = _variant_values(values, language)

    kind = str(values.get("kind") or "").strip()[:120]
    if kind and kind not in kind_keys(ka, session) and kind != template.kind:
        errors["kind"] = "Bitte einen der angebotenen Typen wählen."

    allowed = allowed_placeholders(ka, session)
    examples = placeholder_examples(ka, session)

    def check(key: str, text: str, error_key: str, prefix: str) -> None:
        problems = validate_template(text, allowed) if text else []
        if text and not problems:
            # A template that is fine in form but builds too much text (a "~" bomb) is refused now,
            # not when a colleague first uses it: one trial render with realistic example values.
            problems = trial_render(text, html=key in HTML_FIELDS, extra_examples=examples)
        if problems:
            errors[error_key] = f"{prefix}: " + " ".join(problems)

    display_title = str(values.get("display_title") or "")
    check("display_title", display_title, "display_title", FIELD_LABELS["display_title"])
    for lang, texts in variant_texts.items():
        for key in VARIANT_FIELDS:
            # The default language's errors keep the plain keys ("subject"), others are "variants.en.subject".
            error_key = key if lang == language else f"variants.{lang}.{key}"
            prefix = FIELD_LABELS[key] if lang == language else f"{FIELD_LABELS[key]} ({LANGUAGES[lang]})"
            check(key, texts[key], error_key, prefix)
    if errors:
        raise ValidationError(errors)

    before_version = template.version
    template.name = name
    template.base_type = base_type
    template.kind = kind
    template.display_title = display_title.strip()[:300]
    template.sender_format = sender_format
    template.sender_mode = sender_mode
    template.sender_user_id = sender_user_id
    template.folders = folders
    template.retention_days = retention
    template.doc_readers = principals["doc_readers"]
    template.doc_editors = principals["doc_editors"]
    template.readers = principals["readers"]
    template.editors = principals["editors"]
    template.language = language
    # Validated first, then sanitised: the sanitiser never sees Jinja syntax it could mangle unnoticed.
    cleaned = {lang: {"subject": t["subject"].strip(), "body": sanitize_html(t["body"]),
                      "appendix": sanitize_html(t["appendix"])} for lang, t in variant_texts.items()}
    default = cleaned.pop(language)
    template.subject, template.body, template.appendix = default["subject"], default["body"], default["appendix"]
    # A language left empty has no variant: its contacts get the default language with a notice.
    template.variants = {lang: t for lang, t in cleaned.items()
                         if not Variant(lang, t["subject"], t["body"], t["appendix"]).empty}
    template.updated_at = ka.clock.now()
    if template_id is None:
        session.add(template)
    else:
        template.version = before_version + 1
    session.flush()
    audit.record(session, viewer.user_id, "created" if template_id is None else "changed", "comm_template", template.id,
                 name=template.name)
    return template


def add_template_file(
    ka: Kundenakte, session: Session, viewer: acl.Viewer, template: CommTemplate, stream: IO[bytes], filename: str
) -> CommTemplateFile:
    if not can_change(viewer, template):
        raise Forbidden()
    from kundenakte.core.attachments import clean_filename

    blob = ka.storage.put(stream, session=session, filename=filename)
    row = CommTemplateFile(filename=clean_filename(filename), mime_type=(blob.mime_type or "application/octet-stream")[:120],
                           size=blob.size, sha256=blob.sha256)
    template.files.append(row)
    session.flush()
    return row


def remove_template_file(session: Session, viewer: acl.Viewer, template: CommTemplate, file_id: int) -> None:
    if not can_change(viewer, template):
        raise Forbidden()
    for row in list(template.files):
        if row.id == file_id:
            template.files.remove(row)


def delete_template(session: Session, viewer: acl.Viewer, template_id: int) -> None:
    template = get_visible(session, viewer, template_id)
    if not can_change(viewer, template):
        raise Forbidden()
    audit.record(session, viewer.user_id, "deleted", "comm_template", template.id, name=template.name)
    session.delete(template)


# -- create a document from a template ----------------------------------------------------------


def contact_dict(contact: Contact | None) -> dict[str, Any] | None:
    if contact is None:
        return None
    return {
        "gender": contact.gender, "title": contact.title, "first_name": contact.first_name,
        "last_name": contact.last_name, "salutation_override": contact.salutation_override,
        "language": contact.language, "email": contact.email, "position": contact.position,
    }


def company_dict(company: Company | None) -> dict[str, Any] | None:
    if company is None:
        return None
    return {"name": company.name, "street": company.street, "postal_code": company.postal_code,
            "city": company.city, "country": company.country}


def sender_dict(user: User | None) -> dict[str, Any]:
    if user is None:
        return {"name": "", "email": "", "phone": "", "signature": ""}
    return {"name": user.display_name, "email": user.email, "phone": user.phone, "signature": user.signature or ""}


@dataclass
class Rendered:
    title: str
    subject: str
    body: str
    appendix: str
    language: str = DEFAULT_LANGUAGE  # the variant used
    notice: str = ""  # set when the recipient's language had no variant


def render_template_for(
    ka: Kundenakte, session: Session, template: CommTemplate, contact: Contact | None, sender: User | None,
    company: Company | None = None,
) -> Rendered:
    """Fill in the template for the contact (or, without one, for ``company``) in their language.

    The variant is picked first (variant_for); salutation, closing and dates then follow the
    variant's language, so a fallback text is never framed in another language.
    """
    plain_contact = contact_dict(contact)
    choice = variant_for(template, (plain_contact or {}).get("language"))
    variant = choice.variant
    language = variant.language
    if plain_contact is not None:
        plain_contact = {**plain_contact, "language": language}
    if contact is not None:
        company = contact.company
    plain_company = company_dict(company)
    plain_sender = sender_dict(sender)
    today = ka.clock.today()
    plain = {"contact": plain_contact or {}, "company": plain_company or {}, "sender": plain_sender,
             "today": today.isoformat()}
    context = build_context(plain_contact, plain_company, plain_sender, today,
                            extra=plugin_placeholder_values(ka, session, plain))
    subject = render(variant.subject, context, html=False) if variant.subject else ""
    title_source = template.display_title or ""
    title = render(title_source, context, html=False) if title_source else ""
    title = (title or subject or template.name).strip()[:300]
    body = render(variant.body, context, html=True) if variant.body else ""
    appendix = render(variant.appendix, context, html=True) if variant.appendix else ""
    # One composition (composition.py): each part once, the template's structure kept.
    text = compose(salutation=letter_salutation(plain_contact, language=language), body_html=body,
                   closing=closing(language), sender_name=plain_sender["name"], signature=plain_sender["signature"],
                   body_has_signature="absender.signatur" in (variant.body or ""))
    return Rendered(title=title, subject=subject, body=sanitize_html(text),
                    appendix=sanitize_html(to_editor_html(appendix)), language=language, notice=choice.notice)


def proposed_principals(session: Session, viewer: acl.Viewer, template: CommTemplate) -> tuple[list[str], list[str]]:
    """The template's readers and editors of created documents that ``viewer`` could pick too."""
    offered = acl.grantable_principals(session, viewer)
    readers = [p for p in template.doc_readers or [] if p in offered]
    editors = [p for p in template.doc_editors or [] if p in offered]
    return readers, editors


def create_from_template(
    ka: Kundenakte, session: Session, viewer: acl.Viewer, template_id: int, contact_id: int | None,
    company_id: int | None = None,
) -> Document:
    """A new unsent draft of the template's base type for the contact; the caller commits.

    From a company's page there may be no contact: the draft is then for the company (salutation
    "Sehr geehrte Damen und Herren", no recipient address yet). A contact given with a company must
    belong to it. The contact's language picks the template's variant; a fallback to the default
    language is stored as a notice on the draft (core.documents.add_notice).

    The draft is the creating user's alone: the template's readers/editors of created documents
    (cut down to what the user could pick) are only *proposed* (core.documents.propose_access),
    shown prefilled in the draft's Zugriff section and granted when the user saves it. So a
    shared template never gives its author, or anyone, silent access to others' documents.

    Raises NotFound for a template the viewer may not see, ValidationError for rendering problems.
    """
    if viewer.sees_nothing:
        raise Forbidden()
    template = get_visible(session, viewer, template_id)
    contact = session.get(Contact, contact_id) if contact_id else None
    if contact_id and contact is None:
        raise ValidationError({"contact_id": "Unbekannter Kontakt."})
    company = session.get(Company, company_id) if company_id else None
    if company_id and company is None:
        raise ValidationError({"company_id": "Unbekanntes Unternehmen."})
    if company is not None and contact is not None and contact.company_id != company.id:
        raise ValidationError({"contact_id": "Der Kontakt gehört nicht zu diesem Unternehmen."})
    sender_id = template.sender_user_id if template.sender_mode == "fixed" and template.sender_user_id else viewer.user_id
    sender = session.get(User, sender_id) if sender_id else None
    try:
        rendered = render_template_for(ka, session, template, contact, sender, company=company)
    except TemplateRenderError as exc:
        raise ValidationError({"template": f"Die Vorlage „{template.name}“ konnte nicht ausgefüllt werden: {exc.message}"}) from None
    data: dict[str, Any] = {"subject": rendered.subject, "appendix": rendered.appendix}
    if template.base_type == "email":
        data["to_email"] = (contact.email if contact is not None else "") or ""
        data["to_name"] = contact.full_name if contact is not None else ""
        data["sender_format"] = template.sender_format if template.sender_format in SENDER_FORMATS else DEFAULT_SENDER_FORMAT
    folder_ids = [f for f in (template.folders or []) if session.get(Folder, f) is not None]
    inp = DocumentInput(
        title=rendered.title,
        company_id=contact.company_id if contact is not None else (company.id if company is not None else None),
        contact_id=contact.id if contact is not None else None,
        status="draft",
        content=rendered.body,
        data=data,
        folder_ids=folder_ids,
        retention_days=template.retention_days,
        readers=[],
        editors=[],
    )
    doc = create_document(ka, session, viewer, template.base_type, inp)
    readers, editors = proposed_principals(session, viewer, template)
    propose_access(doc, source=f"Vorlage „{template.name}“", readers=readers, editors=editors)
    if rendered.notice:
        add_notice(doc, rendered.notice)
    for row in template.files:
        if not ka.storage.exists(row.sha256):
            continue  # a template file whose blob is gone: the draft is still useful without it
        # The template's file is already in the store: the core attaches the same content (with
        # its audit entry), the blob is shared and stays while either row names it.
        blob = StoredBlob(sha256=row.sha256, size=row.size, mime_type=row.mime_type, created=False)
        attach_blob(ka, session, viewer, doc, blob, row.filename)
    session.flush()
    audit.record(session, viewer.user_id, "from_template", "document", doc.id, template_id=template.id,
                 template=template.name, text=f"aus der Vorlage „{template.name}“ erstellt")
    return doc


def template_blob_references(session: Session, sha256s: list[str]) -> list[str]:
    """The given content hashes that template files still name (their blobs must stay)."""
    return list(session.scalars(select(CommTemplateFile.sha256).where(CommTemplateFile.sha256.in_(sha256s)).distinct()))


def summary(template: CommTemplate, length: int = 160) -> str:
    """The start of the default language's body as plain text (for lists and the dialog)."""
    text = html_to_text(template.body)
    return html_lib.unescape(text[:length])


__all__ = (
    "template_access", "can_see", "can_change", "visible_templates", "search_templates", "save_template",
    "add_template_file", "create_from_template", "allowed_placeholders", "template_variants", "variant_for",
    "kind_choices", "LANGUAGES",
)
