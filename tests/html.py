"""Reading rendered pages in tests."""

import re

from django.utils.html import strip_tags


def elements(html, opening):
    """The inner HTML of every element whose opening tag starts with `opening`, in page order."""
    tag = opening[1:].split()[0]
    return re.findall(re.escape(opening) + rf"(?:\s[^>]*)?>(.*?)</{tag}>", html, re.S)


def texts(html, opening):
    """The text of every element whose opening tag starts with `opening`, spaces collapsed."""
    return [" ".join(strip_tags(inner).split()) for inner in elements(html, opening)]
