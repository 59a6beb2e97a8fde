"""bureau review, rectification tasks, audit log (issue 5)

Revision ID: b5000000c0de
Revises: a4000000c0de
Create Date: 2026-11-23 11:00:00

"""
from datetime import datetime, timedelta, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b5000000c0de'
down_revision = 'a4000000c0de'
branch_labels = None
depends_on = None

CHINA = timezone(timedelta(hours=8))


def _china_day(value):
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc).astimezone(CHINA).date()


def _backfill_visits():
    """Existing visits: their school's county and their day in China."""
    conn = op.get_bind()
    visits = sa.table(
        'visits',
        sa.column('id', sa.String), sa.column('school_id', sa.Integer), sa.column('county_id', sa.Integer),
        sa.column('visited_on', sa.Date), sa.column('first_recorded_at', sa.DateTime),
        sa.column('started_at', sa.DateTime), sa.column('planned_on', sa.Date), sa.column('created_at', sa.DateTime),
        sa.column('failed_count', sa.Integer),
    )
    schools = sa.table('schools', sa.column('id', sa.Integer), sa.column('county_id', sa.Integer))
    county_of = dict(conn.execute(sa.select(schools.c.id, schools.c.county_id)).all())
    rows = conn.execute(sa.select(
        visits.c.id, visits.c.school_id, visits.c.first_recorded_at, visits.c.started_at,
        visits.c.planned_on, visits.c.created_at,
    )).all()
    results = sa.table('item_results', sa.column('visit_id', sa.String), sa.column('outcome', sa.String))
    failed = dict(conn.execute(
        sa.select(results.c.visit_id, sa.func.count()).where(results.c.outcome == 'fail').group_by(results.c.visit_id)
    ).all())
    for row in rows:
        day = _china_day(row.first_recorded_at or row.started_at) or row.planned_on or _china_day(row.created_at)
        conn.execute(
            visits.update().where(visits.c.id == row.id).values(
                county_id=county_of[row.school_id], visited_on=day, failed_count=failed.get(row.id, 0)
            )
        )


APPEND_ONLY_SQLITE = """
CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END
"""
APPEND_ONLY_PG = [
    """
    CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$
    """,
    """
    CREATE TRIGGER audit_log_append_only BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()
    """,
]


