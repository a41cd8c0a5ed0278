"""wecity.render.bounded_choices: the first rows of a growing table, and the one chosen."""

import re

import pytest
from django import forms

from forums.models import Forum, Speaker
from tests.factories import ForumFactory, SpeakerFactory
from wecity.render import bounded_choices
from wecity.widgets import Select

pytestmark = pytest.mark.django_db


def form_of(queryset, data=None):
    class Filter(forms.Form):
        row = forms.ModelChoiceField(queryset=queryset, required=False, widget=Select)

    return Filter(data)


def options(form):
    return [(str(value), str(label)) for value, label in form.fields["row"].widget.choices]


@pytest.mark.parametrize(
    ("model", "factory", "label", "names"),
    [
        (Forum, ForumFactory, "title", ["城市更新论坛", "智慧交通圆桌", "数字政府沙龙"]),
        (Speaker, SpeakerFactory, "name", ["王晓明", "李华", "张伟"]),
    ],
)
@pytest.mark.parametrize("chosen", [None, "first", "last"])
def test_rows_read_as_labels_give_the_options_of_model_instances(
    model, factory, label, names, chosen
):
    rows = [factory(**{label: name}) for name in names]
    queryset = model.objects.order_by(label)
    row = None if chosen is None else rows[0 if chosen == "first" else -1]
    data = None if row is None else {"row": row.pk}

    read = options(bounded_choices(form_of(queryset, data), "row", 2, label=label))
    loaded = options(bounded_choices(form_of(queryset, data), "row", 2))

    assert read == loaded
    assert len(read) == 3 + (row is not None and row not in queryset[:2])
    html = form_of(queryset, data)
    bounded_choices(html, "row", 2, label=label)
    assert re.findall(r'<option value="(\d*)" selected>', str(html["row"])) == [
        "" if row is None else str(row.pk)
    ]
