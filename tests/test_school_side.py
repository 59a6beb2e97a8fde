"""The bureau's view of the schools' side: response time per task, overdue without progress, self-report completion."""

from __future__ import annotations

import io
import uuid
from datetime import datetime, timedelta

from sqlalchemy import update

from webapp.bureau.rectification.models import RectificationTask, TaskUpdate
from webapp.extensions import db

from .conftest import jpeg_bytes, login
from .test_notices import world  # noqa: F401  (a fixture)


def test_response_times_silent_schools_and_completion(app, world, factory):  # noqa: F811
    task = world["task"]
    bureau = app.test_client()
    login(bureau, world["reviewer"])
    # Overdue and nothing recorded: the school is listed.
    db.session.execute(
        update(RectificationTask)
        .where(RectificationTask.id == task.id)
        .values(deadline=world["today"] - timedelta(days=4), opened_at=datetime(2026, 11, 1, 2, 0))
    )
    db.session.commit()
    page = bureau.get("/bureau/school-side/").get_data(as_text=True)
    silent = page.split('id="silent-schools"')[1].split("</section>")[0]
    assert "金贵镇中心小学" in silent and "逾期 4 天" in silent
    assert "尚未响应" in page and 'id="median-response"' not in page

    school = app.test_client()
    login(school, world["principal"])
    form = {"note": "已更换", "photos": [(io.BytesIO(jpeg_bytes()), "a.jpg")]}
    assert school.put(f"/api/v1/tasks/{task.id}/progress/{uuid.uuid4()}", data=form).status_code == 201
    # The response came 2.5 days after the task was opened.
    db.session.execute(
        update(TaskUpdate).where(TaskUpdate.task_id == task.id).values(created_at=datetime(2026, 11, 3, 14, 0))
    )
    db.session.commit()
    page = bureau.get("/bureau/school-side/").get_data(as_text=True)
    assert "金贵镇中心小学" not in page.split('id="silent-schools"')[1].split("</section>")[0]
    row = page.split(f'data-task-id="{task.id}"')[1].split("</tr>")[0]
    assert '<td class="response-days">2.5</td>' in row
    assert '<strong id="median-response">2.5</strong>' in page
    completion = page.split('id="self-report-completion"')[1]
    assert '<td class="reported">0</td>' in completion
    assert school.get("/bureau/school-side/").status_code == 403