def upgrade():
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('county_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('visited_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('review_round', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('failed_count', sa.Integer(), nullable=False, server_default='0'))
    _backfill_visits()
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.alter_column('county_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('visited_on', existing_type=sa.Date(), nullable=False)
        batch_op.create_foreign_key(batch_op.f('fk_visits_county_id_counties'), 'counties', ['county_id'], ['id'])
        batch_op.create_index('ix_visits_county_day', ['county_id', 'visited_on', 'id'], unique=False)

    op.create_table('reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.String(length=36), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('review_round', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_reviews_reviewer_id_users')),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_reviews_visit_id_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviews'))
    )
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reviews_visit_id'), ['visit_id'], unique=False)

    op.create_table('review_comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.String(length=96), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['review_id'], ['reviews.id'], name=op.f('fk_review_comments_review_id_reviews')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_comments')),
    sa.UniqueConstraint('review_id', 'item_id', name=op.f('uq_review_comments_review_id_item_id'))
    )

    op.create_table('rectification_tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('county_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.String(length=36), nullable=False),
    sa.Column('item_id', sa.String(length=96), nullable=False),
    sa.Column('concept', sa.String(length=96), nullable=False),
    sa.Column('section_id', sa.String(length=32), nullable=False),
    sa.Column('item_title', sa.String(length=200), nullable=False),
    sa.Column('problem', sa.Text(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('responsible_person', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('opened_by_id', sa.Integer(), nullable=False),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.Column('closure_requested_at', sa.DateTime(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_rectification_tasks_closed_by_id_users')),
    sa.ForeignKeyConstraint(['county_id'], ['counties.id'], name=op.f('fk_rectification_tasks_county_id_counties')),
    sa.ForeignKeyConstraint(['opened_by_id'], ['users.id'], name=op.f('fk_rectification_tasks_opened_by_id_users')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_rectification_tasks_school_id_schools')),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_rectification_tasks_visit_id_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rectification_tasks')),
    sa.UniqueConstraint('visit_id', 'item_id', name=op.f('uq_rectification_tasks_visit_id_item_id'))
    )
    with op.batch_alter_table('rectification_tasks', schema=None) as batch_op:
        batch_op.create_index('ix_rectification_tasks_county_state', ['county_id', 'state', 'deadline'], unique=False)
        batch_op.create_index('ix_rectification_tasks_school_item', ['school_id', 'item_id'], unique=False)

    op.create_table('rectification_updates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('visit_id', sa.String(length=36), nullable=True),
    sa.Column('device', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_rectification_updates_author_id_users')),
    sa.ForeignKeyConstraint(['task_id'], ['rectification_tasks.id'], name=op.f('fk_rectification_updates_task_id_rectification_tasks')),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_rectification_updates_visit_id_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rectification_updates'))
    )
    with op.batch_alter_table('rectification_updates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rectification_updates_task_id'), ['task_id'], unique=False)

    op.create_table('rectification_photos',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('update_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('caption', sa.String(length=200), nullable=False),
    sa.Column('byte_size', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('exif_captured_at', sa.DateTime(), nullable=True),
    sa.Column('exif_latitude', sa.Double(), nullable=True),
    sa.Column('exif_longitude', sa.Double(), nullable=True),
    sa.Column('original_key', sa.String(length=200), nullable=False),
    sa.Column('public_key', sa.String(length=200), nullable=False),
    sa.Column('thumb_key', sa.String(length=200), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['rectification_tasks.id'], name=op.f('fk_rectification_photos_task_id_rectification_tasks')),
    sa.ForeignKeyConstraint(['update_id'], ['rectification_updates.id'], name=op.f('fk_rectification_photos_update_id_rectification_updates')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_rectification_photos_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rectification_photos'))
    )
    with op.batch_alter_table('rectification_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rectification_photos_task_id'), ['task_id'], unique=False)

    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('device', sa.String(length=128), nullable=False),
    sa.Column('object_type', sa.String(length=16), nullable=False),
    sa.Column('object_id', sa.String(length=160), nullable=False),
    sa.Column('scope_type', sa.String(length=16), nullable=False),
    sa.Column('scope_id', sa.String(length=36), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('old_value', sa.JSON(), nullable=True),
    sa.Column('new_value', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_audit_log_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_scope', ['scope_type', 'scope_id', 'id'], unique=False)
    # History is never edited: the database itself refuses UPDATEs of the log.
    if op.get_bind().dialect.name == 'postgresql':
        for statement in APPEND_ONLY_PG:
            op.execute(statement)
    else:
        op.execute(APPEND_ONLY_SQLITE)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log')
        op.execute('DROP FUNCTION IF EXISTS audit_log_append_only()')
    else:
        op.execute('DROP TRIGGER IF EXISTS audit_log_append_only')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_scope')
    op.drop_table('audit_log')
    with op.batch_alter_table('rectification_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rectification_photos_task_id'))
    op.drop_table('rectification_photos')
    with op.batch_alter_table('rectification_updates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rectification_updates_task_id'))
    op.drop_table('rectification_updates')
    with op.batch_alter_table('rectification_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_rectification_tasks_school_item')
        batch_op.drop_index('ix_rectification_tasks_county_state')
    op.drop_table('rectification_tasks')
    op.drop_table('review_comments')
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reviews_visit_id'))
    op.drop_table('reviews')
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index('ix_visits_county_day')
        batch_op.drop_constraint(batch_op.f('fk_visits_county_id_counties'), type_='foreignkey')
        batch_op.drop_column('failed_count')
        batch_op.drop_column('review_round')
        batch_op.drop_column('visited_on')
        batch_op.drop_column('county_id')
