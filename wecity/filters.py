"""Filters shared by the pages' and the API's FilterSets."""

import datetime

import django_filters
from django.utils import timezone


class DayFilter(django_filters.DateFilter):
    """On or after a day (`lookup_expr="gte"`), or on or before it ("lte"), in the portal's
    time zone, as a range on the timestamp column.

    Django's `__date__gte` compares the day of the column, a function of it that no index on
    the column serves; the same question asked as `column >= start of the day` (or `< start
    of the next day`) uses the index.
    """

    def __init__(self, *args, lookup_expr="gte", **kwargs):
        if lookup_expr not in ("gte", "lte"):
            raise ValueError("DayFilter takes lookup_expr 'gte' or 'lte'")
        super().__init__(*args, lookup_expr=lookup_expr, **kwargs)

    def filter(self, qs, value):
        if value in django_filters.constants.EMPTY_VALUES:
            return qs
        day = value if self.lookup_expr == "gte" else value + datetime.timedelta(days=1)
        start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
        lookup = "gte" if self.lookup_expr == "gte" else "lt"
        qs = self.get_method(qs)(**{f"{self.field_name}__{lookup}": start})
        return qs.distinct() if self.distinct else qs
