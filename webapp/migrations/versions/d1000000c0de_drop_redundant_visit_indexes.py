"""drop indexes the unique constraints already cover: item_results.visit_id and photos.visit_id (issue 10)

A visit's results and photos are found through ``uq_item_results_visit_id_item_id`` and
``uq_photos_visit_id_sha256``, whose first column is ``visit_id``; the single-column indexes only cost
every sync one more index entry per result.

Revision ID: d1000000c0de
Revises: c7000000c0de
Create Date: 2026-11-30 10:40:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd1000000c0de'
down_revision = 'c7000000c0de'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('item_results', schema=None) as batch_op:
        batch_op.drop_index('ix_item_results_visit_id')
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.drop_index('ix_photos_visit_id')


def downgrade():
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.create_index('ix_photos_visit_id', ['visit_id'], unique=False)
    with op.batch_alter_table('item_results', schema=None) as batch_op:
        batch_op.create_index('ix_item_results_visit_id', ['visit_id'], unique=False)
