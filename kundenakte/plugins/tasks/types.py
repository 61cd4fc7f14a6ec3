"""The task document type."""

from kundenakte.core.doctypes import Choice, DocumentType, Field, Status

PRIORITIES = (Choice("low", "niedrig", "low"), Choice("normal", "normal", "normal"), Choice("high", "hoch", "high"))

TASK = DocumentType(
    key="task",
    label="Aufgabe",
    label_en="Task",
    category="tasks",
    fields=(
        Field("due", "date", "Fällig am", "Due", in_list=True),
        Field("priority", "choice", "Priorität", "Priority", choices=PRIORITIES, default="normal", in_list=True),
        Field("description", "longtext", "Beschreibung", "Description", searchable=True),
    ),
    statuses=(Status("open", "offen", "open"), Status("done", "erledigt", "done", closed=True)),
    retention_days=3650,
    due_field="due",
    icon="check",
    menu_order=200,
)
