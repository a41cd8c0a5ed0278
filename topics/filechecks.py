"""What a handed-in file really is: its content is checked, not only its name.

A file is accepted when its extension is one the programme takes, it is neither empty nor
too large, and its content is what the extension says: the magic bytes (the `filetype`
package), the parts an Office file must have (zipfile), a picture Pillow can read.
"""

import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

import filetype
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _
from PIL import Image

HEAD_BYTES = 8192
# Entries that would make an archive a way to pass programs around.
EXECUTABLE_SUFFIXES = {
    ".apk",
    ".app",
    ".bat",
    ".cmd",
    ".com",
    ".dll",
    ".exe",
    ".jar",
    ".js",
    ".msi",
    ".ps1",
    ".scr",
    ".sh",
    ".vbs",
}
ZIP_CONTAINERS = {"zip", "docx", "xlsx", "pptx", "odt", "ods", "odp", "epub"}


@dataclass(frozen=True)
class Format:
    extension: str
    label: str
    content_type: str
    detected_as: frozenset  # filetype's extensions this format's content may be guessed as
    office_part: str = ""  # the part an Office file of this format must contain


FORMATS = {
    "pdf": Format("pdf", _("a PDF document"), "application/pdf", frozenset({"pdf"})),
    "docx": Format(
        "docx",
        _("a Word document (docx)"),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        frozenset({"docx", "zip"}),
        "word/document.xml",
    ),
    "pptx": Format(
        "pptx",
        _("a PowerPoint presentation (pptx)"),
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        frozenset({"pptx", "zip"}),
        "ppt/presentation.xml",
    ),
    "xlsx": Format(
        "xlsx",
        _("an Excel workbook (xlsx)"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        frozenset({"xlsx", "zip"}),
        "xl/workbook.xml",
    ),
    "png": Format("png", _("a PNG image"), "image/png", frozenset({"png"})),
    "jpg": Format("jpg", _("a JPEG image"), "image/jpeg", frozenset({"jpg"})),
    "zip": Format("zip", _("a ZIP archive"), "application/zip", frozenset(ZIP_CONTAINERS)),
}
EXTENSIONS = {**{name: name for name in FORMATS}, "jpeg": "jpg"}
PILLOW_FORMATS = {"png": "PNG", "jpg": "JPEG"}


@dataclass(frozen=True)
class CheckedFile:
    name: str
    size: int
    content_type: str


def accepted_extensions():
    return ", ".join(f".{ext}" for ext in EXTENSIONS)


def check_upload(upload, *, max_bytes):
    """Check an uploaded file; return a CheckedFile or raise ValidationError saying why."""
    name = PurePosixPath(upload.name or "").name
    extension = PurePosixPath(name.lower()).suffix.lstrip(".")
    if extension not in EXTENSIONS:
        raise ValidationError(
            _("Files like “%(name)s” are not accepted. Hand in one of: %(extensions)s."),
            code="forbidden_type",
            params={"name": name, "extensions": accepted_extensions()},
        )
    fmt = FORMATS[EXTENSIONS[extension]]
    if not upload.size:
        raise ValidationError(_("“%(name)s” is empty."), code="empty", params={"name": name})
    if upload.size > max_bytes:
        raise ValidationError(
            _("“%(name)s” is %(size)s; files may be at most %(limit)s."),
            code="too_large",
            params={
                "name": name,
                "size": filesizeformat(upload.size),
                "limit": filesizeformat(max_bytes),
            },
        )
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    guess = filetype.guess(head)
    found = guess.extension if guess else None
    if found not in fmt.detected_as:
        raise mismatch(name, fmt, guess.mime if guess else None)
    try:
        if fmt.extension in PILLOW_FORMATS:
            check_image(upload, fmt)
        elif fmt.office_part or fmt.extension == "zip":
            check_archive(upload, fmt)
    finally:
        upload.seek(0)
    return CheckedFile(name=name, size=upload.size, content_type=fmt.content_type)


def mismatch(name, fmt, found_mime):
    if found_mime:
        return ValidationError(
            _("“%(name)s” is not %(expected)s: its content is %(found)s."),
            code="content_mismatch",
            params={"name": name, "expected": fmt.label, "found": found_mime},
        )
    return ValidationError(
        _("“%(name)s” is not %(expected)s: its content is of an unknown kind."),
        code="content_mismatch",
        params={"name": name, "expected": fmt.label},
    )


def check_image(upload, fmt):
    try:
        with Image.open(upload) as image:
            image_format = image.format
            image.verify()
    except Exception as error:  # Pillow raises many kinds for a broken file
        raise ValidationError(
            _("“%(name)s” cannot be read as %(expected)s."),
            code="broken",
            params={"name": upload.name, "expected": fmt.label},
        ) from error
    if image_format != PILLOW_FORMATS[fmt.extension]:
        raise mismatch(upload.name, fmt, f"image/{(image_format or '').lower()}")


def check_archive(upload, fmt):
    try:
        with zipfile.ZipFile(upload) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise ValidationError(
            _("“%(name)s” cannot be read as %(expected)s: the archive is damaged."),
            code="broken",
            params={"name": upload.name, "expected": fmt.label},
        ) from error
    if fmt.office_part:
        if "[Content_Types].xml" not in names or fmt.office_part not in names:
            raise ValidationError(
                _("“%(name)s” is a ZIP archive, not %(expected)s."),
                code="content_mismatch",
                params={"name": upload.name, "expected": fmt.label},
            )
        if any(PurePosixPath(entry).name.lower() == "vbaproject.bin" for entry in names):
            raise ValidationError(
                _("“%(name)s” contains macros; hand in a file without macros."),
                code="macros",
                params={"name": upload.name},
            )
    programs = [
        entry for entry in names if PurePosixPath(entry.lower()).suffix in EXECUTABLE_SUFFIXES
    ]
    if programs:
        raise ValidationError(
            _("“%(name)s” contains programs (%(entries)s); archives may not contain programs."),
            code="programs",
            params={"name": upload.name, "entries": ", ".join(programs[:3])},
        )
