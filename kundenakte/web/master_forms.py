"""The POST half of the contact and company forms: check, save through the service, commit, say so."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue

from kundenakte.web.context import db

Checked = tuple[dict[str, Any], dict[str, Any], dict[str, str]]


def save_form(
    check: Callable[[Mapping[str, str]], Checked],
    page: Callable[[Any, dict[str, Any], dict[str, str]], ResponseReturnValue],
    row: Any,
    write: Callable[[dict[str, Any]], Any],
    done: Callable[[Any], str],
    endpoint: str,
    id_arg: str,
) -> ResponseReturnValue:
    """``check`` the posted form; with errors ``page`` shows it again as typed (422), else ``write``
    saves it through the service, the request commits, ``done`` words the flash message and the
    browser goes to ``endpoint`` of the saved row."""
    shown, values, errors = check(request.form)
    if errors:
        return page(row, shown, errors)
    saved = write(values)
    db().commit()
    flash(done(saved), "success")
    return redirect(url_for(endpoint, **{id_arg: saved.id}))
