"""Groups: the rules (unique name, a known parent, never its own ancestor) live in ``core/users.py``."""

from __future__ import annotations

from kundenakte.core.users import (
    add_members,
    allowed_parents,
    create_group,
    group_descendants,
    group_errors,
    remove_members,
    save_group,
    set_group_parent,
)

__all__ = ["add_members", "allowed_parents", "create_group", "group_descendants", "group_errors", "remove_members",
           "save_group", "set_group_parent"]
