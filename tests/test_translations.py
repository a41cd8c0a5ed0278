"""The interface is bilingual: the Chinese catalogue is complete and compiled as committed."""

import ast
import gettext
import re
from pathlib import Path

from django.conf import settings

LOCALE = Path(settings.BASE_DIR) / "locale"


def po_entries(path):
    """(msgid, msgstr) of each entry of a .po file, the header and plurals' first form."""
    entries, key, values = [], None, {}
    text = path.read_text(encoding="utf-8")
    for block in re.split(r"\n\s*\n", text):
        fuzzy = "#, fuzzy" in block or ", fuzzy" in block
        values = {}
        for line in block.splitlines():
            match = re.match(r"^(msgid|msgid_plural|msgstr(?:\[0\])?|msgctxt) (\".*\")$", line)
            if match:
                key = match.group(1)
                values[key] = ast.literal_eval(match.group(2))
            elif line.startswith('"') and key:
                values[key] += ast.literal_eval(line)
        if values.get("msgid"):
            msgstr = values.get("msgstr", values.get("msgstr[0]", ""))
            entries.append((values["msgid"], msgstr, fuzzy))
    return entries


def test_chinese_catalogue_translates_every_interface_string():
    entries = po_entries(LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po")

    untranslated = [msgid for msgid, msgstr, fuzzy in entries if not msgstr or fuzzy]

    assert len(entries) > 200
    assert untranslated == []


def test_compiled_chinese_catalogue_matches_its_source():
    entries = po_entries(LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po")
    with open(LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.mo", "rb") as handle:
        compiled = gettext.GNUTranslations(handle)

    stale = [msgid for msgid, msgstr, _ in entries if compiled.gettext(msgid) != msgstr]

    assert stale == []
