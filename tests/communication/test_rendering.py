from __future__ import annotations

import time
from datetime import date

import pytest
from jinja2.sandbox import SecurityError
from jinja2.exceptions import UndefinedError

from kundenakte.plugins.communication import rendering
from kundenakte.plugins.communication.rendering import (
    BASE_PLACEHOLDER_KEYS,
    PLACEHOLDERS,
    Placeholder,
    TemplateRenderError,
    build_context,
    context_keys,
    render,
    validate_template,
)

SECRET = "KA-SECRET-7f3e9c1d"
MODULE_SECRET = SECRET  # module global a template escape could reach through __globals__

CONTACT = {
    "gender": "female",
    "title": "Dr.",
    "first_name": "Anna",
    "last_name": "Müller",
    "language": "de",
    "email": "anna.mueller@example.de",
}
COMPANY = {"name": "Müller & Söhne GmbH", "street": "Hauptstraße 1", "postal_code": "80331", "city": "München"}
SENDER = {"name": "Max Mustermann", "email": "max@example.de", "phone": "+49 89 123456",
          "signature": "Max Mustermann\nVertrieb"}
TODAY = date(2026, 11, 27)


@pytest.fixture
def context() -> dict[str, dict[str, str]]:
    return build_context(CONTACT, COMPANY, SENDER, TODAY, {"vertrag": {"nummer": "V-2026-001"}})


@pytest.fixture(autouse=True)
def planted_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KA_TEST_SECRET", SECRET)
    monkeypatch.setattr(rendering, "KA_TEST_SECRET", SECRET, raising=False)


# --- Placeholders and context ------------------------------------------------------------------


def test_placeholder_catalogue() -> None:
    keys = [p.key for p in PLACEHOLDERS]
    assert len(keys) == len(set(keys))
    for key in ("kontakt.anrede", "kontakt.briefanrede", "kontakt.vorname", "kontakt.nachname",
                "kontakt.titel", "kontakt.email", "unternehmen.name", "unternehmen.strasse",
                "unternehmen.plz", "unternehmen.ort", "unternehmen.anschrift", "absender.name",
                "absender.email", "absender.telefon", "absender.signatur", "datum.heute",
                "datum.heute_lang"):
        assert key in BASE_PLACEHOLDER_KEYS
    for placeholder in PLACEHOLDERS:
        assert isinstance(placeholder, Placeholder)
        assert placeholder.key.count(".") == 1
        assert placeholder.label_de and placeholder.label_en and placeholder.group and placeholder.example


def test_build_context(context: dict[str, dict[str, str]]) -> None:
    assert BASE_PLACEHOLDER_KEYS <= context_keys(context)
    assert context["kontakt"]["anrede"] == "Frau Dr. Müller"
    assert context["kontakt"]["briefanrede"] == "Sehr geehrte Frau Dr. Müller,"
    assert context["kontakt"]["grussformel"] == "Mit freundlichen Grüßen"
    assert context["unternehmen"]["anschrift"] == "Müller & Söhne GmbH\nHauptstraße 1\n80331 München"
    assert context["absender"]["signatur"] == "Max Mustermann\nVertrieb"
    assert context["datum"] == {"heute": "27.11.2026", "heute_lang": "27. November 2026"}
    assert context["vertrag"] == {"nummer": "V-2026-001"}
    assert build_context(None, None, {}, date(2026, 3, 5), {})["datum"] == {
        "heute": "05.03.2026", "heute_lang": "5. März 2026"}


def test_build_context_without_contact_or_company() -> None:
    ctx = build_context(None, None, {}, TODAY, None)
    assert ctx["kontakt"]["briefanrede"] == "Sehr geehrte Damen und Herren,"
    assert ctx["kontakt"]["anrede"] == ""
    assert ctx["unternehmen"]["anschrift"] == ""
    assert all(isinstance(v, str) for group in ctx.values() for v in group.values())


def test_build_context_english_contact() -> None:
    ctx = build_context({**CONTACT, "language": "en"}, None, SENDER, TODAY, None)
    assert ctx["kontakt"]["briefanrede"] == "Dear Dr Müller,"
    assert ctx["kontakt"]["grussformel"] == "Kind regards"


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"kontakt": {"nachname": "X"}}, ValueError),  # plugins may not overwrite base values
        ({"__class__": {"a": "b"}}, ValueError),
        ({"vertrag": {"__init__": "b"}}, ValueError),
        ({"vertrag": {"nummer": 42}}, TypeError),
        ({"vertrag": {"nummer": object()}}, TypeError),
    ],
)
def test_build_context_rejects_bad_extra(extra: dict, error: type[Exception]) -> None:
    with pytest.raises(error):
        build_context(CONTACT, COMPANY, SENDER, TODAY, extra)


def test_render_refuses_non_string_context() -> None:
    with pytest.raises(TypeError):
        render("{{ a.b }}", {"a": {"b": object()}}, html=True)  # type: ignore[dict-item]
    with pytest.raises(TypeError):
        render("{{ a.b }}", {"a": "flat"}, html=True)  # type: ignore[dict-item]


