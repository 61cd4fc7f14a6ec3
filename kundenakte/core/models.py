"""The core's tables. Plugins keep their own tables in their own modules (same ``Base``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, Decimal: Numeric(14, 2)}


group_members = Table(
    "group_members",
    Base.metadata,
    Column("group_id", ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_group_members_user", "user_id"),
)

document_folders = Table(
    "document_folders",
    Base.metadata,
    Column("document_id", ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True),
    Column("folder_id", ForeignKey("folders.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_document_folders_folder", "folder_id"),
)


# SQLite reuses the highest rowid after a delete unless a table is AUTOINCREMENT; rows that the
# audit trail (or a URL, a bookmark, a mail) names by id must never get another row's id.
NEVER_REUSE_IDS = {"sqlite_autoincrement": True}


class User(Base):
    __tablename__ = "users"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    # core.text.name_key(display_name), kept by a mapper event; unique, so no one can take a
    # colleague's name in another spelling (the service says so in German first).
    display_name_key: Mapped[str] = mapped_column(String(200), default="", unique=True)
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(60), default="")
    signature: Mapped[str] = mapped_column(Text, default="")
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str] = mapped_column(String(5), default="de")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # Bound into every login session and remember-me cookie; raising it ends them all (core/users.py).
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    groups: Mapped[list[Group]] = relationship(secondary=group_members, back_populates="members")

    def __repr__(self) -> str:
        return f"<User {self.login}>"


class Group(Base):
    __tablename__ = "groups"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    # A group may sit inside another: members of the child hold the parent's rights too.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="SET NULL"))

    members: Mapped[list[User]] = relationship(secondary=group_members, back_populates="groups")
    parent: Mapped[Group | None] = relationship(remote_side="Group.id")


class _Entries:
    """Views of a contact's or company's ``points`` by channel (the relationship is declared per class)."""

    points: list[ContactPoint]

    @property
    def emails(self) -> list[ContactPoint]:
        return [p for p in self.points if p.channel == "email"]

    @property
    def phones(self) -> list[ContactPoint]:
        return [p for p in self.points if p.channel == "phone"]

    @property
    def websites(self) -> list[ContactPoint]:
        return [p for p in self.points if p.channel == "web"]


class Company(_Entries, Base):
    __tablename__ = "companies"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    # Case- and umlaut-folded copies for the wildcard filters (see core.text.fold).
    name_folded: Mapped[str] = mapped_column(String(200), default="", index=True)
    street: Mapped[str] = mapped_column(String(200), default="")
    postal_code: Mapped[str] = mapped_column(String(20), default="", index=True)
    city: Mapped[str] = mapped_column(String(120), default="")
    city_folded: Mapped[str] = mapped_column(String(120), default="", index=True)
    country: Mapped[str] = mapped_column(String(80), default="Deutschland")
    phone: Mapped[str] = mapped_column(String(60), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    web: Mapped[str] = mapped_column(String(254), default="")
    vat_id: Mapped[str] = mapped_column(String(20), default="", server_default="")  # USt-IdNr.
    register_court: Mapped[str] = mapped_column(String(120), default="", server_default="")
    register_number: Mapped[str] = mapped_column(String(40), default="", server_default="")
    notes: Mapped[str] = mapped_column(String(20000), default="", server_default="")
    account_manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    account_manager: Mapped[User | None] = relationship()
    contacts: Mapped[list[Contact]] = relationship(back_populates="company")
    points: Mapped[list[ContactPoint]] = relationship(
        order_by="ContactPoint.position", cascade="all, delete-orphan", passive_deletes=True,
        foreign_keys="ContactPoint.company_id")
    addresses: Mapped[list[PostalAddress]] = relationship(
        order_by="PostalAddress.position", cascade="all, delete-orphan", passive_deletes=True,
        foreign_keys="PostalAddress.company_id")


GENDERS = ("female", "male", "diverse", "unknown")


class Contact(_Entries, Base):
    __tablename__ = "contacts"
    __table_args__ = (
        Index("ix_contacts_filter", "postal_code", "company_id", "account_manager_id"),
        Index("ix_contacts_name_order", "last_name", "first_name", "id"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    gender: Mapped[str] = mapped_column(String(10), default="unknown")
    title: Mapped[str] = mapped_column(String(60), default="")
    first_name: Mapped[str] = mapped_column(String(120), default="")
    last_name: Mapped[str] = mapped_column(String(120))
    name_folded: Mapped[str] = mapped_column(String(250), default="", index=True)
    salutation_override: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(5), default="de")
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="SET NULL"), index=True)
    position: Mapped[str] = mapped_column(String(120), default="")
    email: Mapped[str] = mapped_column(String(254), default="", index=True)
    phone: Mapped[str] = mapped_column(String(60), default="")
    # When true the contact's postal address is its company's.
    use_company_address: Mapped[bool] = mapped_column(Boolean, default=True)
    street: Mapped[str] = mapped_column(String(200), default="")
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    city: Mapped[str] = mapped_column(String(120), default="")
    city_folded: Mapped[str] = mapped_column(String(120), default="", index=True)
    country: Mapped[str] = mapped_column(String(80), default="")
    birthday: Mapped[dt.date | None] = mapped_column(Date)
    nickname: Mapped[str] = mapped_column(String(120), default="", server_default="")
    department: Mapped[str] = mapped_column(String(120), default="", server_default="")
    notes: Mapped[str] = mapped_column(String(20000), default="", server_default="")
    account_manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    company: Mapped[Company | None] = relationship(back_populates="contacts")
    account_manager: Mapped[User | None] = relationship()
    points: Mapped[list[ContactPoint]] = relationship(
        order_by="ContactPoint.position", cascade="all, delete-orphan", passive_deletes=True,
        foreign_keys="ContactPoint.contact_id")
    addresses: Mapped[list[PostalAddress]] = relationship(
        order_by="PostalAddress.position", cascade="all, delete-orphan", passive_deletes=True,
        foreign_keys="PostalAddress.contact_id")

    @property
    def full_name(self) -> str:
        parts = [self.title, self.first_name, self.last_name]
        return " ".join(p for p in parts if p)


# A contact point or address belongs to exactly one contact or one company.
_ONE_OWNER = "(contact_id IS NULL) <> (company_id IS NULL)"


class ContactPoint(Base):
    """One e-mail address, phone number or website of a contact or a company.

    The preferred one of each channel is copied into the owner's single column (``email``,
    ``phone``, ``web``) by the services, so filters, the index and salutations read one column.
    """

    __tablename__ = "contact_points"
    __table_args__ = (CheckConstraint(_ONE_OWNER, name="one_owner"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(10))  # email, phone, web
    kind: Mapped[str] = mapped_column(String(20), default="work")
    value: Mapped[str] = mapped_column(String(254))
    # For matching (duplicates, inbound mail): e-mail casefolded, phone digits only (core.services.points).
    value_key: Mapped[str] = mapped_column(String(254), default="", index=True)
    preferred: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)


class PostalAddress(Base):
    """A postal address of a contact or a company; the preferred one is the one for letters."""

    __tablename__ = "postal_addresses"
    __table_args__ = (CheckConstraint(_ONE_OWNER, name="one_owner"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="work")  # work, home, other
    street: Mapped[str] = mapped_column(String(200), default="")
    extra: Mapped[str] = mapped_column(String(200), default="")  # Adresszusatz (c/o, Postfach, Gebäude)
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    city: Mapped[str] = mapped_column(String(120), default="")
    country: Mapped[str] = mapped_column(String(80), default="")
    preferred: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Folder(Base):
    __tablename__ = "folders"
    __table_args__ = (UniqueConstraint("parent_id", "name", name="uq_folders_parent_name"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("folders.id", ondelete="CASCADE"))

    parent: Mapped[Folder | None] = relationship(remote_side="Folder.id")


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (
        Index("ix_documents_company_type", "company_id", "type_key"),
        Index("ix_documents_contact_type", "contact_id", "type_key"),
        Index("ix_documents_archive_due", "archive_due"),
        # Overview pages: newest first within a company or contact, stopping after one page.
        Index("ix_documents_company_date", "company_id", "document_date", "id"),
        Index("ix_documents_contact_date", "contact_id", "document_date", "id"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    type_key: Mapped[str] = mapped_column(String(60), index=True)
    title: Mapped[str] = mapped_column(String(300))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="SET NULL"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    responsible_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    # A document may belong to another (a task to a contract, a voucher to its predecessor, a file to a project).
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="SET NULL"), index=True)
    document_date: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(40), default="")
    content: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Generic mirrors of one declared field each, so sums and deadlines are plain SQL.
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    due_date: Mapped[dt.date | None] = mapped_column(Date, index=True)
    retention_days: Mapped[int | None] = mapped_column(Integer)
    archive_due: Mapped[dt.date | None] = mapped_column(Date)
    archived_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    # Optimistic locking: every UPDATE says "WHERE version = <the one we read>" and bumps it.
    __mapper_args__ = {"version_id_col": version}

    company: Mapped[Company | None] = relationship()
    contact: Mapped[Contact | None] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    responsible: Mapped[User | None] = relationship(foreign_keys=[responsible_id])
    folders: Mapped[list[Folder]] = relationship(secondary=document_folders)
    acl: Mapped[list[DocumentAcl]] = relationship(cascade="all, delete-orphan", back_populates="document")
    attachments: Mapped[list[Attachment]] = relationship(
        cascade="all, delete-orphan", back_populates="document", order_by="Attachment.id"
    )

    @property
    def archived(self) -> bool:
        return self.archived_at is not None


class DocumentAcl(Base):
    """One principal's right on one document: ``role`` is ``read`` or ``edit`` (edit implies read)."""

    __tablename__ = "document_acl"
    __table_args__ = (Index("ix_document_acl_principal", "principal", "document_id"),)

    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    principal: Mapped[str] = mapped_column(String(40), primary_key=True)  # "*", "u:<id>", "g:<id>"
    role: Mapped[str] = mapped_column(String(10), default="read")

    document: Mapped[Document] = relationship(back_populates="acl")


