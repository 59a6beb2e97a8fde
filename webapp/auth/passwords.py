"""The password rule, one for every place a password is set (user import, admin reset, self change).

At least 10 characters, at least 3 of the 4 classes (lower case, upper case, digits, other), not the user name
(nor containing it), not one of the commonly guessed passwords. Messages are Chinese, one per broken rule.
"""

from __future__ import annotations

MIN_LENGTH = 10
MAX_LENGTH = 128
#: Guessed first (leaked-password lists, and what Chinese users pick: pinyin, dates, keyboard rows).
COMMON = frozenset(
    p.lower()
    for p in """
    password password1 password123 passw0rd p@ssw0rd p@ssword123 qwerty qwerty123 qwertyuiop 1qaz2wsx 1q2w3e4r
    1q2w3e4r5t qazwsx123 zxcvbnm asdfghjkl 123456 1234567 12345678 123456789 1234567890 0123456789 987654321
    111111 11111111 000000 00000000 88888888 66666666 666666 888888 123123 123123123 abc123 abc12345 abcd1234
    a1234567 a12345678 aa123456 iloveyou admin admin123 admin@123 admin12345 root123 welcome welcome1
    woaini woaini1314 woaini520 5201314 520520 1314520 wangyi123 zhang123 wang123456 li123456 aini1314
    demo1234 changeme letmein monkey dragon sunshine football baseball superman trustno1 master
    Aa123456 Aa123456789 Abc123456 Abc@123 Abcd@1234 Admin@123 Admin@12345 P@ssw0rd P@ssw0rd1 Qwer1234
    Qwer@1234 Passw0rd! Password1! Password@1 Welcome@1 Welcome123 Huawei@123 Huawei12#$ Changeme123
    dudao123 Dudao@123 Dudao@2024 Dudao@2025 Dudao@2026 duxue123 jiaoyu123 Jiaoyu@123
    """.split()
)


def _classes(password: str) -> int:
    lower = any(c.islower() for c in password)
    upper = any(c.isupper() for c in password)
    digit = any(c.isdigit() for c in password)
    other = any(not c.isalnum() for c in password)
    return lower + upper + digit + other


def problems(password: str, username: str = "") -> list[str]:
    """What is wrong with ``password`` for ``username`` (empty when it is acceptable)."""
    found = []
    if len(password) < MIN_LENGTH:
        found.append(f"密码至少{MIN_LENGTH}位。")
    if len(password) > MAX_LENGTH:
        found.append(f"密码最多{MAX_LENGTH}位。")
    if _classes(password) < 3:
        found.append("密码须包含小写字母、大写字母、数字、符号中的至少三类。")
    name = username.strip().lower()
    if name and (password.lower() == name or (len(name) >= 3 and name in password.lower())):
        found.append("密码不能包含用户名。")
    if password.lower() in COMMON or password.lower().rstrip("!@#.") in COMMON:
        found.append("该密码过于常见，容易被猜中，请换一个。")
    return found