# --- Validation --------------------------------------------------------------------------------

GOOD_TEMPLATE = """<p>{{ kontakt.briefanrede }}</p>
{% if kontakt.titel %}<p>Titel: {{ kontakt.titel }}</p>{% else %}<p>ohne Titel</p>{% endif %}
<p>{{ unternehmen.name|upper }} – {{ kontakt.vorname|default("Kunde") }} {{ vertrag.nummer }}</p>
{% for zeichen in kontakt.nachname %}{{ loop.index }}:{{ zeichen }} {% endfor %}
<p>{{ kontakt.grussformel }}<br>{{ absender.signatur }}</p>"""


def test_validate_accepts_normal_template(context: dict[str, dict[str, str]]) -> None:
    assert validate_template(GOOD_TEMPLATE, context_keys(context)) == []


def test_validate_reports_unknown_placeholders_with_line(context: dict[str, dict[str, str]]) -> None:
    errors = validate_template("Hallo\n{{ kontakt.nachname }} {{ kontakt.geburtstag }}\n{{ vertrg.nummer }}",
                               context_keys(context))
    assert errors == [
        "Zeile 2: Unbekannter Platzhalter {{ kontakt.geburtstag }}.",
        "Zeile 3: Unbekannter Platzhalter {{ vertrg.nummer }}.",
    ]


def test_validate_reports_syntax_error_with_line() -> None:
    errors = validate_template("a\nb\n{% if kontakt.nachname %}offen", BASE_PLACEHOLDER_KEYS)
    assert len(errors) == 1
    assert errors[0].startswith("Syntaxfehler in Zeile 3")


def test_validate_refuses_deep_nesting_and_too_long_templates() -> None:
    assert validate_template("{{ kontakt.nachname.x }}", BASE_PLACEHOLDER_KEYS)
    nested = "{% for a in kontakt.nachname %}{% for b in kontakt.nachname %}{% for c in kontakt.nachname %}" \
             "{% endfor %}{% endfor %}{% endfor %}"
    assert any("verschachtelt" in e for e in validate_template(nested, BASE_PLACEHOLDER_KEYS))
    too_long = "x" * (rendering.MAX_TEMPLATE_CHARS + 1)
    assert validate_template(too_long, BASE_PLACEHOLDER_KEYS)[0].startswith("Die Vorlage ist zu lang")


def test_validate_loop_variables_are_local() -> None:
    assert validate_template("{% for a in kontakt.nachname %}{{ a }}{% endfor %}", BASE_PLACEHOLDER_KEYS) == []
    assert validate_template("{% for a in kontakt.nachname %}{% endfor %}{{ a }}", BASE_PLACEHOLDER_KEYS)
    assert validate_template("{% for a in kontakt.nachname %}{{ loop.cycle }}{% endfor %}", BASE_PLACEHOLDER_KEYS)


# --- Rendering ---------------------------------------------------------------------------------


def test_render_html(context: dict[str, dict[str, str]]) -> None:
    html = render(GOOD_TEMPLATE, context, html=True)
    assert "<p>Sehr geehrte Frau Dr. Müller,</p>" in html
    assert "<p>Titel: Dr.</p>" in html
    assert "MÜLLER &amp; SÖHNE GMBH – Anna V-2026-001" in html
    assert "1:M 2:ü 3:l 4:l 5:e 6:r" in html
    assert "Max Mustermann<br>\nVertrieb" in html


def test_render_html_escapes_values(context: dict[str, dict[str, str]]) -> None:
    context["kontakt"]["nachname"] = '<script>alert("x")</script>'
    html = render("<b>{{ kontakt.nachname }}</b>", context, html=True)
    assert html == "<b>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</b>"


def test_render_subject_is_single_line(context: dict[str, dict[str, str]]) -> None:
    context["kontakt"]["nachname"] = "Müller\r\nBcc: evil@example.com"
    subject = render("Angebot für {{ kontakt.nachname }}\n{{ unternehmen.anschrift }}", context, html=False)
    assert "\r" not in subject and "\n" not in subject
    assert subject == "Angebot für Müller Bcc: evil@example.com Müller & Söhne GmbH Hauptstraße 1 80331 München"


def test_render_plain_text_body_keeps_lines(context: dict[str, dict[str, str]]) -> None:
    text = render("{{ kontakt.briefanrede }}\n\n{{ absender.signatur }}", context, html=False,
                  single_line_output=False)
    assert text == "Sehr geehrte Frau Dr. Müller,\n\nMax Mustermann\nVertrieb"


def test_render_reports_unknown_placeholder_in_german(context: dict[str, dict[str, str]]) -> None:
    with pytest.raises(TemplateRenderError) as info:
        render("{{ kontakt.gibtsnicht }}", context, html=True)
    assert "Unbekannter Platzhalter" in str(info.value)