class Attachment(Base):
    __tablename__ = "attachments"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    mime_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    # Inline images of the rich-text content are attachments too, but not listed as files.
    inline: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str | None] = mapped_column(Text)  # extracted text, filled by the indexer
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    document: Mapped[Document] = relationship(back_populates="attachments")


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_object", "object_type", "object_id"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(40))  # created, changed, archived, deleted, sent, ...
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class OverviewVersion(Base):
    """Change counter per overview scope ("c:<company id>", "p:<contact id>").

    Maintained by database triggers on documents and document_acl (migration 0003_core), so no
    writer can forget it; read by core/overview_cache.py.
    """

    __tablename__ = "overview_versions"

    scope: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


class AuthThrottle(Base):
    """Failed logins or unknown API tokens counted per key (an HMAC of kind, login name, address).

    Shared by every worker and host of the instance; a row lives one window (``expires_at``) and is
    pruned afterwards (core/throttle.py), so the table stays bounded.
    """

    __tablename__ = "auth_throttle"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[dt.datetime] = mapped_column(DateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)


class PluginState(Base):
    """Admins' choice per plugin; a plugin without a row is enabled."""

    __tablename__ = "plugin_state"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ApiToken(Base):
    __tablename__ = "api_tokens"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship()


class IndexQueue(Base):
    """Documents whose index entry must be refreshed; written in the same transaction as the change."""

    __tablename__ = "index_queue"

    id: Mapped[int] = mapped_column(primary_key=True)
    object_key: Mapped[str] = mapped_column(String(40), index=True)  # "doc:1", "contact:2", "company:3"
    queued_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


