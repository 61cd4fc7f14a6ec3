"""Salutations and closings for letters and e-mails.

Recipients are plain dicts so this module works without the database; every key is optional:

    {"gender": "female" | "male" | "diverse" | "unknown",
     "title": "Dr." | "Prof. Dr." | "",
     "first_name": str, "last_name": str,
     "language": "de" | "en",
     "salutation_override": str}

Gender-neutral forms ("Guten Tag Alex Berger") are used for diverse and unknown gender, because a
wrongly gendered salutation is worse than a neutral one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

SUPPORTED_LANGUAGES = ("de", "en")
DEFAULT_LANGUAGE = "de"

_GENERIC_LETTER = {"de": "Sehr geehrte Damen und Herren,", "en": "Dear Sir or Madam,"}
_CLOSING = {"de": "Mit freundlichen Grüßen", "en": "Kind regards"}
_SHORT_GENDERED = {
    "de": {"female": "Frau", "male": "Herr"},
    # British business usage writes "Ms"/"Mr" without a full stop; "Ms" because marital status
    # is none of the sender's business.
    "en": {"female": "Ms", "male": "Mr"},
}
_NEUTRAL_LETTER = {"de": "Guten Tag", "en": "Dear"}

# German academic titles mapped to their English form of address; English convention replaces the
# Mr/Ms with the title instead of stacking both ("Dear Dr Müller", never "Dear Ms Dr Müller").
_ENGLISH_TITLES = (
    (re.compile(r"\bprof", re.IGNORECASE), "Professor"),
    (re.compile(r"\bdr", re.IGNORECASE), "Dr"),
)

_WHITESPACE = re.compile(r"\s+")


def _text(recipient: Mapping[str, Any], key: str) -> str:
    # Values end up in mail subjects and headers, so line breaks and runs of whitespace must not
    # survive even if the contact record contains them.
    value = recipient.get(key)
    if not isinstance(value, str):
        return ""
    return _WHITESPACE.sub(" ", value).strip()


def _resolve_language(recipient: Mapping[str, Any] | None, language: str | None) -> str:
    chosen = language or (_text(recipient, "language").lower() if recipient else "")
    return chosen if chosen in SUPPORTED_LANGUAGES else DEFAULT_LANGUAGE


def _gender(recipient: Mapping[str, Any]) -> str:
    gender = _text(recipient, "gender").lower()
    return gender if gender in ("female", "male") else "neutral"


def _english_title(title: str) -> str:
    for pattern, replacement in _ENGLISH_TITLES:
        if pattern.search(title):
            return replacement
    return title.replace(".", "")


def _name_phrase(recipient: Mapping[str, Any], language: str) -> str:
    """The part after "Frau"/"Dear": title and name in the language's customary form."""
    title = _text(recipient, "title")
    first = _text(recipient, "first_name")
    last = _text(recipient, "last_name")
    gender = _gender(recipient)
    if language == "en":
        if title and last:
            return f"{_english_title(title)} {last}"
        if gender != "neutral" and last:
            return f"{_SHORT_GENDERED['en'][gender]} {last}"
        return " ".join(part for part in (first, last) if part)
    if gender != "neutral" and last:
        return " ".join(part for part in (_SHORT_GENDERED["de"][gender], title, last) if part)
    if not (first or last):
        return ""
    return " ".join(part for part in (title, first, last) if part)


def short_salutation(recipient: Mapping[str, Any] | None, *, language: str | None = None) -> str:
    """Form of address for running text, e.g. "Frau Dr. Müller", "Herr Schmidt", "Alex Berger".

    Used as ``{{ kontakt.anrede }}``. Returns "" when there is nobody to address by name.
    ``language`` defaults to the recipient's own language, then German.
    """
    if not recipient:
        return ""
    return _name_phrase(recipient, _resolve_language(recipient, language))


def letter_salutation(recipient: Mapping[str, Any] | None, *, language: str | None = None) -> str:
    """Opening line of a letter including the trailing comma.

    "Sehr geehrte Frau Dr. Müller," / "Sehr geehrter Herr Schmidt," / "Guten Tag Alex Berger," /
    "Sehr geehrte Damen und Herren,"; in English "Dear Dr Müller," / "Dear Ms Müller," /
    "Dear Alex Berger," / "Dear Sir or Madam,". A non-blank ``salutation_override`` is returned
    verbatim. ``language`` defaults to the recipient's own language, then German.
    """
    lang = _resolve_language(recipient, language)
    if not recipient:
        return _GENERIC_LETTER[lang]
    override = recipient.get("salutation_override")
    if isinstance(override, str) and override.strip():
        return override
    phrase = _name_phrase(recipient, lang)
    if not phrase:
        return _GENERIC_LETTER[lang]
    gender = _gender(recipient)
    has_surname = bool(_text(recipient, "last_name"))
    if gender != "neutral" and has_surname:
        if lang == "en":
            return f"Dear {phrase},"
        # _name_phrase already starts with "Frau"/"Herr"; only the adjective differs by gender.
        opening = "Sehr geehrte" if gender == "female" else "Sehr geehrter"
        return f"{opening} {phrase},"
    return f"{_NEUTRAL_LETTER[lang]} {phrase},"


def closing(language: str | None = None) -> str:
    """Complimentary close without trailing comma: "Mit freundlichen Grüßen" / "Kind regards"."""
    lang = language if language in SUPPORTED_LANGUAGES else DEFAULT_LANGUAGE
    return _CLOSING[lang]
