"""Form widgets the portal's pages render often."""

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe


class Select(forms.Select):
    """Django's Select, writing its HTML in Python: the same markup as Django's templates,
    in a fraction of the time for a select of hundreds of options (the filters of the
    speaker directory and of the curation pages offer up to 200 forums or speakers), where
    the templates include one template per option and another for its attributes.
    """

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        parts = []
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                parts.append(format_html('\n  <optgroup label="{}">', group_name))
            parts.append(
                format_html_join(
                    "",
                    '\n  <option value="{}"{}>{}</option>\n',
                    (
                        (option["value"], attributes(option["attrs"]), option["label"])
                        for option in options
                    ),
                )
            )
            if group_name:
                parts.append(mark_safe("\n  </optgroup>"))
        return format_html(
            '<select name="{}"{}>{}\n</select>',
            widget["name"],
            attributes(widget["attrs"]),
            mark_safe("".join(parts)),
        )


def attributes(attrs):
    """The attributes in their order, as django/forms/widgets/attrs.html writes them: `name`
    alone for True, none for False."""
    return format_html_join(
        "",
        " {}{}",
        (
            (name, "" if value is True else format_html('="{}"', value))
            for name, value in attrs.items()
            if value is not False
        ),
    )