def test_render_replace_filter_is_capped(context: dict[str, dict[str, str]]) -> None:
    assert render("{{ kontakt.nachname|replace('ü', 'ue') }}", context, html=False) == "Mueller"
    bomb = "{{ 'xx'" + "|replace('x', 'xxxxxxxx')" * 12 + " }}"
    with pytest.raises(TemplateRenderError):
        render(bomb, context, html=False)


def test_render_output_cap(context: dict[str, dict[str, str]]) -> None:
    context["kontakt"]["nachname"] = "x" * 5_000
    context["absender"]["signatur"] = "y" * 5_000
    start = time.monotonic()
    with pytest.raises(TemplateRenderError) as info:
        render("{% for c in kontakt.nachname %}{{ absender.signatur }}{% endfor %}", context, html=True)
    assert "zu lang" in str(info.value)
    assert time.monotonic() - start < 2
    with pytest.raises(TemplateRenderError):
        render("{{ kontakt.nachname }}", context, html=True, max_chars=100)


def test_render_loop_budget(context: dict[str, dict[str, str]]) -> None:
    # Loops without any output never hand control back to the output loop in render().
    context["kontakt"]["nachname"] = "x" * 50_000
    start = time.monotonic()
    with pytest.raises(TemplateRenderError) as info:
        render("{% for a in kontakt.nachname %}{% for b in kontakt.nachname %}{% endfor %}{% endfor %}",
               context, html=True)
    assert "Schleifendurchläufe" in str(info.value)
    assert time.monotonic() - start < 2


def test_render_timeout(context: dict[str, dict[str, str]]) -> None:
    with pytest.raises(TemplateRenderError) as info:
        render("{% for c in kontakt.nachname %}{{ c }}{% endfor %}", context, html=True, timeout_s=0)
    assert "Zeitlimit" in str(info.value)


# --- Injection payloads ------------------------------------------------------------------------

PAYLOADS = [
    "{{ ''.__class__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    '{{ "%s"|format(x) }}',
    '{{ "%s"|format(kontakt.nachname) }}',
    '{{ x|attr("__class__") }}',
    '{{ kontakt|attr("__class__") }}',
    "{{ self }}",
    "{{ self._TemplateReference__context }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ lipsum.__globals__ }}",
    "{{ lipsum.__globals__['os'].environ }}",
    "{{ joiner }}{{ namespace }}{{ range }}",
    "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}",
    '{{ "x" * 100000000 }}',
    "{{ 10 ** 10 ** 10 }}",
    "{{ '%s' % kontakt.nachname }}",
    "{{ kontakt.nachname|safe }}",
    "{{ kontakt.nachname|map('upper')|list }}",
    "{{ kontakt.items() }}",
    "{{ kontakt.items }}",
    "{{ kontakt['__class__'] }}",
    "{{ kontakt.nachname.__class__.__base__ }}",
    "{{ kontakt.nachname.format }}",
    "{% set x = kontakt %}{{ x }}",
    "{% include 'os' %}",
    "{% extends 'base.html' %}",
    "{% import 'os' as os %}",
    "{% from 'os' import environ %}",
    "{% macro m() %}{{ caller }}{% endmacro %}",
    "{% filter upper %}x{% endfilter %}",
    "{% with a = kontakt %}{{ a }}{% endwith %}",
    "{% autoescape false %}{{ kontakt.nachname }}{% endautoescape %}",
    "{% for a in kontakt.nachname recursive %}{{ loop(a) }}{% endfor %}",
    "{{ config }}{{ request }}",
    "{{ {'a': 1} }}",
]


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("html", [True, False])
def test_injection_payloads_are_refused(payload: str, html: bool, context: dict[str, dict[str, str]]) -> None:
    errors = validate_template(payload, context_keys(context))
    assert errors, payload
    assert all(SECRET not in e for e in errors)
    start = time.monotonic()
    with pytest.raises(TemplateRenderError) as info:
        render(payload, context, html=html)
    assert time.monotonic() - start < 2
    message = str(info.value)
    assert SECRET not in message


def test_sandbox_blocks_escapes_even_without_the_checker(context: dict[str, dict[str, str]]) -> None:
    """Defence in depth: the environment itself is safe if the structural check had a hole."""
    env = rendering._build_environment(html=True)
    assert env.globals == {}
    for source in ("{{ ''.__class__ }}", "{{ kontakt.__class__ }}", "{{ kontakt.items }}",
                   "{{ lipsum }}", "{{ self._TemplateReference__context }}"):
        try:
            output = env.from_string(source).render(context)
        except (SecurityError, UndefinedError):
            continue
        assert SECRET not in output and "class" not in output and "method" not in output, source
    for source in ('{{ "x" * 100000000 }}', "{{ 2 ** 1000000 }}", "{{ '%s' % 'a' }}", "{{ 'a' + 'b' }}"):
        start = time.monotonic()
        with pytest.raises(SecurityError):
            env.from_string(source).render()
        assert time.monotonic() - start < 1
    with pytest.raises(SecurityError):
        env.from_string("{{ kontakt.nachname.upper() }}").render(context)
