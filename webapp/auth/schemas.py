"""Validation of the sign-in form."""

from marshmallow import EXCLUDE, Schema, fields, validate


class LoginSchema(Schema):
    """Username and password, both required."""

    class Meta:
        unknown = EXCLUDE  # the form also carries csrf_token

    username = fields.String(
        required=True,
        validate=validate.Length(min=1, max=64, error="请输入用户名。"),
        error_messages={"required": "请输入用户名。"},
    )
    password = fields.String(
        required=True,
        validate=validate.Length(min=1, max=128, error="请输入密码。"),
        error_messages={"required": "请输入密码。"},
    )
    next = fields.String(load_default="")
