"""The render budget (budget.py): every operator that builds a string is charged before it builds it.

Each bomb below would build megabytes to gigabytes of text without the budget. They are rendered
twice: through ``render`` (checker + sandbox) and straight through the sandbox environment, as if
the structural checker had a hole; either way the render stops early and allocates little.
"""

from __future__ import annotations

import time
import tracemalloc
from datetime import date

import pytest
from jinja2 import TemplateError
from jinja2.sandbox import SecurityError

from kundenakte.core.doctypes import ValidationError
from kundenakte.plugins.communication import budget, rendering
from kundenakte.plugins.communication import templates_service as svc
from kundenakte.plugins.communication.rendering import (
    TemplateRenderError,
    build_context,
    render,
    sample_context,
    trial_render,
)

# Peak Python allocation a refused render may reach (the budget is 2 M characters, ≤ 8 MB).
PEAK_LIMIT = 40 * 1024 * 1024
CONTACT = {"gender": "female", "title": "Dr.", "first_name": "Anna", "last_name": "Müller", "language": "de",
           "email": "anna.mueller@example.de"}
COMPANY = {"name": "Müller & Söhne GmbH", "street": "Hauptstraße 1", "postal_code": "80331", "city": "München"}
SENDER = {"name": "Max Mustermann", "email": "max@example.de", "phone": "+49 89 1", "signature": "Max\nVertrieb"}


def concat_bomb(repeat: int = 40, items: int = 30) -> str:
    """Two loops over list literals of long ``~`` chains: the output of one {{ }} is repeat³·items²."""
    chain = "~".join(["kontakt.briefanrede"] * repeat)
    outer = "[" + ",".join([chain] * items) + "]"
    inner = "[" + ",".join(["~".join(["a"] * repeat)] * items) + "]"
    out = "~".join(["b"] * repeat)
    return "{% for a in " + outer + " %}{% for b in " + inner + " %}{{ " + out + " }}{% endfor %}{% endfor %}"


S1 = "~".join(["kontakt.briefanrede"] * 10)  # ~300 characters per evaluation


def nested(expression: str) -> str:
    """``b`` is ~18,000 characters, evaluated 25 times: any expression over it is a bomb."""
    outer = "[" + ",".join([S1] * 5) + "]"
    inner = "[" + ",".join(["~".join(["a"] * 60)] * 5) + "]"
    return "{% for a in " + outer + " %}{% for b in " + inner + " %}" + expression + "{% endfor %}{% endfor %}"


BOMBS = {
    "concat in nested loops": concat_bomb(repeat=20, items=8),
    "concat of b": nested("{{ " + "~".join(["b"] * 40) + " }}"),
    "replace chain": "{{ 'xx'" + "|replace('x', 'xxxxxxxx')" * 12 + " }}",
    "replace growing b": nested("{{ b|replace('e', '" + "e" * 100 + "') }}"),
    "replace with empty needle": nested("{{ b|replace('', 'yyyyyyyyyy') }}"),
    "upper": nested("{{ (b ~ b ~ b ~ b ~ b ~ b ~ b ~ b)|upper }}"),
    "title/capitalize/lower/trim": nested("{{ (b ~ b)|title|capitalize|lower|trim }}"),
    "truncate with a long end": nested("{{ kontakt.anrede|truncate(10000000, true, b ~ b ~ b ~ b) }}"),
    "list literal printed": nested("{{ [b, b, b, b, b, b, b, b, b, b] }}"),
    "list in concat": nested("{{ [b, b, b, b, b, b] ~ '' }}"),
    "default argument": nested("{{ ''|default(b ~ b ~ b ~ b ~ b ~ b ~ b ~ b) }}"),
    "if test on concat": nested("{% if (b ~ b ~ b ~ b ~ b ~ b ~ b ~ b) == kontakt.anrede %}x{% endif %}"),
    "loop over a long string": "{% for a in " + S1 + " %}{% for c in " + S1 + " %}{% endfor %}{% endfor %}",
    "loop.length over a long string": "{% for a in " + S1 + " %}{% for c in " + S1 + " %}{{ loop.length }}"
    "{% endfor %}{% endfor %}",
}
# Operators that do not exist in the sandbox at all: refused before anything is built.
ABSENT = {
    "* repetition": "{{ kontakt.anrede * 100000000 }}",
    "+ concatenation": "{{ kontakt.anrede + kontakt.anrede }}",
    "% formatting": "{{ '%s%s' % (kontakt.anrede, kontakt.anrede) }}",
    "range with huge bounds": "{% for a in range(1000000000) %}x{% endfor %}",
    "join": "{{ [kontakt.anrede, kontakt.anrede]|join(kontakt.anrede) }}",
    "center": "{{ kontakt.anrede|center(1000000000) }}",
    "format": "{{ '%s'|format(kontakt.anrede) }}",
    "indent": "{{ kontakt.anrede|indent(1000000000) }}",
    "wordwrap": "{{ kontakt.anrede|wordwrap(1) }}",
}


@pytest.fixture
def context() -> dict[str, dict[str, str]]:
    return build_context(CONTACT, COMPANY, SENDER, date(2026, 11, 27))


def _peak(run) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    tracemalloc.start()
    started = time.monotonic()
    try:
        run()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak, time.monotonic() - started


