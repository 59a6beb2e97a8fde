"""security: password change at first sign-in; the audit log refuses DELETE too (issue 9)

Revision ID: c7000000c0de
Revises: b5000000c0de
Create Date: 2026-11-30 02:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7000000c0de'
down_revision = 'b5000000c0de'
branch_labels = None
depends_on = None

NO_DELETE_SQLITE = """
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END
"""
# The function audit_log_append_only() (it only raises) comes with b5000000c0de.
NO_DELETE_PG = [
    """
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()
    """,
    """
    CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()
    """,
]


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('must_change_password', sa.Boolean(), nullable=False, server_default=sa.false())
        )
    if op.get_bind().dialect.name == 'postgresql':
        for statement in NO_DELETE_PG:
            op.execute(statement)
    else:
        op.execute(NO_DELETE_SQLITE)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log')
        op.execute('DROP TRIGGER IF EXISTS audit_log_no_delete ON audit_log')
    else:
        op.execute('DROP TRIGGER IF EXISTS audit_log_no_delete')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('must_change_password')
