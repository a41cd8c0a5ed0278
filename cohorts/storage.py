"""The private storage: members' files, outside every public URL."""

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.utils.functional import cached_property


class PrivateFileSystemStorage(FileSystemStorage):
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


def private_storage():
    """The "private" storage of settings.STORAGES (a callable, so tests and S3 can swap it)."""
    return storages["private"]
