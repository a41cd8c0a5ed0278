"""The private storage: members' files, outside every public URL.

On a filesystem (the default) or, when PRIVATE_STORAGE_S3_BUCKET is set, in a private
S3-compatible bucket; wecity/settings.py chooses which backend STORAGES["private"] uses.
"""

import contextlib
import errno
import logging
import os
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, storages
from django.core.signals import setting_changed
from django.utils.functional import LazyObject, cached_property, empty
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from storages.backends.s3 import S3Storage

logger = logging.getLogger(__name__)

# A signed download link works for a minute: enough to start the download the view answers
# with, too short to be worth passing on.
PRESIGNED_URL_SECONDS = 60


class AtomicFileSystemStorage(FileSystemStorage):
    """A FileSystemStorage that never leaves a half-written file behind."""

    def _save(self, name, content):
        """Write beside the target under a temporary name, then move the whole file in.

        Django's own `_save` writes straight to the final name, so a write that fails half
        way (a full disk) would leave a truncated file there; here it leaves nothing.
        """
        name = super()._save(name, ContentFile(b""))  # makes the folders, claims a free name
        final = self.path(name)
        partial = os.path.join(os.path.dirname(final), f".partial-{secrets.token_hex(8)}")
        try:
            with open(partial, "xb") as handle:
                for chunk in content.chunks():
                    handle.write(chunk if isinstance(chunk, bytes) else chunk.encode())
                handle.flush()
                os.fsync(handle.fileno())
            if self.file_permissions_mode is not None:
                os.chmod(partial, self.file_permissions_mode)
            os.replace(partial, final)
        except BaseException:
            for path in (partial, final):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(path)
            raise
        return name


class PublicFileSystemStorage(AtomicFileSystemStorage):
    """MEDIA_ROOT (forum covers, speaker photos): Django's storage, written atomically."""


class PrivateFileSystemStorage(AtomicFileSystemStorage):
    """Files under PRIVATE_MEDIA_ROOT with no URL: views that check permission serve them."""

    @cached_property
    def base_location(self):
        return self._value_or_setting(self._location, settings.PRIVATE_MEDIA_ROOT)

    def _clear_cached_properties(self, setting, **kwargs):
        super()._clear_cached_properties(setting, **kwargs)
        if setting == "PRIVATE_MEDIA_ROOT":
            self.__dict__.pop("base_location", None)
            self.__dict__.pop("location", None)

    def url(self, name):
        raise ValueError("Private files have no URL; a view that checks permission serves them.")


@contextlib.contextmanager
def storage_errors_as(field, name):
    """Turn a storage that cannot write `name` (a full disk, a bucket that refuses) into a
    form error on `field`, inside a transaction that then rolls back: nothing is saved.
    """
    try:
        yield
    except OSError as error:
        logger.error("Could not store the upload %r: %s", name, error)
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            message = _(
                "“%(name)s” could not be stored: the portal's storage is full. Nothing was "
                "changed; try again later."
            )
        else:
            message = _(
                "“%(name)s” could not be stored because of a problem on the portal's side. "
                "Nothing was changed; try again later."
            )
        raise ValidationError({field: message % {"name": name}}, code="storage") from error


class PrivateS3Storage(S3Storage):
    """Objects in a private bucket, never overwritten, readable only through signed URLs.

    Set on the class rather than in OPTIONS, so that no AWS_* setting can make them public:
    no ACL (the bucket's own policy, which must not be public, applies), every URL signed
    and short-lived, never a custom (unsigned) domain, and a name already taken gets a new
    suffix instead of replacing the object.
    """

    default_acl = None
    querystring_auth = True
    querystring_expire = PRESIGNED_URL_SECONDS
    custom_domain = None
    file_overwrite = False
    # AWS accepts only version 4 signatures in newer regions; S3-compatible services too.
    signature_version = "s3v4"
    # Files streamed through Django (PRIVATE_STORAGE_S3_PROXY) spill to disk past this size
    # instead of being held in memory whole.
    max_memory_size = 2_621_440

    def download_url(self, name, *, filename, content_type, as_attachment=True):
        """A signed URL whose response carries the file name, type and disposition given."""
        return self.url(
            name,
            parameters={
                "ResponseContentDisposition": content_disposition_header(as_attachment, filename),
                "ResponseContentType": content_type,
                "ResponseCacheControl": "private, no-store",
            },
            expire=PRESIGNED_URL_SECONDS,
        )


class PrivateStorage(LazyObject):
    """STORAGES["private"], looked up on first use.

    A FileField keeps the storage object it was given when the models were imported; this
    one forgets its backend whenever STORAGES changes (as Django's default_storage does),
    so that a test can switch the private storage to S3.
    """

    def __init__(self):
        super().__init__()
        setting_changed.connect(self._forget_backend, weak=False)

    def _setup(self):
        self._wrapped = storages["private"]

    def _forget_backend(self, *, setting, **kwargs):
        if setting == "STORAGES":
            self._wrapped = empty


_private_storage = PrivateStorage()


def private_storage():
    """The "private" storage of settings.STORAGES (a callable, so tests and S3 can swap it)."""
    return _private_storage
