"""Realistic German demo data: users, groups, folders, companies, contacts and documents.

Documents are generated from whatever document types the enabled plugins declare, with values
made from each field's declaration, so a third-party type gets demo documents too.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from faker import Faker
from sqlalchemy import select

from kundenakte.core import acl
from kundenakte.core.doctypes import DocumentType, Field
from kundenakte.core.documents import DocumentInput, create_document
from kundenakte.core.models import Company, Contact, Folder, Group, User
from kundenakte.core.services.companies import create_company
from kundenakte.core.services.contacts import create_contact
from kundenakte.core.services.folders import create_folder
from kundenakte.core.users import UserError, add_members, check_display_name, create_group, create_user

if TYPE_CHECKING:
    from kundenakte.core.runtime import Kundenakte

DEMO_PASSWORD = "kundenakte-demo"
FOLDERS = ("DOCHOUSE 4", "Schriftverkehr", "Verträge", "Angebote", "Projekte", "Buchhaltung")

USERS = (
    ("admin", "Administrator", True, ()),
    ("lea.mueller", "Lea Müller", False, ("Vertrieb",)),
    ("max.schmidt", "Max Schmidt", False, ("Vertrieb Nord",)),
    ("sandra.weber", "Sandra Weber", False, ("Innendienst",)),
    ("tom.berger", "Tom Berger", False, ()),
)


@dataclass
class DemoInfo:
    users: int
    companies: int
    contacts: int
    documents: int

    def summary(self) -> str:
        return (
            f"Demodaten: {self.users} Benutzer, {self.companies} Unternehmen, "
            f"{self.contacts} Kontakte, {self.documents} Dokumente."
        )


def _value_for(field: Field, fake: Faker, rnd: random.Random, users: list[int]) -> Any:
    kind = field.kind
    if field.computed:
        return None
    if field.default is not None and kind in ("integer", "choice", "text"):
        return field.default
    if kind == "text":
        return fake.catch_phrase()[: min(field.max_length, 80)]
    if kind == "longtext":
        return fake.paragraph(nb_sentences=3)
    if kind == "richtext":
        return f"<p>{fake.paragraph(nb_sentences=2)}</p>"
    if kind == "date":
        return (dt.date.today() + dt.timedelta(days=rnd.randint(-200, 200))).isoformat()
    if kind in ("money", "decimal"):
        low = field.min_value if field.min_value is not None else Decimal("0")
        high = field.max_value if field.max_value is not None else Decimal("25000")
        value = Decimal(rnd.randint(int(low * 100), int(high * 100))) / 100
        return str(value)
    if kind == "integer":
        int_low = int(field.min_value) if field.min_value is not None else 0
        int_high = int(field.max_value) if field.max_value is not None else 120
        return rnd.randint(int_low, int_high)
    if kind == "choice":
        return rnd.choice(field.choices).value
    if kind == "user":
        return rnd.choice(users)
    if kind == "boolean":
        return rnd.random() < 0.5
    return None


def _free_name(session: Any, name: str) -> str:
    """The demo user's name, marked "(Demo)" when a real user already has it (names are unique)."""
    try:
        return check_display_name(session, name)
    except UserError:
        return f"{name} (Demo)"


