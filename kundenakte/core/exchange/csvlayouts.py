"""The header layouts of the CSV files other programs write and read (data only, no logic).

Outlook (2003 to 365, "Kommagetrennte Werte"/"Comma Separated Values"): always the same 92
columns, in this order, in the language of the Outlook that wrote them; cp1252, comma, every field
quoted, CRLF. The German order is not the English order translated: the second block is sorted by
the German names. Sources: the English list as Outlook writes it (quoted verbatim by many public
converters), the German list from an Outlook 2007 export in Open-Xchange's import tests.

Google Contacts: the current export ("Google CSV", since the 2020s redesign) starts with
``First Name,Middle Name,Last Name,...`` and has as many numbered ``E-mail N - Label``/``Value``
(``Phone N``, ``Address N``, ``Website N``) column pairs as the contact with the most entries
needs; UTF-8, comma. The older layout (``Name,Given Name,Additional Name,Family Name,...``,
``E-mail 1 - Type``) is still read.

Thunderbird: the address book's CSV export (``First Name,Last Name,Display Name,...``), as in
Thunderbird's own test data.
"""

from __future__ import annotations

OUTLOOK_EN: tuple[str, ...] = (
    "Title", "First Name", "Middle Name", "Last Name", "Suffix", "Company", "Department", "Job Title",
    "Business Street", "Business Street 2", "Business Street 3", "Business City", "Business State",
    "Business Postal Code", "Business Country/Region", "Home Street", "Home Street 2", "Home Street 3", "Home City",
    "Home State", "Home Postal Code", "Home Country/Region", "Other Street", "Other Street 2", "Other Street 3",
    "Other City", "Other State", "Other Postal Code", "Other Country/Region", "Assistant's Phone", "Business Fax",
    "Business Phone", "Business Phone 2", "Callback", "Car Phone", "Company Main Phone", "Home Fax", "Home Phone",
    "Home Phone 2", "ISDN", "Mobile Phone", "Other Fax", "Other Phone", "Pager", "Primary Phone", "Radio Phone",
    "TTY/TDD Phone", "Telex", "Account", "Anniversary", "Assistant's Name", "Billing Information", "Birthday",
    "Business Address PO Box", "Categories", "Children", "Directory Server", "E-mail Address", "E-mail Type",
    "E-mail Display Name", "E-mail 2 Address", "E-mail 2 Type", "E-mail 2 Display Name", "E-mail 3 Address",
    "E-mail 3 Type", "E-mail 3 Display Name", "Gender", "Government ID Number", "Hobby", "Home Address PO Box",
    "Initials", "Internet Free Busy", "Keywords", "Language", "Location", "Manager's Name", "Mileage", "Notes",
    "Office Location", "Organizational ID Number", "Other Address PO Box", "Priority", "Private", "Profession",
    "Referred By", "Sensitivity", "Spouse", "User 1", "User 2", "User 3", "User 4", "Web Page",
)

