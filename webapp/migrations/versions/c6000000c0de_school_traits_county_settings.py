"""school types and traits, county settings (issue 8)

Revision ID: c6000000c0de
Revises: b5000000c0de
Create Date: 2026-11-30 01:40:00

A school's type may now be twelve_year or complete_secondary (longer codes), it
has a set of traits (集团核心校, 乡镇中心校, 有校车 …) and a county keeps the values
of its pack's county settings (验收年份 …). Boarding schools get the trait
``boarding`` so the two stay in step.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c6000000c0de'
down_revision = 'b5000000c0de'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('schools', schema=None) as batch_op:
        batch_op.alter_column('stage', existing_type=sa.String(length=16), type_=sa.String(length=24),
                              existing_nullable=False)
        batch_op.add_column(sa.Column('traits', sa.JSON(), nullable=False, server_default='[]'))
    with op.batch_alter_table('counties', schema=None) as batch_op:
        batch_op.add_column(sa.Column('settings', sa.JSON(), nullable=False, server_default='{}'))
    schools = sa.table('schools', sa.column('traits', sa.JSON), sa.column('is_boarding', sa.Boolean))
    op.execute(schools.update().where(schools.c.is_boarding.is_(True)).values(traits=['boarding']))


def downgrade():
    with op.batch_alter_table('counties', schema=None) as batch_op:
        batch_op.drop_column('settings')
    with op.batch_alter_table('schools', schema=None) as batch_op:
        batch_op.drop_column('traits')
        # Schools of the new types would not fit the old column: the downgrade refuses them.
        batch_op.alter_column('stage', existing_type=sa.String(length=24), type_=sa.String(length=16),
                              existing_nullable=False)