def load_demo(ka: Kundenakte, *, companies: int = 40, seed: int = 42, progress: bool = False) -> DemoInfo:
    fake = Faker("de_DE")
    fake.seed_instance(seed)
    rnd = random.Random(seed)
    with ka.db.write() as session:
        if session.scalar(select(User.id).where(User.login == "lea.mueller")) is not None:
            return DemoInfo(0, 0, 0, 0)
        for name, parent in (("Vertrieb", None), ("Vertrieb Nord", "Vertrieb"), ("Innendienst", None)):
            create_group(session, name, parent=parent)
        for login, name, admin, user_groups in USERS:
            user = create_user(
                session, login, DEMO_PASSWORD, display_name=_free_name(session, name), email=f"{login}@kundenakte.example", is_admin=admin,
                phone=fake.phone_number(), signature=f"{name}\nKundenakte Demo GmbH",
            )
            for g in user_groups:
                add_members(session, g, [user.login])
        for name in FOLDERS:
            create_folder(session, name, by=None, via="demo")
        users = {u.login: u for u in session.scalars(select(User))}
        lea = users["lea.mueller"]
        managers = [users["lea.mueller"], users["max.schmidt"], users["sandra.weber"]]

        # Master data through the services, like every other writer (audit entries included).
        made_companies: list[Company] = [create_company(session, {
            "name": "DOCHOUSE GmbH", "street": "Lindenstraße 17", "postal_code": "88212", "city": "Ravensburg",
            "phone": "0751 123456", "email": "info@dochouse.example", "web": "https://dochouse.example",
            "account_manager_id": lea.id,
        }, by=None)]
        dochouse = made_companies[0]
        for _ in range(max(0, companies - 1)):
            made_companies.append(create_company(session, {
                "name": fake.unique.company(), "street": fake.street_address(), "postal_code": fake.postcode(),
                "city": fake.city(), "phone": fake.phone_number(), "email": fake.company_email(),
                "web": f"https://{fake.domain_name()}", "account_manager_id": rnd.choice(managers).id,
            }, by=None))

        contacts: list[Contact] = []
        contacts.append(create_contact(session, {
            "gender": "female", "title": "Dr.", "first_name": "Katrin", "last_name": "Vogel", "company_id": dochouse.id,
            "position": "Geschäftsführerin", "email": "k.vogel@dochouse.example", "phone": "0751 123457",
            "account_manager_id": lea.id, "language": "de",
        }, by=None))
        contacts.append(create_contact(session, {
            "gender": "male", "first_name": "Jonas", "last_name": "Öztürk", "company_id": dochouse.id,
            "position": "Einkauf", "email": "j.oeztuerk@dochouse.example", "account_manager_id": users["max.schmidt"].id,
        }, by=None))
        for company in made_companies[1:]:
            for _ in range(rnd.randint(1, 4)):
                gender = rnd.choices(["female", "male", "diverse", "unknown"], weights=[45, 45, 5, 5])[0]
                first = fake.first_name_female() if gender == "female" else fake.first_name_male()
                contacts.append(create_contact(session, {
                    "gender": gender, "title": rnd.choice(["", "", "", "Dr.", "Prof. Dr."]), "first_name": first,
                    "last_name": fake.last_name(), "company_id": company.id, "position": fake.job()[:120],
                    "email": fake.unique.email(), "phone": fake.phone_number(),
                    "account_manager_id": company.account_manager_id, "language": "en" if rnd.random() < 0.1 else "de",
                }, by=None))
        user_ids = [u.id for u in users.values()]
        groups = {g.name: g.id for g in session.scalars(select(Group))}
        folder_ids = {f.name: f.id for f in session.scalars(select(Folder))}

    types = [t for t in ka.enabled_types() if t.in_contact_menu]
    documents = 0
    if types:
        iterator: Any = contacts
        if progress:
            from tqdm import tqdm

            iterator = tqdm(contacts, desc="Dokumente je Kontakt", unit=" Kontakte")
        for contact in iterator:
            with ka.db.write() as session:
                for _ in range(rnd.randint(1, 3)):
                    doctype: DocumentType = rnd.choice(types)
                    author = rnd.choice(list(users.values()))
                    viewer = acl.viewer_for(session, session.get(User, author.id))
                    readers = rnd.choice([["*"], [f"g:{groups['Vertrieb']}"], [f"g:{groups['Innendienst']}"], []])
                    data = {f.name: _value_for(f, fake, rnd, user_ids) for f in doctype.fields}
                    inp = DocumentInput(
                        title=f"{doctype.label}: {fake.catch_phrase()}"[:300],
                        company_id=contact.company_id,
                        contact_id=contact.id,
                        document_date=(dt.date.today() - dt.timedelta(days=rnd.randint(0, 400))).isoformat(),
                        status=rnd.choice(doctype.statuses).value if doctype.statuses else None,
                        content=f"<p>{fake.paragraph(nb_sentences=4)}</p>",
                        data=data,
                        folder_ids=[folder_ids[rnd.choice(FOLDERS)]],
                        readers=readers,
                        editors=[f"u:{author.id}"],
                    )
                    try:
                        with session.begin_nested():
                            create_document(ka, session, viewer, doctype.key, inp)
                        documents += 1
                    except Exception:  # a plugin's stricter rule; demo data skips that document
                        pass
    ka.plugins.call("demo_data", disabled=ka.disabled_plugins(), ka=ka)
    ka.search.flush()
    return DemoInfo(len(USERS), len(made_companies), len(contacts), documents)
