"""wecity.widgets.Select writes the same HTML as Django's Select and its templates."""

import pytest
from django import forms
from django.utils.translation import gettext_lazy as _

from wecity.widgets import Select

CHOICES = [
    ("", _("Any forum")),
    (1, "智慧城市 & <数字政府>"),
    (2, '"Quoted" forum'),
    ("Archive", [(3, "第一期"), (4, "第二期")]),
]


@pytest.mark.parametrize("value", [None, "", 2, "3", ["1", "4"]])
@pytest.mark.parametrize(
    "attrs",
    [{}, {"id": "id_forum", "required": True, "disabled": False, "data-x": "<&>"}],
)
def test_a_select_is_written_as_djangos_templates_write_it(value, attrs):
    django_html = forms.Select(choices=CHOICES, attrs=attrs).render("forum", value)

    assert Select(choices=CHOICES, attrs=attrs).render("forum", value) == django_html


def test_a_multiple_select_too():
    django_html = forms.SelectMultiple(choices=CHOICES).render("forum", ["1", "3"])

    class SelectMultiple(Select, forms.SelectMultiple):
        pass

    assert SelectMultiple(choices=CHOICES).render("forum", ["1", "3"]) == django_html