# English header -> German header.
OUTLOOK_DE_NAMES: dict[str, str] = {
    "Title": "Anrede", "First Name": "Vorname", "Middle Name": "Weitere Vornamen", "Last Name": "Nachname",
    "Suffix": "Suffix", "Company": "Firma", "Department": "Abteilung", "Job Title": "Position",
    "Business Street": "Straße geschäftlich", "Business Street 2": "Straße geschäftlich 2",
    "Business Street 3": "Straße geschäftlich 3", "Business City": "Ort geschäftlich",
    "Business State": "Region geschäftlich", "Business Postal Code": "Postleitzahl geschäftlich",
    "Business Country/Region": "Land/Region geschäftlich", "Home Street": "Straße privat",
    "Home Street 2": "Straße privat 2", "Home Street 3": "Straße privat 3", "Home City": "Ort privat",
    "Home State": "Bundesland/Kanton privat", "Home Postal Code": "Postleitzahl privat",
    "Home Country/Region": "Land/Region privat", "Other Street": "Weitere Straße", "Other Street 2": "Weitere Straße 2",
    "Other Street 3": "Weitere Straße 3", "Other City": "Weiterer Ort", "Other State": "Weiteres/r Bundesland/Kanton",
    "Other Postal Code": "Weitere Postleitzahl", "Other Country/Region": "Weiteres/e Land/Region",
    "Assistant's Phone": "Telefon Assistent", "Business Fax": "Fax geschäftlich", "Business Phone": "Telefon geschäftlich",
    "Business Phone 2": "Telefon geschäftlich 2", "Callback": "Rückmeldung", "Car Phone": "Autotelefon",
    "Company Main Phone": "Telefon Firma", "Home Fax": "Fax privat", "Home Phone": "Telefon privat",
    "Home Phone 2": "Telefon privat 2", "ISDN": "ISDN", "Mobile Phone": "Mobiltelefon", "Other Fax": "Weiteres Fax",
    "Other Phone": "Weiteres Telefon", "Pager": "Pager", "Primary Phone": "Haupttelefon", "Radio Phone": "Mobiltelefon 2",
    "TTY/TDD Phone": "Telefon für Hörbehinderte", "Telex": "Telex", "Account": "Konto", "Anniversary": "Jahrestag",
    "Assistant's Name": "Name Assistent", "Billing Information": "Abrechnungsinformation", "Birthday": "Geburtstag",
    "Business Address PO Box": "Postfach geschäftlich", "Categories": "Kategorien", "Children": "Kinder",
    "Directory Server": "Verzeichnisserver", "E-mail Address": "E-Mail-Adresse", "E-mail Type": "E-Mail-Typ",
    "E-mail Display Name": "E-Mail: Angezeigter Name", "E-mail 2 Address": "E-Mail 2: Adresse",
    "E-mail 2 Type": "E-Mail 2: Typ", "E-mail 2 Display Name": "E-Mail 2: Angezeigter Name",
    "E-mail 3 Address": "E-Mail 3: Adresse", "E-mail 3 Type": "E-Mail 3: Typ",
    "E-mail 3 Display Name": "E-Mail 3: Angezeigter Name", "Gender": "Geschlecht",
    "Government ID Number": "Regierungsnr.", "Hobby": "Hobby", "Home Address PO Box": "Postfach privat",
    "Initials": "Initialen", "Internet Free Busy": "Internet-Frei/Gebucht", "Keywords": "Stichwörter",
    "Language": "Sprache", "Location": "Ort", "Manager's Name": "Name des/der Vorgesetzten", "Mileage": "Reisekilometer",
    "Notes": "Notizen", "Office Location": "Büro", "Organizational ID Number": "Organisationsnr.",
    "Other Address PO Box": "Weiteres Postfach", "Priority": "Priorität", "Private": "Privat", "Profession": "Beruf",
    "Referred By": "Empfohlen von", "Sensitivity": "Vertraulichkeit", "Spouse": "Partner", "User 1": "Benutzer 1",
    "User 2": "Benutzer 2", "User 3": "Benutzer 3", "User 4": "Benutzer 4", "Web Page": "Webseite",
}

OUTLOOK_DE: tuple[str, ...] = (
    "Anrede", "Vorname", "Weitere Vornamen", "Nachname", "Suffix", "Firma", "Abteilung", "Position",
    "Straße geschäftlich", "Straße geschäftlich 2", "Straße geschäftlich 3", "Ort geschäftlich", "Region geschäftlich",
    "Postleitzahl geschäftlich", "Land/Region geschäftlich", "Straße privat", "Straße privat 2", "Straße privat 3",
    "Ort privat", "Bundesland/Kanton privat", "Postleitzahl privat", "Land/Region privat", "Weitere Straße",
    "Weitere Straße 2", "Weitere Straße 3", "Weiterer Ort", "Weiteres/r Bundesland/Kanton", "Weitere Postleitzahl",
    "Weiteres/e Land/Region", "Telefon Assistent", "Fax geschäftlich", "Telefon geschäftlich", "Telefon geschäftlich 2",
    "Rückmeldung", "Autotelefon", "Telefon Firma", "Fax privat", "Telefon privat", "Telefon privat 2", "ISDN",
    "Mobiltelefon", "Weiteres Fax", "Weiteres Telefon", "Pager", "Haupttelefon", "Mobiltelefon 2",
    "Telefon für Hörbehinderte", "Telex", "Abrechnungsinformation", "Benutzer 1", "Benutzer 2", "Benutzer 3",
    "Benutzer 4", "Beruf", "Büro", "E-Mail-Adresse", "E-Mail-Typ", "E-Mail: Angezeigter Name", "E-Mail 2: Adresse",
    "E-Mail 2: Typ", "E-Mail 2: Angezeigter Name", "E-Mail 3: Adresse", "E-Mail 3: Typ", "E-Mail 3: Angezeigter Name",
    "Empfohlen von", "Geburtstag", "Geschlecht", "Hobby", "Initialen", "Internet-Frei/Gebucht", "Jahrestag",
    "Kategorien", "Kinder", "Konto", "Name Assistent", "Name des/der Vorgesetzten", "Notizen", "Organisationsnr.",
    "Ort", "Partner", "Postfach geschäftlich", "Postfach privat", "Priorität", "Privat", "Regierungsnr.",
    "Reisekilometer", "Sprache", "Stichwörter", "Vertraulichkeit", "Verzeichnisserver", "Webseite", "Weiteres Postfach",
)

