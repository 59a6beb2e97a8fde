"""Photo uploads through the API into S3-compatible storage (moto over real HTTP)."""

from __future__ import annotations

import hashlib
import io
import urllib.request
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image
from sqlalchemy import func, select

from sync.storage import S3Storage
from webapp.extensions import db
from webapp.visits.models import Photo
from webapp.visits.photos import URL_SECONDS

from .conftest import jpeg_bytes, login, s3_config


def _gps_jpeg() -> bytes:
    image = Image.new("RGB", (1200, 900), (30, 90, 160))
    exif = Image.Exif()
    exif[0x0112] = 6
    gps = {1: "N", 2: (38.0, 33.0, 0.0), 3: "E", 4: (106.0, 21.0, 0.0)}
    exif[0x8825] = gps
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


@pytest.fixture
def s3_app(make_app, moto_endpoint):
    bucket = f"photos-{uuid.uuid4().hex[:8]}"
    app = make_app(**s3_config(moto_endpoint, bucket))
    store = app.extensions["dudao.storage"]
    assert isinstance(store, S3Storage)
    store.ensure_bucket()
    return app


def _start_visit(app, factory):
    with app.app_context():
        county = factory.county("西吉县", "xiji")
        school = factory.school(county)
        username = factory.user("inspector", county, (school,)).username
        school_id = school.id
    client = app.test_client()
    login(client, username)
    bundle = client.get(f"/api/v1/schools/{school_id}/bundle").get_json()
    visit_id = str(uuid.uuid4())
    body = {"school_id": school_id, "checklist_version": bundle["checklist"]["version"], "state": "in_progress"}
    assert client.put(f"/api/v1/visits/{visit_id}", json=body).status_code == 201
    return client, visit_id


def _put(client, visit_id, data, photo_id=None):
    photo_id = photo_id or str(uuid.uuid4())
    form = {"sha256": hashlib.sha256(data).hexdigest(), "file": (io.BytesIO(data), "p.jpg")}
    return client.put(f"/api/v1/visits/{visit_id}/photos/{photo_id}", data=form, content_type="multipart/form-data")


def test_photo_lands_in_the_bucket_with_evidence_metadata(s3_app, factory):
    client, visit_id = _start_visit(s3_app, factory)
    data = _gps_jpeg()
    response = _put(client, visit_id, data)
    assert response.status_code == 201, response.get_json()
    with s3_app.app_context():
        photo = db.session.scalar(select(Photo))
        store = s3_app.extensions["dudao.storage"]
        assert store.get(photo.original_key) == data
        assert round(photo.exif_latitude, 3) == 38.55 and round(photo.exif_longitude, 3) == 106.35
        # The copy served to browsers carries no GPS (no EXIF at all) and is upright.
        public = Image.open(io.BytesIO(store.get(photo.public_key)))
        assert not public.getexif() and public.size == (900, 1200)
        url = store.url(photo.thumb_key, URL_SECONDS)
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == [str(URL_SECONDS)] and urlsplit(url).path.endswith(photo.thumb_key)
    with urllib.request.urlopen(url) as fetched:
        assert Image.open(io.BytesIO(fetched.read())).size[1] == 320


def test_storage_down_means_503_and_nothing_recorded(make_app, factory):
    # Port 9 (discard) on this machine: nothing answers, so every call fails fast.
    app = make_app(**s3_config("http://127.0.0.1:9", "photos"))
    client, visit_id = _start_visit(app, factory)
    response = _put(client, visit_id, jpeg_bytes())
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "storage_unavailable"
    assert "保存在手机上" in response.get_json()["error"]["message"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Photo)) == 0