# -- derived columns and index queue for master data ---------------------------------------------
# Mapper events keep the folded filter columns and the index queue right for every writer (web,
# API, import, demo, plugins) without each having to remember it: every insert, update or delete
# of a document, contact or company row, and every folder rename, queues the entries once per
# transaction (the unit of work remembers what it queued).

from sqlalchemy import event, insert  # noqa: E402


def _fold_company(_mapper: Any, _conn: Any, target: Company) -> None:
    from kundenakte.core.text import fold

    target.name_folded = fold(target.name)
    target.city_folded = fold(target.city)


def _fold_contact(_mapper: Any, _conn: Any, target: Contact) -> None:
    from kundenakte.core.text import fold

    target.name_folded = fold(f"{target.first_name} {target.last_name}")
    target.city_folded = fold(target.city)


def _key_user_name(_mapper: Any, _conn: Any, target: User) -> None:
    from kundenakte.core.text import name_key

    target.display_name_key = name_key(target.display_name)


def _queue_keys(conn: Any, target: Any, keys: list[str]) -> None:
    """Insert index queue rows for ``keys`` not queued by this transaction yet (the one place that queues)."""
    from sqlalchemy.orm import object_session

    from kundenakte.core.unit_of_work import unit_of

    session = object_session(target)
    if session is not None:
        keys = unit_of(session).not_yet_queued(session, keys)
    if keys:
        now = utcnow()
        conn.execute(insert(IndexQueue), [{"object_key": k, "queued_at": now} for k in keys])


def _queue(kind: str) -> Any:
    def _listener(_mapper: Any, conn: Any, target: Any) -> None:
        _queue_keys(conn, target, [f"{kind}:{target.id}"])

    return _listener


def _queue_folder_documents(_mapper: Any, conn: Any, target: Folder) -> None:
    """Index entries carry folder names: a renamed folder's documents are queued."""
    from sqlalchemy import inspect, select

    if not inspect(target).attrs.name.history.has_changes():
        return
    ids = conn.execute(select(document_folders.c.document_id).where(document_folders.c.folder_id == target.id)).scalars()
    _queue_keys(conn, target, [f"doc:{i}" for i in ids])


for _event in ("before_insert", "before_update"):
    event.listen(Company, _event, _fold_company)
    event.listen(Contact, _event, _fold_contact)
    event.listen(User, _event, _key_user_name)
for _event in ("after_insert", "after_update", "after_delete"):
    event.listen(Company, _event, _queue("company"))
    event.listen(Contact, _event, _queue("contact"))
    event.listen(Document, _event, _queue("doc"))
event.listen(Folder, "after_update", _queue_folder_documents)
