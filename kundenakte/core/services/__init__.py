"""The write door: every change to documents, attachments, contacts, companies, users, groups and folders.

Web views, the API, the importer, the CLI and plugins change these rows only through the functions
re-exported here (or the modules they come from); none of them builds ``Contact(…)`` or
``Company(…)`` or sets their columns itself (``tests/test_services.py`` checks the package for
that). Every function checks its input once and raises :class:`ValidationError` carrying every
field error at once, in German; audit entries and the index queue are written inside, in the
caller's transaction. Plugins change a document's status or data outside its form with
``set_document_state`` (never by setting ``doc.status``/``doc.data`` and queueing by hand).

Contacts and companies live in ``services/contacts.py`` and ``services/companies.py``; documents,
attachments and users in ``core/documents.py``, ``core/attachments.py`` and ``core/users.py``,
groups in ``core/users.py`` (``services/groups.py``), folders in ``services/folders.py``.
"""

from __future__ import annotations

from kundenakte.core.attachments import add_attachment, attach_blob, remove_attachment
from kundenakte.core.documents import (
    DocumentInput,
    after_commit,
    create_document,
    delete_document,
    load_for_write,
    propose_access,
    set_document_state,
    update_document,
)
from kundenakte.core.services.companies import (
    COMPANY_TEXT,
    clean_company,
    create_company,
    delete_company,
    update_company,
)
from kundenakte.core.services.contacts import (
    CONTACT_TEXT,
    clean_contact,
    create_contact,
    delete_contact,
    update_contact,
)
from kundenakte.core.services.errors import Conflict, Forbidden, InUse, NotFound, ReadOnly, UserError, ValidationError
from kundenakte.core.services.folders import create_folder, delete_folder, find_folder, move_folder, rename_folder
from kundenakte.core.services.groups import (
    add_members,
    allowed_parents,
    create_group,
    group_errors,
    remove_members,
    save_group,
    set_group_parent,
)
from kundenakte.core.users import create_user, end_sessions, set_display_name, set_password, update_user

__all__ = [
    "COMPANY_TEXT", "CONTACT_TEXT", "Conflict", "DocumentInput", "Forbidden", "InUse", "NotFound", "ReadOnly",
    "UserError", "ValidationError", "add_attachment", "add_members", "after_commit", "allowed_parents",
    "attach_blob", "clean_company", "clean_contact", "create_company", "create_contact", "create_document",
    "create_folder", "create_group", "create_user", "delete_company", "delete_contact", "delete_document",
    "delete_folder", "end_sessions", "find_folder", "group_errors", "load_for_write", "move_folder",
    "propose_access", "remove_attachment", "remove_members", "rename_folder", "save_group", "set_display_name",
    "set_document_state", "set_group_parent", "set_password", "update_company", "update_contact", "update_document",
    "update_user",
]
