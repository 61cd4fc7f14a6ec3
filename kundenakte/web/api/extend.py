"""The small API surface for plugins that bring JSON API operations (``register_api_operations``).

A plugin imports from here only, never from the API's other modules::

    from kundenakte.web.api.extend import ApiOperation, Model, Prop, created, document_json, read_json

Views run after the token check with the same request context as the core's operations:
``viewer()`` is the token's user, ``db()`` the request's session. Raise ``not_found()`` for
anything the viewer may not see and ``ApiError``/``error(status)`` for other answers; validation
errors of ``Model.validate`` become 422 with every field error.
"""

from __future__ import annotations

from kundenakte.web.api.auth import error, not_found
from kundenakte.web.api.openapi import ApiOperation
from kundenakte.web.api.resources import created, document_json, read_json, ts
from kundenakte.web.api.schemas import ApiError, Model, Param, Prop
from kundenakte.web.context import current_ka, db, viewer

__all__ = ["ApiError", "ApiOperation", "Model", "Param", "Prop", "created", "current_ka", "db", "document_json",
           "error", "not_found", "read_json", "ts", "viewer"]
