"""Validation of the sign-in form."""

from marshmallow import EXCLUDE, Schema, fields, validate


class LoginSchema(Schema):
    """Username and password, both required."""

    class Meta:
        unknown = EXCLUDE  # the form also carries csrf_token

    username = fields.String(
        required=True,
        validate=[
            validate.Length(min=1, error="请输入用户名。"),
            validate.Length(max=64, error="用户名最多64个字符。"),  # not "请输入", which said it was empty
        ],
        error_messages={"required": "请输入用户名。"},
    )
    password = fields.String(
        required=True,
        validate=[validate.Length(min=1, error="请输入密码。"), validate.Length(max=128, error="密码最多128个字符。")],
        error_messages={"required": "请输入密码。"},
    )
    next = fields.String(load_default="")
