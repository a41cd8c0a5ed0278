"""Answering with a private file, once a view has checked that the user may read it."""

import mimetypes
from urllib.parse import quote

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.utils.http import content_disposition_header

from cohorts.storage import PrivateS3Storage

# The bucket answers a signed URL without the headers below (no sandbox), so it is asked to
# show a file inline only when it is a photo a browser can display, and as a download of
# unknown type otherwise.
INLINE_CONTENT_TYPES = {"image/jpeg", "image/png", "image/webp"}


def private_file_response(file, *, filename, content_type, as_attachment=True):
    """The file as the private storage and the proxy allow.

    From a bucket: a redirect to a signed URL valid for a minute (with
    PRIVATE_STORAGE_S3_PROXY, Django streams it instead). With PRIVATE_FILES_ACCEL_PREFIX:
    an X-Accel-Redirect for the proxy. Otherwise a FileResponse.
    """
    if not as_attachment:
        # Shown in a page only as a picture browsers display; any other file, whatever its
        # name, is a download of unknown type.
        content_type = bucket_content_type(filename, as_attachment=False)
        as_attachment = content_type not in INLINE_CONTENT_TYPES
    if isinstance(file.storage, PrivateS3Storage) and not settings.PRIVATE_STORAGE_S3_PROXY:
        response = HttpResponseRedirect(
            file.storage.download_url(
                file.name,
                filename=filename,
                content_type=bucket_content_type(filename, as_attachment=as_attachment),
                as_attachment=as_attachment,
            )
        )
    elif settings.PRIVATE_FILES_ACCEL_PREFIX:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = (
            settings.PRIVATE_FILES_ACCEL_PREFIX.rstrip("/") + "/" + quote(file.name)
        )
        response["Content-Disposition"] = content_disposition_header(as_attachment, filename)
    else:
        try:
            handle = file.storage.open(file.name, "rb")
        except FileNotFoundError as error:
            raise Http404 from error
        response = FileResponse(
            handle, as_attachment=as_attachment, filename=filename, content_type=content_type
        )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def bucket_content_type(filename, *, as_attachment):
    guessed, _encoding = mimetypes.guess_type(filename)
    if not as_attachment and guessed in INLINE_CONTENT_TYPES:
        return guessed
    return "application/octet-stream"
