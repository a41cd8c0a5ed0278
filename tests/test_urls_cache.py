"""wecity.urls_cache: a remembered reverse() gives what reverse() gives, per prefix and URLconf."""

import pytest
from django.urls import clear_script_prefix, include, path, reverse, set_script_prefix

from forums.models import Quote, Speaker
from wecity.urls_cache import object_url


def view(request):
    raise AssertionError("never called")


# A URLconf of its own: the speaker's page elsewhere, under the same name.
urlpatterns = [
    path("", include(([path("people/<str:slug>/", view, name="speaker-detail")], "forums")))
]


@pytest.fixture(autouse=True)
def prefix():
    yield
    clear_script_prefix()


@pytest.mark.parametrize("slug", ["wang-xiao-ming", "王晓明", "li-2"])
def test_a_remembered_url_is_reverses_own(slug):
    expected = reverse("forums:speaker-detail", kwargs={"slug": slug})

    assert object_url("forums:speaker-detail", slug=slug) == expected
    assert object_url("forums:speaker-detail", slug=slug) == expected  # from memory
    assert Speaker(slug=slug).get_absolute_url() == expected


def test_a_quote_links_to_its_own_page():
    assert Quote(pk=7).get_absolute_url() == reverse("forums:quote-detail", kwargs={"pk": 7})


def test_a_new_script_prefix_gives_new_urls():
    before = object_url("forums:speaker-detail", slug="wang")
    set_script_prefix("/portal/")

    assert object_url("forums:speaker-detail", slug="wang") == f"/portal{before}"


def test_another_urlconf_gives_its_own_urls(settings):
    before = object_url("forums:speaker-detail", slug="wang")
    settings.ROOT_URLCONF = "tests.test_urls_cache"

    assert (before, object_url("forums:speaker-detail", slug="wang")) == (
        "/speakers/wang/",
        "/people/wang/",
    )