# Spellings other Outlook versions (97/98, 2000, some 365 builds) or Excel-edited files use; read only.
OUTLOOK_ALIASES: dict[str, tuple[str, ...]] = {
    "Business Country/Region": ("Business Country", "Land geschäftlich"),
    "Home Country/Region": ("Home Country", "Land privat"),
    "Other Country/Region": ("Other Country", "Weiteres Land"),
    "Home Phone": ("Telefon (privat)",), "Home Phone 2": ("Telefon (privat 2)",),
    "Internet Free Busy": ("Internet Frei/Gebucht",), "Manager's Name": ("Name des/r Vorgesetzten",),
    "Assistant's Name": ("Assistent(in)",), "Government ID Number": ("Regierungs-Nr.",),
    "Organizational ID Number": ("Organisations-Nr.",), "Business State": ("Bundesland/Kanton geschäftlich",),
}

# Outlook phone columns -> our kind, in the order a file's phones are listed.
OUTLOOK_PHONES: tuple[tuple[str, str], ...] = (
    ("Business Phone", "work"), ("Business Phone 2", "work"), ("Mobile Phone", "mobile"), ("Radio Phone", "mobile"),
    ("Home Phone", "home"), ("Home Phone 2", "home"), ("Business Fax", "fax"), ("Home Fax", "fax"),
    ("Other Fax", "fax"), ("Pager", "pager"), ("Other Phone", "other"), ("Assistant's Phone", "other"),
    ("Callback", "other"), ("Car Phone", "other"), ("ISDN", "other"), ("TTY/TDD Phone", "other"), ("Telex", "other"),
)
# Where an export puts a phone of each kind, in order of use.
OUTLOOK_PHONE_SLOTS: dict[str, tuple[str, ...]] = {
    "work": ("Business Phone", "Business Phone 2"), "mobile": ("Mobile Phone", "Radio Phone"),
    "home": ("Home Phone", "Home Phone 2"), "fax": ("Business Fax", "Home Fax", "Other Fax"), "pager": ("Pager",),
    "other": ("Other Phone", "Car Phone", "Callback", "ISDN"),
}
OUTLOOK_ADDRESSES: tuple[tuple[str, str], ...] = (("Business", "work"), ("Home", "home"), ("Other", "other"))
OUTLOOK_EMAILS: tuple[tuple[str, str, str, str], ...] = (  # address, type, display name columns, our kind
    ("E-mail Address", "E-mail Type", "E-mail Display Name", "work"),
    ("E-mail 2 Address", "E-mail 2 Type", "E-mail 2 Display Name", "home"),
    ("E-mail 3 Address", "E-mail 3 Type", "E-mail 3 Display Name", "other"),
)
# What Outlook writes into an empty field of these columns (read as empty, written the same way).
OUTLOOK_DEFAULTS_EN = {"Priority": "Normal", "Sensitivity": "Normal", "Private": "False", "Gender": "Unspecified",
                       "Birthday": "0/0/00", "Anniversary": "0/0/00"}
OUTLOOK_DEFAULTS_DE = {"Priority": "Normal", "Sensitivity": "Normal", "Private": "Aus", "Gender": "Keine Angabe",
                       "Birthday": "0.0.00", "Anniversary": "0.0.00"}
OUTLOOK_GENDER = {"en": {"female": "Female", "male": "Male"}, "de": {"female": "Weiblich", "male": "Männlich"}}

GOOGLE_HEAD: tuple[str, ...] = (
    "First Name", "Middle Name", "Last Name", "Phonetic First Name", "Phonetic Middle Name", "Phonetic Last Name",
    "Name Prefix", "Name Suffix", "Nickname", "File As", "Organization Name", "Organization Title",
    "Organization Department", "Birthday", "Notes", "Photo", "Labels",
)
GOOGLE_ADDRESS_PARTS: tuple[str, ...] = ("Label", "Formatted", "Street", "City", "PO Box", "Region", "Postal Code",
                                         "Country", "Extended Address")
GOOGLE_PHONE_LABELS = {"work": "Work", "home": "Home", "mobile": "Mobile", "fax": "Work Fax", "pager": "Pager",
                       "other": "Other"}
GOOGLE_PLACE_LABELS = {"work": "Work", "home": "Home", "other": "Other"}
GOOGLE_DEFAULT_LABELS = "* myContacts"

THUNDERBIRD: tuple[str, ...] = (
    "First Name", "Last Name", "Display Name", "Nickname", "Primary Email", "Secondary Email", "Screen Name",
    "Work Phone", "Home Phone", "Fax Number", "Pager Number", "Mobile Number", "Home Address", "Home Address 2",
    "Home City", "Home State", "Home ZipCode", "Home Country", "Work Address", "Work Address 2", "Work City",
    "Work State", "Work ZipCode", "Work Country", "Job Title", "Department", "Organization", "Web Page 1",
    "Web Page 2", "Birth Year", "Birth Month", "Birth Day", "Custom 1", "Custom 2", "Custom 3", "Custom 4", "Notes",
)
