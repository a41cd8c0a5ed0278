"""Members' files in an S3-compatible bucket: stored privately, never overwritten, served
after the same permission checks through a signed URL, or streamed by Django on request.

moto runs the S3 API in-process; boto3 and django-storages talk to it as to AWS.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import boto3
import pytest
import requests
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from moto import mock_aws

from cohorts.models import Member
from cohorts.storage import private_storage
from tests.cohorts.helpers import PDF, image, upload
from topics.models import Submission

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "wecity-private"
PREFIX = "portal"
REGION = "us-east-1"
# 数字政府方案.pdf, as Django's FileResponse names it.
DISPOSITION = (
    "attachment; filename*=utf-8''%E6%95%B0%E5%AD%97%E6%94%BF%E5%BA%9C%E6%96%B9%E6%A1%88.pdf"
)
PDF_V2 = PDF.replace(b"Catalog", b"Catalog/Version/1.7")


@pytest.fixture
def bucket(settings):
    """The private storage on a bucket of moto's S3, for this test only.

    Overriding STORAGES makes Django forget the storages it built (and cohorts.storage its
    private one); the settings fixture restores STORAGES, and so the filesystem, after.
    """
    with mock_aws():
        client = boto3.client(
            "s3",
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        client.create_bucket(Bucket=BUCKET)
        settings.STORAGES = {
            **settings.STORAGES,
            "private": {
                "BACKEND": "cohorts.storage.PrivateS3Storage",
                "OPTIONS": {
                    "bucket_name": BUCKET,
                    "region_name": REGION,
                    "access_key": "testing",
                    "secret_key": "testing",
                    "location": PREFIX,
                },
            },
        }
        settings.PRIVATE_STORAGE_S3_PROXY = False
        yield client


def objects(client):
    listing = client.list_objects_v2(Bucket=BUCKET)
    return {
        item["Key"]: client.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
        for item in listing.get("Contents", [])
    }


def hand_in(client, deliverable, name, data):
    client.post(
        deliverable.get_absolute_url(),
        {"kind": "file", "comment": "", "file": upload(name, data)},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    return Submission.objects.latest("version")


def signed_url(response):
    """The redirect's target: its address without the query, and the query as a dict."""
    parts = urlsplit(response["Location"])
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    return f"{parts.scheme}://{parts.netloc}{parts.path}", query


@pytest.fixture
def member_client(client, world):
    client.force_login(world.member_a.user)
    return client


@pytest.fixture
def file_a(bucket, member_client, world):
    return hand_in(member_client, world.deliverable_a, "数字政府方案.pdf", PDF)


def file_url(submission):
    return reverse("workspace:file", kwargs={"pk": submission.pk})


# --- Storing ------------------------------------------------------------------------------


def test_hand_in_stores_the_exact_bytes_under_the_prefix_with_no_public_grant(
    bucket, file_a, world
):
    folder = f"submissions/{world.cohort.pk}/{world.topic_a.pk}/{world.deliverable_a.pk}/v1-"
    key = f"{PREFIX}/{file_a.file.name}"

    grants = bucket.get_object_acl(Bucket=BUCKET, Key=key)["Grants"]

    assert (
        objects(bucket),
        file_a.file.name.startswith(folder),
        file_a.file.name.endswith("/数字政府方案.pdf"),
        [(grant["Grantee"]["Type"], grant["Permission"]) for grant in grants],
    ) == ({key: PDF}, True, True, [("CanonicalUser", "FULL_CONTROL")])


def test_second_version_is_a_second_object_and_the_first_is_kept(
    bucket, member_client, file_a, world
):
    second = hand_in(member_client, world.deliverable_a, "数字政府方案.pdf", PDF_V2)

    assert (second.version, objects(bucket)) == (
        2,
        {f"{PREFIX}/{file_a.file.name}": PDF, f"{PREFIX}/{second.file.name}": PDF_V2},
    )


def test_name_already_taken_in_the_bucket_gets_a_new_one(bucket):
    storage = private_storage()

    first = storage.save("submissions/方案.pdf", ContentFile(PDF))
    second = storage.save("submissions/方案.pdf", ContentFile(PDF_V2))

    assert (first, second != first, objects(bucket)) == (
        "submissions/方案.pdf",
        True,
        {f"{PREFIX}/{first}": PDF, f"{PREFIX}/{second}": PDF_V2},
    )


# --- Serving ------------------------------------------------------------------------------


def test_file_is_a_redirect_to_a_signed_url_that_downloads_it(member_client, file_a):
    response = member_client.get(file_url(file_a))
    download = requests.get(response["Location"], timeout=5)  # from moto's S3, as a browser

    address, query = signed_url(response)
    assert (
        response.status_code,
        response["Cache-Control"],
        address,
        query["response-content-disposition"],
        query["response-content-type"],
        query["response-cache-control"],
        query["X-Amz-Expires"],
        "X-Amz-Signature" in query,
        download.status_code,
        download.content,
        download.headers["Content-Disposition"],
        download.headers["Content-Type"],
    ) == (
        302,
        "private, no-store",
        f"https://{BUCKET}.s3.amazonaws.com/{quote(PREFIX + '/' + file_a.file.name)}",
        DISPOSITION,
        "application/octet-stream",
        "private, no-store",
        "60",
        True,
        200,
        PDF,
        DISPOSITION,
        "application/octet-stream",
    )


