"""Answering with a private file, once a view has checked that the user may read it."""

from urllib.parse import quote

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse
from django.utils.http import content_disposition_header


def private_file_response(file, *, filename, content_type, as_attachment=True):
    """A FileResponse, or with PRIVATE_FILES_ACCEL_PREFIX an X-Accel-Redirect for the proxy."""
    prefix = settings.PRIVATE_FILES_ACCEL_PREFIX
    if prefix:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = prefix.rstrip("/") + "/" + quote(file.name)
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
