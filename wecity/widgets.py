"""Form widgets the portal's pages render often."""

from django import forms
from django.utils.html import conditional_escape as escape
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe


class Select(forms.Select):
    """Django's Select, writing its HTML in Python: the same markup as Django's templates,
    in a fraction of the time for a select of hundreds of options (the filters of the
    speaker directory and of the curation pages offer up to 200 forums or speakers), where
    the templates include one template per option and another for its attributes.
    """

    def render(self, name, value, attrs=None, renderer=None):
        # The select's own context, without Django's per-option dictionaries (optgroups).
        widget = forms.Widget.get_context(self, name, value, attrs)["widget"]
        if self.allow_multiple_selected:
            widget["attrs"]["multiple"] = True  # as Select.get_context does
        chosen = set(widget["value"])
        parts, has_selected = [], False
        for group_name, options in self.groups():
            if group_name:
                parts.append(f'\n  <optgroup label="{escape(group_name)}">')
            for option_value, label in options:
                # Django's rule: one option selected, the first that matches (all, if multiple).
                selected = (not has_selected or self.allow_multiple_selected) and str(
                    option_value
                ) in chosen
                has_selected |= selected
                parts.append(
                    f'\n  <option value="{escape(option_value)}"{" selected" if selected else ""}>'
                    f"{escape(label)}</option>\n"
                )
            if group_name:
                parts.append("\n  </optgroup>")
        return format_html(
            '<select name="{}"{}>{}\n</select>',
            widget["name"],
            attributes(widget["attrs"]),
            mark_safe("".join(parts)),
        )

    def groups(self):
        """(group name or None, [(value, label), …]) in order, as Django's optgroups reads
        the choices: a choice whose label is a list is a group."""
        for option_value, label in self.choices:
            if isinstance(label, (list, tuple)):
                yield option_value, [("" if v is None else v, sub) for v, sub in label]
            else:
                yield None, [("" if option_value is None else option_value, label)]


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