def test_file_of_数字政府_is_not_found_for_a_member_of_智慧医疗_and_no_url_is_given(
    client, world, file_a
):
    client.force_login(world.member_b.user)

    response = client.get(file_url(file_a))

    assert (response.status_code, response.has_header("Location"), BUCKET in response.text) == (
        404,
        False,
        False,
    )


def test_file_is_streamed_by_django_with_the_filesystem_headers_when_proxied(
    member_client, file_a, settings
):
    settings.PRIVATE_STORAGE_S3_PROXY = True

    response = member_client.get(file_url(file_a))

    body = b"".join(response.streaming_content)
    assert (
        response.status_code,
        body,
        response["Content-Type"],
        response["Content-Length"],
        response["Content-Disposition"],
        response["X-Content-Type-Options"],
        response["Cache-Control"],
        response["Content-Security-Policy"],
    ) == (
        200,
        PDF,
        "application/pdf",
        str(len(PDF)),
        DISPOSITION,
        "nosniff",
        "private, no-store",
        "default-src 'none'; sandbox",
    )


# --- Photos -------------------------------------------------------------------------------


def test_photo_goes_to_the_bucket_and_is_shown_inline_to_the_group_only(bucket, client, world):
    client.force_login(world.member_a.user)
    png = image("PNG")
    client.post(
        reverse("programme:profile", kwargs={"cohort": world.cohort.slug}),
        {
            "name": "王数政",
            "organisation": "深圳智城科技",
            "title": "",
            "bio": "",
            "photo": SimpleUploadedFile("me.png", png, content_type="image/png"),
        },
    )
    member = Member.objects.get(pk=world.member_a.pk)
    url = reverse("programme:member-photo", kwargs={"pk": member.pk})

    own = client.get(url)
    shown = requests.get(own["Location"], timeout=5)
    client.force_login(world.member_b.user)
    other_group = client.get(url)

    address, query = signed_url(own)
    assert (
        objects(bucket),
        own.status_code,
        address.endswith(f"/{PREFIX}/{member.photo.name}"),
        query["response-content-disposition"],
        query["response-content-type"],
        shown.content,
        other_group.status_code,
        other_group.has_header("Location"),
    ) == (
        {f"{PREFIX}/{member.photo.name}": png},
        302,
        True,
        'inline; filename="me.png"',
        "image/png",
        png,
        404,
        False,
    )


# --- Settings -----------------------------------------------------------------------------


def settings_in_a_new_process(**variables):
    """STORAGES["private"] of wecity.settings read with these environment variables."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    env.update(DJANGO_SETTINGS_MODULE="wecity.settings", **variables)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, django; from django.conf import settings; django.setup(); "
            "print(json.dumps(settings.STORAGES['private']))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
    )


def test_bucket_variables_configure_the_private_storage():
    result = settings_in_a_new_process(
        PRIVATE_STORAGE_S3_BUCKET="wecity-private",
        PRIVATE_STORAGE_S3_ENDPOINT_URL="https://minio.example.org",
        PRIVATE_STORAGE_S3_REGION="us-east-1",
        PRIVATE_STORAGE_S3_ACCESS_KEY_ID="portal",
        PRIVATE_STORAGE_S3_SECRET_ACCESS_KEY="secret",
        PRIVATE_STORAGE_S3_PREFIX="/portal/",
        PRIVATE_FILES_ACCEL_PREFIX="",
    )

    assert json.loads(result.stdout) == {
        "BACKEND": "cohorts.storage.PrivateS3Storage",
        "OPTIONS": {
            "bucket_name": "wecity-private",
            "endpoint_url": "https://minio.example.org",
            "region_name": "us-east-1",
            "access_key": "portal",
            "secret_key": "secret",
            "location": "portal",
            "addressing_style": "path",
        },
    }


def test_bucket_with_an_accel_prefix_stops_the_portal_with_an_explanation():
    result = settings_in_a_new_process(
        PRIVATE_STORAGE_S3_BUCKET="wecity-private", PRIVATE_FILES_ACCEL_PREFIX="/protected/"
    )

    assert (
        result.returncode,
        "leave it empty with PRIVATE_STORAGE_S3_BUCKET" in result.stderr,
    ) == (
        1,
        True,
    )


def test_without_a_bucket_the_private_storage_is_the_filesystem():
    result = settings_in_a_new_process(PRIVATE_STORAGE_S3_BUCKET="")

    assert json.loads(result.stdout) == {"BACKEND": "cohorts.storage.PrivateFileSystemStorage"}
