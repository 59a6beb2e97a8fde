"""Forms that move a rectification task: its settings, progress, close, reopen, edit."""

from __future__ import annotations

from marshmallow import fields, validate

from ..schemas import DATE_ERRORS, TEXT, _Form


class TaskSpecSchema(_Form):
    """What the reviewer sets for a task opened from one failed item."""

    deadline = fields.Date(load_default=None, error_messages=DATE_ERRORS)
    responsible_person = fields.String(load_default="", validate=validate.Length(max=64, error="最多64字。"))
    problem = fields.String(load_default="", validate=TEXT)


class ProgressSchema(_Form):
    """The school's progress on a task, optionally asking for closure."""

    note = fields.String(load_default="", validate=TEXT)
    request_closure = fields.Boolean(load_default=False)


class CloseSchema(_Form):
    """The bureau closes a task."""

    note = fields.String(load_default="", validate=TEXT)


class ReopenSchema(_Form):
    """The bureau sends a task back to 整改中."""

    note = fields.String(load_default="", validate=TEXT)
    deadline = fields.Date(load_default=None, error_messages=DATE_ERRORS)


class EditTaskSchema(TaskSpecSchema):
    """The bureau changes a task's deadline, responsible person or description."""