@pytest.mark.parametrize("name", sorted(BOMBS))
@pytest.mark.parametrize("html", [True, False])
def test_bombs_are_stopped_while_building(name: str, html: bool, context: dict[str, dict[str, str]]) -> None:
    source = BOMBS[name]
    assert len(source) <= rendering.MAX_TEMPLATE_CHARS
    assert rendering.validate_template(source, rendering.context_keys(context)) == [], name

    def through_render() -> None:
        with pytest.raises(TemplateRenderError) as info:
            render(source, context, html=html, max_chars=10**12, timeout_s=30)
        message = str(info.value)
        assert "zu viel Text" in message or "Schleifendurchläufe" in message, message

    peak, seconds = _peak(through_render)
    assert peak < PEAK_LIMIT, f"{name}: {peak / 1e6:.1f} MB"
    assert seconds < 10

    # Without the checker: the environment alone stops it too.
    env = rendering._build_environment(html=html)

    def through_environment() -> None:
        with pytest.raises(budget.LimitExceeded):
            env.from_string(source).render(context)

    peak, _seconds = _peak(through_environment)
    assert peak < PEAK_LIMIT, f"{name} (environment): {peak / 1e6:.1f} MB"


@pytest.mark.parametrize("name", sorted(ABSENT))
def test_absent_operators_build_nothing(name: str, context: dict[str, dict[str, str]]) -> None:
    source = ABSENT[name]
    assert rendering.validate_template(source, rendering.context_keys(context)), name
    with pytest.raises(TemplateRenderError):
        render(source, context, html=True)
    env = rendering._build_environment(html=True)
    started = time.monotonic()
    with pytest.raises((SecurityError, TemplateError)):
        env.from_string(source).render(context)
    assert time.monotonic() - started < 1


def test_budget_counts_what_is_built() -> None:
    with budget.active(budget.RenderBudget(max_chars=1_000)) as spent:
        env = rendering._build_environment(html=False)
        assert env.from_string("{{ a.b ~ a.b }}").render(a={"b": "x" * 100}) == "x" * 200
        assert spent.chars == 200
        with pytest.raises(budget.LimitExceeded):
            env.from_string("{{ a.b ~ a.b ~ a.b ~ a.b ~ a.b }}").render(a={"b": "x" * 200})
    # 1,000 allowed, 200 spent before: 1,000 more would exceed it, nothing of it was built.
    assert spent.chars == 1_200


def test_html_escaping_and_line_breaks_are_charged() -> None:
    env = rendering._build_environment(html=True)
    with budget.active(budget.RenderBudget()) as spent:
        assert env.from_string("{{ a.b }}").render(a={"b": '<&>"\n'}) == "&lt;&amp;&gt;&#34;<br>\n"
    assert spent.chars >= len("&lt;&amp;&gt;&#34;\n")


def test_normal_templates_still_render(context: dict[str, dict[str, str]]) -> None:
    letter = ("<p>{{ kontakt.briefanrede }}</p><p>{{ unternehmen.name|upper }} – {{ kontakt.vorname ~ ' ' ~ "
              "kontakt.nachname }}</p>{% for c in kontakt.nachname %}{{ loop.index }}{{ c }}{% endfor %}"
              "<p>{{ absender.signatur }}</p><p>{{ kontakt.titel|default('ohne') }} {{ 'Ab'|lower|title }}</p>")
    html = render(letter, context, html=True)
    assert "MÜLLER &amp; SÖHNE GMBH – Anna Müller" in html
    assert "1M2ü3l4l5e6r" in html and "Max<br>\nVertrieb" in html and "Dr. Ab" in html
    assert render("{{ kontakt.anrede ~ ', ' ~ unternehmen.ort }}", context, html=False) == "Frau Dr. Müller, München"
    assert trial_render(letter, html=True) == []


def test_sample_context_is_realistic() -> None:
    context = sample_context({"vertrag.nummer": "V-1", "vertrag.leer": ""})
    assert context["kontakt"]["briefanrede"] == "Sehr geehrte Frau Dr. Müller,"
    assert context["vertrag"] == {"nummer": "V-1", "leer": "Beispiel"}
    assert rendering.BASE_PLACEHOLDER_KEYS <= rendering.context_keys(context)


def test_bomb_refused_when_saved(ka, people) -> None:  # type: ignore[no-untyped-def]
    values = {"name": "Bombe", "base_type": "email", "readers": ["*"], "subject": "Hallo",
              "body": "<p>" + concat_bomb() + "</p>"}
    with ka.db.write() as s, pytest.raises(ValidationError) as info:
        svc.save_template(ka, s, people.viewer("owner"), values)
    message = info.value.errors["body"]
    assert message.startswith("Inhalt: Die Vorlage erzeugt beim Ausfüllen zu viel Text"), message
    # A plain-text field is tried as text, with the same budget.
    with ka.db.write() as s, pytest.raises(ValidationError) as info:
        svc.save_template(ka, s, people.viewer("owner"), {**values, "body": "<p>x</p>", "subject": concat_bomb()})
    assert "zu viel Text" in info.value.errors["subject"]
    with ka.db.write() as s:
        assert svc.save_template(ka, s, people.viewer("owner"), {**values, "body": "<p>{{ kontakt.anrede }}</p>"}).id
