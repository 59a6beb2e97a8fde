"""The confirmed import's write step as a job the page follows (the same mechanism as the report PDFs).

A long file takes a while to check again and write; the confirmation stores the bytes under
``imports/u<user>/<token>/`` and queues :func:`run_import`. The job records each step in the job's state
(see ``webapp.jobs``), and the page polls it with htmx until the import is done or refused.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app
from sqlalchemy import select

from .. import jobs
from ..core.models import County
from ..extensions import db
from .operations import ImportRejected, RowError, import_table
from .parsing import ImportFileError, read_table

log = logging.getLogger(__name__)

#: The steps the page counts: read the file, check every row, write.
STEPS = 3
#: At most this many row errors are kept in the job's state (the page lists 500).
MAX_ERRORS = 1000


def storage() -> Any:
    """The app's object storage (the job's files and state)."""
    return current_app.extensions["dudao.storage"]


def start_import(user_id: int, kind: str, county: County, filename: str, data: bytes) -> str:
    """Keep the file and queue the write; answer the job's token."""
    token = jobs.new_token()
    prefix = jobs.job_prefix("imports", user_id, token)
    storage().put(prefix + "upload.bin", data, "application/octet-stream")
    jobs.put_state(
        storage(),
        prefix,
        state="running",
        step=0,
        steps=STEPS,
        message="已排队，即将开始……",
        kind=kind,
        county_id=county.id,
        county=county.name,
        filename=filename,
    )
    jobs.enqueue(run_import, prefix)
    return token


def import_state(user_id: int, token: str) -> dict[str, Any] | None:
    """Where the person's import stands, or None when the token is not theirs."""
    if not jobs.valid_token(token):
        return None
    return jobs.get_state(storage(), jobs.job_prefix("imports", user_id, token))


def _errors(errors: list[RowError]) -> list[dict[str, Any]]:
    return [{"row": e.row, "column": e.column, "message": e.message} for e in errors[:MAX_ERRORS]]


def run_import(prefix: str) -> None:
    """The job: read, check and write the stored file in one transaction, recording each step."""
    app = jobs.job_app()
    with app.app_context():
        target = app.extensions["dudao.storage"]
        state = jobs.get_state(target, prefix) or {}

        def step(number: int, message: str, **more: Any) -> None:
            state.update(step=number, message=message, **more)
            jobs.put_state(target, prefix, **state)

        try:
            step(1, "第 1 步：读取文件……")
            table = read_table(
                state.get("filename", ""), target.get(prefix + "upload.bin"), app.config["IMPORT_MAX_ROWS"]
            )
            step(2, f"第 2 步：检查 {len(table.rows)} 行……", rows=len(table.rows))
            county = db.session.scalar(select(County).where(County.id == state.get("county_id")))
            if county is None:
                raise ImportFileError("县区已不存在。")
            result = import_table(state["kind"], table, county)
            step(3, f"第 3 步：写入 {len(table.rows)} 行……")
            db.session.commit()
        except ImportFileError as exc:
            db.session.rollback()
            step(state.get("step", 0), str(exc), state="failed", errors=_errors([RowError(0, "文件", str(exc))]))
            return
        except ImportRejected as exc:
            db.session.rollback()
            # The data changed since the preview (someone else imported meanwhile): nothing was written.
            step(2, f"文件有 {len(exc.errors)} 处错误，未导入任何数据。", state="failed", errors=_errors(exc.errors))
            return
        except Exception:
            db.session.rollback()
            log.exception("import job %s failed", prefix)
            step(state.get("step", 0), "导入失败，未写入任何数据，请稍后重试。", state="failed", errors=[])
            return
        step(
            STEPS,
            "导入完成。",
            state="done",
            created=result.created,
            updated=result.updated,
            unchanged=result.unchanged,
        )
        target.delete(prefix + "upload.bin")
