"""What views hand their templates: evaluated rows and choices, never a query still to run.

A template that loops over a QuerySet, or renders the select of a ModelChoiceField, queries
the database while it renders: unseen by the view, and easily once per row. Views evaluate
these here first; tests/test_render_queries.py fails any page whose template queries.
"""

import contextlib

from django.core.exceptions import ValidationError

# How many rows a filter's select offers of a table that keeps growing.
FILTER_CHOICES = 200


def evaluate_choices(form, *names):
    """Run the queries behind the choices of the form's fields (or of `names`) now, once;
    returns the form.

    A ModelChoiceField's choices are a QuerySet run each time the select renders, and
    callable choices (django-filter's) are called then too. Validation is unchanged: it
    still looks the chosen value up in the field's QuerySet.
    """
    for name, field in form.fields.items():
        if hasattr(field.widget, "choices") and (not names or name in names):
            # Iterated, not list(): list() asks a ModelChoiceIterator its len(), a COUNT query.
            field.widget.choices = [choice for choice in field.widget.choices]  # noqa: C416
    return form


def limit_choices(form, name, limit):
    """Offer the first `limit` rows of a ModelChoiceField's QuerySet; returns the form.

    For a choice among a table that keeps growing (the speakers), where a search box narrows
    the list: the page never loads the whole table. Any row of the QuerySet is still valid.
    """
    return choices_from(form, name, form.fields[name].queryset[:limit])


def bounded_choices(form, name, limit, *, label=None, keep=None):
    """Offer the first `limit` rows of a ModelChoiceField's QuerySet, and the row chosen in
    the form's data when it is not among them (so that it shows selected); returns the form.

    For the filters over tables that keep growing (speakers, forums): a page never loads the
    whole table, and any row stays valid (a link may choose any). With `label`, the field
    whose value str() of a row gives (a forum's title), rows are read as (pk, label) pairs
    instead of model instances: the same options, at a fraction of the cost. With `keep`,
    a function given the one that reads the first rows, those come from it: a
    `pagecache.remember` under the tags of what they show, so that the page does not read
    them each time it is built.
    """
    field = form.fields[name]
    queryset = field.queryset if label is None else field.queryset.values_list("pk", label)

    def first_rows():
        return list(queryset[:limit])

    rows = list(keep(first_rows) if keep else first_rows())
    chosen = form.data.get(form.add_prefix(name)) if form.is_bound else None
    if chosen and not any(str(pk_of(row)) == str(chosen) for row in rows):
        with contextlib.suppress(ValueError, TypeError, ValidationError):
            rows += list(queryset.filter(pk=chosen))
    if label is None:
        return choices_from(form, name, rows)
    field.widget.choices = empty_choice(field) + rows
    return form


def pk_of(row):
    return row[0] if isinstance(row, tuple) else row.pk


def choices_from(form, name, rows):
    """Offer `rows` (already loaded, or a QuerySet run now) as the choices of a
    ModelChoiceField; returns the form. Validation still uses the field's QuerySet.
    """
    field = form.fields[name]
    iterator = field.iterator(field)
    field.widget.choices = empty_choice(field) + [iterator.choice(row) for row in rows]
    return form


def empty_choice(field):
    """The field's "any" choice ("Any forum"), as a list of none or one."""
    empty = getattr(field, "empty_label", None)
    return [("", empty)] if empty is not None else []


class EvaluatedListMixin:
    """A ListView whose template gets its rows (the page's, when paginated) as a list."""

    def paginate_queryset(self, queryset, page_size):
        paginator, page, rows, is_paginated = super().paginate_queryset(queryset, page_size)
        page.object_list = list(rows)
        return paginator, page, page.object_list, is_paginated

    def get_context_data(self, *, object_list=None, **kwargs):
        if object_list is None and not self.get_paginate_by(self.object_list):
            object_list = list(self.object_list)
        return super().get_context_data(object_list=object_list, **kwargs)
