"""The organisers' pages: create, edit, preview, publish, share and restore a forum's recap."""

import datetime
import io
import re
from html import unescape
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, reverse
from django.utils import timezone
from PIL import Image

from accounts.models import Role
from forums import organise_urls, services
from forums.models import (
    Appearance,
    CurationEntry,
    Forum,
    Quote,
    Recap,
    RecapShareLink,
    Speaker,
    Theme,
)
from tests.factories import (
    AppearanceFactory,
    ForumFactory,
    QuoteFactory,
    RecapFactory,
    SpeakerFactory,
    ThemeFactory,
    TopicFactory,
    TranscriptTurnFactory,
    UserFactory,
)
from tests.html import elements, texts

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
SMALL, LARGE = 2, 6


# --- Helpers --------------------------------------------------------------------------------


@pytest.fixture
def organiser_client(client, organiser):
    client.force_login(organiser)
    return client


def make_forum(user, **fields):
    """A forum made as the pages make it: through the services, with a first revision."""
    fields = {
        "title": "WeCity 未来城市圆桌论坛",
        "starts_at": datetime.datetime(2026, 11, 27, 6, 0, tzinfo=UTC),
        "lede": "嘉宾们围绕城市与未来展开研讨。",
        **fields,
    }
    return services.create_forum(user=user, **fields)


def version_of(forum):
    return Recap.objects.get(forum=forum).version


def revisions_of(forum):
    return list(
        Recap.objects.get(forum=forum).revisions.order_by("number").values_list("number", flat=True)
    )


def theme_titles(forum):
    return list(
        Theme.objects.filter(forum=forum).order_by("position").values_list("title", flat=True)
    )


def message_texts(response):
    return texts(response.text, '<li class="message')


def input_value(html, name):
    match = re.search(rf'<input [^>]*name="{name}"[^>]*>', html)
    value = re.search(r'value="([^"]*)"', match.group(0)) if match else None
    return unescape(value.group(1)) if value else None


def textarea_value(html, name):
    match = re.search(rf'<textarea [^>]*name="{name}"[^>]*>\n?(.*?)</textarea>', html, re.S)
    return unescape(match.group(1)) if match else None


def field_errors(html, name):
    """The errors shown next to a field (inside its own field block)."""
    field = elements(html, f'<div class="field field--error" data-field="{name}"')
    return texts(field[0], '<ul class="errorlist"') if field else []


def edit_data(forum, **changes):
    """The edit page's main form as the browser would post it, unchanged but for `changes`."""
    recap = Recap.objects.get(forum=forum)
    local = timezone.localtime
    data = {
        "title": forum.title,
        "headline": recap.headline,
        "starts_at": local(forum.starts_at).strftime("%Y-%m-%dT%H:%M") if forum.starts_at else "",
        "ends_at": local(forum.ends_at).strftime("%Y-%m-%dT%H:%M") if forum.ends_at else "",
        "format": forum.format,
        "location": forum.location,
        "lede": forum.lede,
        "body": recap.body,
        "version": recap.version,
    }
    data.update(changes)
    return data


def png_bytes(size=(8, 8), image_format="PNG"):
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 79, 196)).save(buffer, format=image_format)
    return buffer.getvalue()


# --- Permissions ----------------------------------------------------------------------------


def organise_url_names():
    return [p.name for p in organise_urls.urlpatterns if isinstance(p, URLPattern)]


def view_method(name):
    pattern = next(p for p in organise_urls.urlpatterns if getattr(p, "name", None) == name)
    allowed = pattern.callback.view_class.http_method_names
    return "post" if "get" not in allowed else "get"


@pytest.fixture
def every_kind_of_row(organiser):
    """A forum with a theme, a speaker and a turn, so every organise URL can be built."""
    forum = make_forum(organiser)
    speaker = SpeakerFactory()
    appearance = services.add_appearance(
        forum, user=organiser, expected_version=1, speaker=speaker, role="panelist"
    )
    theme = services.add_theme(forum, user=organiser, expected_version=2, title="城市与未来")
    turn = services.add_turn(
        theme, user=organiser, expected_version=3, speaker=speaker, body="城市是一个复杂的系统。"
    )
    return {
        "pk": forum.pk,
        "theme_pk": theme.pk,
        "appearance_pk": appearance.pk,
        "turn_pk": turn.pk,
        "number": 1,
    }


def organise_url(name, rows):
    pattern = next(p for p in organise_urls.urlpatterns if getattr(p, "name", None) == name)
    kwargs = {key: rows[key] for key in pattern.pattern.converters}
    return reverse(f"organise:{name}", kwargs=kwargs)


def test_every_organise_url_is_listed_for_the_permission_tests():
    assert len(organise_url_names()) == len(organise_urls.urlpatterns) >= 25


@pytest.mark.parametrize("name", organise_url_names())
def test_organise_page_sends_an_anonymous_visitor_to_sign_in(client, every_kind_of_row, name):
    url = organise_url(name, every_kind_of_row)

    response = getattr(client, view_method(name))(url)

    assert (response.status_code, response.url) == (302, f"/accounts/login/?next={quote(url)}")


@pytest.mark.parametrize("role", [None, Role.MEMBER, Role.ADMIN])
@pytest.mark.parametrize("name", organise_url_names())
def test_organise_page_refuses_anyone_but_an_organiser(client, every_kind_of_row, name, role):
    client.force_login(UserFactory(roles=[role] if role else []))
    url = organise_url(name, every_kind_of_row)
    versions = version_of(every_kind_of_row["pk"])

    response = getattr(client, view_method(name))(url, HTTP_ACCEPT_LANGUAGE="en")

    assert (
        response.status_code,
        texts(response.text, "<h1"),
        version_of(every_kind_of_row["pk"]),
    ) == (
        403,
        ["Not allowed"],
        versions,
    )


@pytest.mark.parametrize("name", organise_url_names())
def test_organise_page_answers_an_organiser(organiser_client, every_kind_of_row, name):
    url = organise_url(name, every_kind_of_row)
    method = view_method(name)

    response = getattr(organiser_client, method)(url)

    # Pages answer; changes posted without their form's input go back to an organise page.
    if method == "get" or name == "markdown-preview":
        assert (response.status_code, response.get("Location")) == (200, None)
    else:
        assert (response.status_code, response.url.startswith("/organise/forums/")) == (302, True)


def test_header_links_to_the_organise_pages_for_organisers_only(client, organiser):
    anonymous = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(UserFactory(roles=[Role.MEMBER]))
    member = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(organiser)
    organiser_page = client.get("/", HTTP_ACCEPT_LANGUAGE="en")

    def nav(response):
        return texts(elements(response.text, '<nav class="site-nav"')[0], "<a")

    assert ("Organise" in nav(anonymous), "Organise" in nav(member), nav(organiser_page)[-1]) == (
        False,
        False,
        "Organise",
    )


# --- Dashboard and new forum ----------------------------------------------------------------


def test_dashboard_lists_every_forum_with_its_status_and_last_edit(organiser_client, organiser):
    draft = make_forum(
        organiser, title="草稿论坛", starts_at=datetime.datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    )
    published = RecapFactory(
        forum=ForumFactory(title="已发布论坛"), published=True, updated_by=organiser
    ).forum
    scheduled = RecapFactory(
        forum=ForumFactory(
            title="定时论坛", starts_at=datetime.datetime(2026, 12, 30, 6, 0, tzinfo=UTC)
        ),
        scheduled=True,
        publish_at=datetime.datetime(2026, 12, 31, 2, 0, tzinfo=UTC),
    ).forum

    response = organiser_client.get(reverse("organise:forum-list"), HTTP_ACCEPT_LANGUAGE="en")

    entries = elements(response.text, '<li class="entry organise-entry"')
    assert [texts(entry, '<h2 class="entry__title"')[0] for entry in entries] == [
        "定时论坛",
        "草稿论坛",
        "已发布论坛",
    ]
    assert [texts(entry, '<span class="badge')[0] for entry in entries] == [
        "Scheduled",
        "Draft",
        "Published",
    ]
    assert "for 2026-12-31 10:00" in entries[0]
    assert f"Last edited by {organiser}" in entries[1]
    assert [
        f'href="{reverse("organise:forum-edit", kwargs={"pk": forum.pk})}"' in entry
        for forum, entry in zip([scheduled, draft, published], entries, strict=True)
    ] == [True, True, True]
    assert 'href="/organise/import/"' in response.text


def test_new_forum_is_created_with_a_draft_recap_and_opens_its_edit_page(
    organiser_client, organiser
):
    response = organiser_client.post(
        reverse("organise:forum-create"),
        {
            "title": "智慧城市线上圆桌论坛",
            "starts_at": "2026-11-27T14:00",
            "ends_at": "2026-11-27T16:00",
            "format": "online",
            "location": "",
            "lede": "围绕三大议题展开研讨。",
        },
    )

    forum = Forum.objects.get()
    assert (
        response.url,
        forum.title,
        forum.starts_at,
        forum.ends_at,
        forum.recap.status,
        forum.recap.headline,
        forum.recap.updated_by,
        revisions_of(forum),
    ) == (
        reverse("organise:forum-edit", kwargs={"pk": forum.pk}),
        "智慧城市线上圆桌论坛",
        # Typed in the programme's time zone, Asia/Shanghai (UTC+8).
        datetime.datetime(2026, 11, 27, 6, 0, tzinfo=UTC),
        datetime.datetime(2026, 11, 27, 8, 0, tzinfo=UTC),
        Recap.Status.DRAFT,
        "智慧城市线上圆桌论坛",
        organiser,
        [1],
    )


def test_new_forum_without_a_title_shows_the_error_next_to_the_field(organiser_client):
    response = organiser_client.post(
        reverse("organise:forum-create"),
        {"title": "", "format": "online", "lede": "导语"},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    field = elements(response.text, '<div class="field field--error" data-field="title"')
    assert (Forum.objects.count(), texts(field[0], '<ul class="errorlist"')) == (
        0,
        ["This field is required."],
    )


# --- The main form --------------------------------------------------------------------------


def test_edit_page_shows_the_forum_in_the_programme_time_zone(organiser_client, organiser):
    forum = make_forum(organiser)

    response = organiser_client.get(reverse("organise:forum-edit", kwargs={"pk": forum.pk}))

    assert (
        input_value(response.text, "title"),
        input_value(response.text, "starts_at"),
        input_value(response.text, "version"),
    ) == ("WeCity 未来城市圆桌论坛", "2026-11-27T14:00", "1")


def test_edit_saves_the_forum_and_its_recap_and_records_a_revision(organiser_client, organiser):
    forum = make_forum(organiser)
    topics = TopicFactory.create_batch(2)

    response = organiser_client.post(
        reverse("organise:forum-edit", kwargs={"pk": forum.pk}),
        edit_data(
            forum,
            title="智慧城市线上圆桌论坛",
            headline="如何加速智慧城市建设进程",
            location="腾讯滨海大厦",
            body="## 城市与未来\r\n\r\n智慧城市最终服务于人。",
            released_topics=[topics[1].pk],
        ),
    )

    forum.refresh_from_db()
    assert (
        response.url,
        forum.title,
        forum.location,
        forum.recap.headline,
        forum.recap.body,
        list(forum.released_topics.all()),
        forum.recap.version,
        revisions_of(forum),
    ) == (
        reverse("organise:forum-edit", kwargs={"pk": forum.pk}) + "#recap",
        "智慧城市线上圆桌论坛",
        "腾讯滨海大厦",
        "如何加速智慧城市建设进程",
        "## 城市与未来\n\n智慧城市最终服务于人。",
        [topics[1]],
        2,
        [1, 2],
    )


def test_edit_with_bad_input_shows_errors_next_to_the_fields_and_saves_nothing(
    organiser_client, organiser
):
    forum = make_forum(organiser)

    response = organiser_client.post(
        reverse("organise:forum-edit", kwargs={"pk": forum.pk}),
        edit_data(forum, headline="", ends_at="2026-11-27T13:00", title="新标题"),
        HTTP_ACCEPT_LANGUAGE="en",
    )

    forum.refresh_from_db()
    assert (
        field_errors(response.text, "headline"),
        field_errors(response.text, "ends_at"),
        input_value(response.text, "title"),
        forum.title,
        revisions_of(forum),
    ) == (
        ["This field is required."],
        ["The forum cannot end before it starts."],
        "新标题",
        "WeCity 未来城市圆桌论坛",
        [1],
    )


def test_stale_edit_keeps_the_organisers_input_shows_the_saved_values_and_saves_nothing(
    organiser_client, organiser
):
    forum = make_forum(organiser, title="原来的标题")
    stale = edit_data(forum)
    colleague = UserFactory(roles=[Role.ORGANISER])
    services.update_forum(forum, user=colleague, expected_version=1, title="同事改的标题")

    response = organiser_client.post(
        reverse("organise:forum-edit", kwargs={"pk": forum.pk}),
        {**stale, "title": "我改的标题", "body": "我写的正文。"},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    forum.refresh_from_db()
    conflict = elements(response.text, '<div class="alert alert--error conflict"')[0]
    assert (
        input_value(response.text, "title"),
        textarea_value(response.text, "body"),
        input_value(response.text, "version"),
        texts(conflict, "<dt"),
        texts(conflict, "<dd"),
        forum.title,
        forum.recap.body,
        revisions_of(forum),
    ) == (
        "我改的标题",
        "我写的正文。",
        "2",
        ["Forum title, saved now:", "Body (Markdown), saved now:"],
        ["同事改的标题", "(empty)"],
        "同事改的标题",
        "",
        [1, 2],
    )
    assert texts(conflict, '<p class="alert__title"') == [
        "Someone else saved this recap while you were editing it."
    ]


def test_saving_again_after_a_stale_edit_is_a_deliberate_overwrite(organiser_client, organiser):
    forum = make_forum(organiser)
    stale = edit_data(forum, title="我改的标题")
    services.update_forum(forum, user=organiser, expected_version=1, title="同事改的标题")
    page = organiser_client.post(reverse("organise:forum-edit", kwargs={"pk": forum.pk}), stale)

    organiser_client.post(
        reverse("organise:forum-edit", kwargs={"pk": forum.pk}),
        {**stale, "version": input_value(page.text, "version")},
    )

    forum.refresh_from_db()
    assert (forum.title, revisions_of(forum)) == ("我改的标题", [1, 2, 3])


def test_cover_image_upload_accepts_a_png(organiser_client, organiser):
    forum = make_forum(organiser)
    cover = SimpleUploadedFile("cover.png", png_bytes(), content_type="image/png")

    organiser_client.post(
        reverse("organise:forum-edit", kwargs={"pk": forum.pk}),
        {**edit_data(forum), "cover_image": cover},
    )

    forum.refresh_from_db()
    assert (forum.cover_image.name.startswith("forums/cover"), forum.cover_image.size) == (
        True,
        len(png_bytes()),
    )


@pytest.mark.parametrize(
    ("name", "content", "error"),
    [
        pytest.param(
            "cover.png",
            b"not an image at all",
            "Upload a valid image. The file you uploaded was either not an image or a "
            "corrupted image.",
            id="text-renamed-png",
        ),
        pytest.param(
            "cover.gif",
            png_bytes(image_format="GIF"),
            "Choose a JPEG, PNG or WebP image; this one is GIF.",
            id="gif",
        ),
    ],
)
def test_cover_image_upload_refuses_what_is_not_a_jpeg_png_or_webp_image(
    organiser_client, organiser, name, content, error
):
    forum = make_forum(organiser)

    response = organiser_client.post(
        reverse("organise:forum-edit", kwargs={"pk": forum.pk}),
        {**edit_data(forum, title="新标题"), "cover_image": SimpleUploadedFile(name, content)},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    forum.refresh_from_db()
    field = elements(response.text, '<div class="field field--error" data-field="cover_image"')
    assert (texts(field[0], '<ul class="errorlist"'), forum.cover_image.name, forum.title) == (
        [error],
        "",
        "WeCity 未来城市圆桌论坛",
    )


def test_cover_image_over_5_mb_is_refused(organiser_client, organiser, settings):
    forum = make_forum(organiser)
    big = png_bytes() + b"\0" * (5 * 1024 * 1024)

    response = organiser_client.post(
        reverse("organise:forum-edit", kwargs={"pk": forum.pk}),
        {**edit_data(forum), "cover_image": SimpleUploadedFile("big.png", big)},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    forum.refresh_from_db()
    field = elements(response.text, '<div class="field field--error" data-field="cover_image"')
    assert (texts(field[0], '<ul class="errorlist"'), forum.cover_image.name) == (
        ["The image is larger than 5 MB: choose a smaller one."],
        "",
    )


def test_markdown_preview_renders_markdown_and_drops_script(organiser_client):
    response = organiser_client.post(
        reverse("organise:markdown-preview"),
        {"body": "## 城市与未来\n\n**智慧城市**<script>alert(1)</script>"},
    )

    assert response.text == (
        "<h2>城市与未来</h2>\n<p><strong>智慧城市</strong>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"
    )


def test_edit_page_wires_the_body_to_the_live_preview(organiser_client, organiser):
    forum = make_forum(organiser)

    response = organiser_client.get(reverse("organise:forum-edit", kwargs={"pk": forum.pk}))

    textarea = re.search(r'<textarea [^>]*name="body"[^>]*>', response.text).group(0)
    assert (
        f'hx-post="{reverse("organise:markdown-preview")}"' in textarea,
        'hx-trigger="keyup changed delay:400ms"' in textarea,
        'hx-target="#body-preview"' in textarea,
        'id="body-preview"' in response.text,
    ) == (True, True, True, True)


# --- Themes ---------------------------------------------------------------------------------


def post_change(client, name, data=None, **kwargs):
    return client.post(reverse(f"organise:{name}", kwargs=kwargs), data or {}, follow=True)


def test_theme_is_added_renamed_moved_and_removed(organiser_client, organiser):
    forum = make_forum(organiser)

    post_change(organiser_client, "theme-add", {"title": "城市与未来", "version": 1}, pk=forum.pk)
    post_change(organiser_client, "theme-add", {"title": "数据与价值", "version": 2}, pk=forum.pk)
    first, second = Theme.objects.filter(forum=forum).order_by("position")
    post_change(
        organiser_client,
        "theme-rename",
        {"title": "机会与贡献", "version": 3},
        pk=forum.pk,
        theme_pk=second.pk,
    )
    after_rename = theme_titles(forum)
    post_change(
        organiser_client,
        "theme-move",
        {"direction": "up", "version": 4},
        pk=forum.pk,
        theme_pk=second.pk,
    )
    after_move = theme_titles(forum)
    response = post_change(
        organiser_client, "theme-remove", {"version": 5}, pk=forum.pk, theme_pk=first.pk
    )

    assert (
        after_rename,
        after_move,
        theme_titles(forum),
        revisions_of(forum),
        response.redirect_chain[-1][0],
    ) == (
        ["城市与未来", "机会与贡献"],
        ["机会与贡献", "城市与未来"],
        ["机会与贡献"],
        [1, 2, 3, 4, 5, 6],
        reverse("organise:forum-edit", kwargs={"pk": forum.pk}) + "#themes",
    )


def test_theme_remove_asks_for_confirmation_without_javascript(organiser_client, organiser):
    forum = make_forum(organiser)
    theme = services.add_theme(forum, user=organiser, expected_version=1, title="城市与未来")

    response = organiser_client.get(reverse("organise:forum-edit", kwargs={"pk": forum.pk}))

    remove = reverse("organise:theme-remove", kwargs={"pk": forum.pk, "theme_pk": theme.pk})
    confirm = [d for d in elements(response.text, '<details class="confirm"') if remove in d]
    assert (len(confirm), "confirm(" in response.text, "onclick" in response.text) == (
        1,
        False,
        False,
    )


def test_stale_small_form_changes_nothing_and_repeats_the_typed_input(organiser_client, organiser):
    forum = make_forum(organiser)
    services.add_theme(forum, user=organiser, expected_version=1, title="城市与未来")

    response = organiser_client.post(
        reverse("organise:theme-add", kwargs={"pk": forum.pk}),
        {"title": "数据与价值", "version": 1},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )

    forum.refresh_from_db()
    assert (theme_titles(forum), revisions_of(forum), message_texts(response)) == (
        ["城市与未来"],
        [1, 2],
        [services.StaleEdit(forum.recap).messages[0] + " What you typed: 数据与价值"],
    )


def test_theme_with_a_duplicate_title_is_refused_with_a_message(organiser_client, organiser):
    forum = make_forum(organiser)
    services.add_theme(forum, user=organiser, expected_version=1, title="城市与未来")

    response = organiser_client.post(
        reverse("organise:theme-add", kwargs={"pk": forum.pk}),
        {"title": "城市与未来", "version": 2},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert (theme_titles(forum), revisions_of(forum), len(message_texts(response))) == (
        ["城市与未来"],
        [1, 2],
        1,
    )
    assert "already exists" in message_texts(response)[0]


# --- Speakers -------------------------------------------------------------------------------


def appearance_rows(forum):
    return list(
        Appearance.objects.filter(forum=forum)
        .order_by("position", "id")
        .values_list("speaker__name", "role", "organisation", "title", "is_cohort_representative")
    )


def test_existing_speaker_is_added_with_their_current_organisation_and_title(
    organiser_client, organiser
):
    forum = make_forum(organiser)
    speaker = SpeakerFactory(name="邬贺铨", organisation="中国工程院", title="院士")

    post_change(
        organiser_client,
        "appearance-add",
        {"speaker": speaker.pk, "role": "panelist", "version": 1},
        pk=forum.pk,
    )

    assert (appearance_rows(forum), revisions_of(forum)) == (
        [("邬贺铨", "panelist", "中国工程院", "院士", False)],
        [1, 2],
    )


def test_new_speaker_is_created_inline_and_added(organiser_client, organiser):
    forum = make_forum(organiser)
    SpeakerFactory(name="司晓")  # chosen in the select, but a new name wins

    post_change(
        organiser_client,
        "appearance-add",
        {
            "speaker": Speaker.objects.get().pk,
            "new_name": "安韧",
            "new_organisation": "特斯联",
            "new_title": "联合创始人",
            "role": "panelist",
            "is_cohort_representative": "on",
            "version": 1,
        },
        pk=forum.pk,
    )

    assert (
        appearance_rows(forum),
        sorted(Speaker.objects.values_list("name", "organisation", "title")),
    ) == (
        [("安韧", "panelist", "特斯联", "联合创始人", True)],
        [("司晓", "腾讯云", "智慧城市总经理"), ("安韧", "特斯联", "联合创始人")],
    )


def test_new_speaker_is_not_created_when_the_forum_changed_meanwhile(organiser_client, organiser):
    forum = make_forum(organiser)
    services.add_theme(forum, user=organiser, expected_version=1, title="城市与未来")

    post_change(
        organiser_client,
        "appearance-add",
        {"new_name": "安韧", "role": "panelist", "version": 1},
        pk=forum.pk,
    )

    assert (appearance_rows(forum), Speaker.objects.count()) == ([], 0)


def test_speaker_appearance_is_updated_moved_and_removed(organiser_client, organiser):
    forum = make_forum(organiser)
    first = services.add_appearance(
        forum,
        user=organiser,
        expected_version=1,
        speaker=SpeakerFactory(name="穆亦飞"),
        role="panelist",
    )
    second = services.add_appearance(
        forum,
        user=organiser,
        expected_version=2,
        speaker=SpeakerFactory(name="王景田"),
        role="panelist",
    )

    post_change(
        organiser_client,
        "appearance-update",
        {"role": "host", "organisation": "腾讯政务云", "title": "副总裁", "version": 3},
        pk=forum.pk,
        appearance_pk=second.pk,
    )
    post_change(
        organiser_client,
        "appearance-move",
        {"direction": "up", "version": 4},
        pk=forum.pk,
        appearance_pk=second.pk,
    )
    moved = appearance_rows(forum)
    post_change(
        organiser_client, "appearance-remove", {"version": 5}, pk=forum.pk, appearance_pk=first.pk
    )

    assert (moved, appearance_rows(forum), revisions_of(forum)) == (
        [
            ("王景田", "host", "腾讯政务云", "副总裁", False),
            ("穆亦飞", "panelist", "", "", False),
        ],
        [("王景田", "host", "腾讯政务云", "副总裁", False)],
        [1, 2, 3, 4, 5, 6],
    )


def test_cohort_representative_who_is_not_a_panelist_is_refused(organiser_client, organiser):
    forum = make_forum(organiser)
    appearance = services.add_appearance(
        forum, user=organiser, expected_version=1, speaker=SpeakerFactory(), role="host"
    )

    response = organiser_client.post(
        reverse(
            "organise:appearance-update", kwargs={"pk": forum.pk, "appearance_pk": appearance.pk}
        ),
        {"role": "host", "is_cohort_representative": "on", "version": 2},
        follow=True,
    )

    assert (appearance_rows(forum)[0][4], revisions_of(forum), len(message_texts(response))) == (
        False,
        [1, 2],
        1,
    )


def test_speaker_who_still_speaks_cannot_be_removed(organiser_client, organiser):
    forum = make_forum(organiser)
    speaker = SpeakerFactory(name="邬贺铨")
    appearance = services.add_appearance(
        forum, user=organiser, expected_version=1, speaker=speaker, role="panelist"
    )
    theme = services.add_theme(forum, user=organiser, expected_version=2, title="城市与未来")
    services.add_turn(theme, user=organiser, expected_version=3, speaker=speaker, body="发言。")

    response = organiser_client.post(
        reverse(
            "organise:appearance-remove", kwargs={"pk": forum.pk, "appearance_pk": appearance.pk}
        ),
        {"version": 4},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert (len(appearance_rows(forum)), message_texts(response)) == (
        1,
        ["邬贺铨 still speaks in the transcript: remove or reassign those turns first."],
    )


# --- Transcript -----------------------------------------------------------------------------


def turn_rows(theme):
    return list(theme.turns.order_by("position").values_list("speaker__name", "body"))


def test_turn_is_added_edited_moved_and_removed(organiser_client, organiser):
    forum = make_forum(organiser)
    host, guest = SpeakerFactory(name="王景田"), SpeakerFactory(name="安韧")
    services.add_appearance(forum, user=organiser, expected_version=1, speaker=host, role="host")
    services.add_appearance(
        forum, user=organiser, expected_version=2, speaker=guest, role="panelist"
    )
    theme = services.add_theme(forum, user=organiser, expected_version=3, title="城市与未来")

    post_change(
        organiser_client,
        "turn-add",
        {"speaker": host.pk, "body": "智慧城市可以带来什么价值?", "version": 4},
        pk=forum.pk,
        theme_pk=theme.pk,
    )
    post_change(
        organiser_client,
        "turn-add",
        {"speaker": guest.pk, "body": "第一段。\r\n\r\n第二段。", "version": 5},
        pk=forum.pk,
        theme_pk=theme.pk,
    )
    first, second = theme.turns.order_by("position")
    post_change(
        organiser_client,
        "turn-update",
        {"speaker": host.pk, "body": "理想的智慧城市是什么样子?", "version": 6},
        pk=forum.pk,
        turn_pk=first.pk,
    )
    post_change(
        organiser_client,
        "turn-move",
        {"direction": "down", "version": 7},
        pk=forum.pk,
        turn_pk=first.pk,
    )
    moved = turn_rows(theme)
    post_change(organiser_client, "turn-remove", {"version": 8}, pk=forum.pk, turn_pk=second.pk)

    assert (moved, turn_rows(theme), revisions_of(forum)) == (
        [("安韧", "第一段。\n\n第二段。"), ("王景田", "理想的智慧城市是什么样子?")],
        [("王景田", "理想的智慧城市是什么样子?")],
        list(range(1, 10)),
    )


def test_turn_by_someone_who_is_not_a_speaker_of_the_forum_is_refused(organiser_client, organiser):
    forum = make_forum(organiser)
    theme = services.add_theme(forum, user=organiser, expected_version=1, title="城市与未来")
    stranger = SpeakerFactory()

    response = post_change(
        organiser_client,
        "turn-add",
        {"speaker": stranger.pk, "body": "发言。", "version": 2},
        pk=forum.pk,
        theme_pk=theme.pk,
    )

    assert (turn_rows(theme), revisions_of(forum), len(message_texts(response))) == ([], [1, 2], 1)


def test_turn_speaker_choices_are_the_forums_speakers(organiser_client, organiser):
    forum = make_forum(organiser)
    services.add_appearance(
        forum,
        user=organiser,
        expected_version=1,
        speaker=SpeakerFactory(name="王景田"),
        role="host",
    )
    SpeakerFactory(name="别的论坛的嘉宾")
    services.add_theme(forum, user=organiser, expected_version=2, title="城市与未来")

    response = organiser_client.get(reverse("organise:forum-edit", kwargs={"pk": forum.pk}))

    theme = forum.themes.get()
    select = elements(
        response.text, f'<select name="speaker" required id="theme-{theme.pk}-turn-speaker"'
    )
    assert texts(select[0], "<option") == ["---------", "王景田"]


# --- Highlights -----------------------------------------------------------------------------


@pytest.fixture
def curator_client(client):
    """An organiser who is also an admin: only admins curate the highlights."""
    client.force_login(UserFactory(roles=[Role.ORGANISER, Role.ADMIN]))
    return client


def test_highlights_are_the_ticked_approved_quotes_in_the_numbered_order(curator_client, organiser):
    forum = make_forum(organiser)
    first, second, third = QuoteFactory.create_batch(3, forum=forum, approved=True)
    proposed = QuoteFactory(forum=forum, text="待审核的观点")

    post_change(
        curator_client,
        "highlights",
        {
            f"feature_{first.pk}": "on",
            f"position_{first.pk}": "2",
            f"feature_{third.pk}": "on",
            f"position_{third.pk}": "1",
            f"position_{second.pk}": "3",
            "version": 1,
            "seen": "",
        },
        pk=forum.pk,
    )

    response = curator_client.get(
        reverse("organise:forum-edit", kwargs={"pk": forum.pk}), HTTP_ACCEPT_LANGUAGE="en"
    )
    # Curation is not an edit of the recap: no new revision, and the audit trail has it.
    assert (
        list(Quote.objects.highlights().filter(forum=forum)),
        revisions_of(forum),
        CurationEntry.objects.filter(forum=forum, action="feature").count(),
        texts(
            elements(response.text, '<ul class="rows quote-rows" data-testid="other-quotes"')[0],
            "<li",
        ),
    ) == (
        [third, first],
        [1],
        2,
        [f"Proposed 待审核的观点 ——{proposed.speaker.name} Edit"],
    )


def test_stale_highlights_form_changes_nothing_and_says_why(curator_client, organiser):
    forum = make_forum(organiser)
    first, second = QuoteFactory.create_batch(2, forum=forum, approved=True)
    QuoteFactory(forum=forum, approved=True, featured=True, highlight_position=1)

    response = curator_client.post(
        reverse("organise:highlights", kwargs={"pk": forum.pk}),
        {f"feature_{first.pk}": "on", f"feature_{second.pk}": "on", "version": 1, "seen": ""},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert (
        Quote.objects.highlights().filter(forum=forum).count(),
        message_texts(response),
    ) == (
        1,
        [
            "The highlights changed while you were ordering them. "
            "Here they are as they are now; order them again."
        ],
    )


def test_plain_organiser_sees_the_highlights_read_only(organiser_client, organiser):
    forum = make_forum(organiser)
    QuoteFactory(forum=forum, text="已精选的观点", featured=True, highlight_position=1)
    approved = QuoteFactory(forum=forum, text="已通过的观点", approved=True)

    response = organiser_client.get(
        reverse("organise:forum-edit", kwargs={"pk": forum.pk}), HTTP_ACCEPT_LANGUAGE="en"
    )

    section = elements(response.text, '<section class="panel" id="highlights"')[0]
    featured = Quote.objects.get(is_featured=True)
    assert (
        f'action="{reverse("organise:highlights", kwargs={"pk": forum.pk})}"' in section,
        "<input" in section,
        # Sorted: where NULL positions sort differs between SQLite and PostgreSQL.
        sorted(texts(section, '<li class="row quote-row"')),
    ) == (
        False,
        False,
        sorted(
            [
                f"Highlight 1 已精选的观点 ——{featured.speaker.name}",
                f"已通过的观点 ——{approved.speaker.name}",
            ]
        ),
    )


def test_plain_organiser_posting_highlights_changes_nothing_and_says_why(
    organiser_client, organiser
):
    forum = make_forum(organiser)
    quote = QuoteFactory(forum=forum, approved=True)

    response = organiser_client.post(
        reverse("organise:highlights", kwargs={"pk": forum.pk}),
        {f"feature_{quote.pk}": "on", f"position_{quote.pk}": "1", "version": 1, "seen": ""},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert (
        Quote.objects.highlights().filter(forum=forum).count(),
        CurationEntry.objects.count(),
        message_texts(response),
    ) == (0, 0, ["Only admins curate quotes."])


def test_edit_page_links_to_proposing_a_quote_and_to_editing_a_proposal(
    organiser_client, organiser
):
    forum = make_forum(organiser)
    proposed = QuoteFactory(forum=forum)

    response = organiser_client.get(reverse("organise:forum-edit", kwargs={"pk": forum.pk}))

    edit_page = quote(f"/organise/forums/{forum.pk}/edit/#highlights")
    assert (
        f'href="/curate/quotes/new/?forum={forum.pk}&amp;next={edit_page}"' in response.text,
        f'href="/curate/quotes/{proposed.pk}/edit/?next={edit_page}"' in response.text,
    ) == (True, True)


# --- Publishing -----------------------------------------------------------------------------


def test_publish_lists_what_is_missing_and_publishes_nothing(organiser_client, organiser):
    forum = services.create_forum(user=organiser, title="只有标题的论坛")

    page = organiser_client.get(
        reverse("organise:forum-edit", kwargs={"pk": forum.pk}), HTTP_ACCEPT_LANGUAGE="en"
    )
    response = organiser_client.post(
        reverse("organise:publish", kwargs={"pk": forum.pk}),
        {"version": 1},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )

    missing = [
        "The forum has no date.",
        "The forum has no lede.",
        "The forum has no speakers.",
        "The forum has no themes.",
    ]
    forum.refresh_from_db()
    assert (
        texts(
            elements(page.text, '<div class="alert alert--warning" data-testid="missing"')[0], "<li"
        ),
        message_texts(response),
        forum.recap.status,
        revisions_of(forum),
    ) == (missing, ["Not published. " + " ".join(missing)], Recap.Status.DRAFT, [1])


def complete_forum(user):
    """A forum with everything a public recap needs; its recap is at version 4."""
    forum = make_forum(user)
    speaker = SpeakerFactory()
    services.add_appearance(forum, user=user, expected_version=1, speaker=speaker, role="host")
    theme = services.add_theme(forum, user=user, expected_version=2, title="城市与未来")
    services.add_turn(theme, user=user, expected_version=3, speaker=speaker, body="发言。")
    return forum


def test_publish_now_makes_the_recap_public(organiser_client, organiser, client):
    forum = complete_forum(organiser)

    organiser_client.post(reverse("organise:publish", kwargs={"pk": forum.pk}), {"version": 4})

    forum.refresh_from_db()
    assert (forum.recap.status, Forum.objects.published().get(), revisions_of(forum)[-1]) == (
        Recap.Status.PUBLISHED,
        forum,
        5,
    )


def test_publish_from_the_dashboard_goes_back_to_the_dashboard(organiser_client, organiser):
    forum = complete_forum(organiser)

    response = organiser_client.post(
        reverse("organise:publish", kwargs={"pk": forum.pk}),
        {"version": 4, "next": "/organise/?page=1"},
    )

    assert (response.url, Recap.objects.get().status) == ("/organise/?page=1", "published")


def test_schedule_in_the_past_is_refused(organiser_client, organiser):
    forum = complete_forum(organiser)

    response = organiser_client.post(
        reverse("organise:schedule", kwargs={"pk": forum.pk}),
        {"publish_at": "2020-01-01T09:00", "version": 4},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )

    forum.refresh_from_db()
    assert (forum.recap.status, message_texts(response)) == (
        Recap.Status.DRAFT,
        ["Not scheduled. Choose a time in the future, or publish now."],
    )


def test_schedule_in_the_future_sets_the_time_in_the_programme_time_zone(
    organiser_client, organiser
):
    forum = complete_forum(organiser)
    next_year = timezone.localtime().year + 1

    organiser_client.post(
        reverse("organise:schedule", kwargs={"pk": forum.pk}),
        {"publish_at": f"{next_year}-01-05T09:30", "version": 4},
    )

    forum.refresh_from_db()
    assert (forum.recap.status, forum.recap.publish_at, Forum.objects.published().count()) == (
        Recap.Status.SCHEDULED,
        datetime.datetime(next_year, 1, 5, 1, 30, tzinfo=UTC),
        0,
    )


def test_unpublish_takes_the_recap_back_to_a_draft(organiser_client, organiser):
    forum = complete_forum(organiser)
    services.publish_recap(forum, user=organiser, expected_version=4)

    organiser_client.post(reverse("organise:unpublish", kwargs={"pk": forum.pk}), {"version": 5})

    forum.refresh_from_db()
    assert (forum.recap.status, Forum.objects.published().count()) == (Recap.Status.DRAFT, 0)


# --- Preview and share links ----------------------------------------------------------------


def test_preview_shows_the_draft_as_the_public_will_see_it_never_indexed(
    organiser_client, organiser
):
    forum = complete_forum(organiser)
    services.update_forum(
        forum, user=organiser, expected_version=4, headline="草稿标题", body="**加粗**"
    )

    response = organiser_client.get(
        reverse("organise:forum-preview", kwargs={"pk": forum.pk}), HTTP_ACCEPT_LANGUAGE="en"
    )

    assert (
        texts(response.text, '<div class="preview-banner"')[0].startswith("Preview — not public"),
        texts(response.text, "<h1"),
        '<meta name="robots" content="noindex">' in response.text,
        response["X-Robots-Tag"],
        "<strong>加粗</strong>" in response.text,
        texts(response.text, '<h2 id="theme-1-title"'),
    ) == (True, ["草稿标题"], True, "noindex", True, ["城市与未来"])


def test_share_link_shows_the_draft_without_signing_in_until_it_expires(
    organiser_client, organiser, client
):
    forum = complete_forum(organiser)
    response = organiser_client.post(
        reverse("organise:share-link-create", kwargs={"pk": forum.pk}), {"version": 4}, follow=True
    )
    link = RecapShareLink.objects.get()
    organiser_client.logout()

    shared = client.get(link.get_absolute_url())
    link.expires_at = timezone.now() - datetime.timedelta(minutes=1)
    link.save()
    expired = client.get(link.get_absolute_url())
    unknown = client.get(reverse("forums:recap-share", kwargs={"token": "no-such-token"}))

    assert (
        f"http://testserver{link.get_absolute_url()}" in message_texts(response)[0]
        or link.get_absolute_url() in message_texts(response)[0],
        link.get_absolute_url() in texts(response.text, '<code class="share-url"')[0],
        shared.status_code,
        texts(shared.text, "<h1"),
        '<meta name="robots" content="noindex">' in shared.text,
        expired.status_code,
        unknown.status_code,
        version_of(forum),
    ) == (True, True, 200, [forum.title], True, 404, 404, 4)


# --- History and restore --------------------------------------------------------------------


def test_history_shows_each_revision_with_its_diff(organiser_client, organiser):
    forum = make_forum(organiser)
    theme = services.add_theme(forum, user=organiser, expected_version=1, title="城市与未来")
    services.rename_theme(theme, user=organiser, expected_version=2, title="数据与价值")

    response = organiser_client.get(
        reverse("organise:forum-history", kwargs={"pk": forum.pk}), HTTP_ACCEPT_LANGUAGE="en"
    )

    revisions = elements(response.text, '<li class="revision"')
    newest, middle = revisions[0], revisions[1]
    assert (
        [texts(r, '<h2 class="revision__title"')[0].split()[0] for r in revisions],
        texts(newest, '<span class="diff__line diff__line--removed"'),
        texts(newest, '<span class="diff__line diff__line--added"'),
        texts(middle, '<span class="diff__line diff__line--added"'),
        ["Restore this revision" in r for r in revisions],
    ) == (
        ["#3", "#2", "#1"],
        ["-Theme: 城市与未来"],
        ["+Theme: 数据与价值"],
        ["+Theme: 城市与未来"],
        [False, True, True],
    )


def test_history_escapes_the_diff(organiser_client, organiser):
    forum = make_forum(organiser)
    services.update_forum(forum, user=organiser, expected_version=1, body="<b>粗体</b>")

    response = organiser_client.get(reverse("organise:forum-history", kwargs={"pk": forum.pk}))

    assert ("+&lt;b&gt;粗体&lt;/b&gt;" in response.text, "<b>粗体</b>" in response.text) == (
        True,
        False,
    )


def test_restore_brings_back_a_removed_theme_with_its_turns(organiser_client, organiser):
    forum = complete_forum(organiser)
    theme = forum.themes.get()
    services.add_turn(
        theme,
        user=organiser,
        expected_version=4,
        speaker=theme.turns.get().speaker,
        body="第二段。",
    )
    before = turn_rows(theme)
    services.remove_theme(theme, user=organiser, expected_version=5)

    response = organiser_client.post(
        reverse("organise:revision-restore", kwargs={"pk": forum.pk, "number": 5}),
        {"version": 6},
        follow=True,
    )

    restored = Theme.objects.get(forum=forum)
    assert (
        restored.title,
        turn_rows(restored),
        revisions_of(forum),
        response.redirect_chain[-1][0],
    ) == (
        "城市与未来",
        before,
        [1, 2, 3, 4, 5, 6, 7],
        reverse("organise:forum-history", kwargs={"pk": forum.pk}),
    )


# --- Query counts ---------------------------------------------------------------------------


def grow_forum(forum, user, count):
    """Add `count` speakers, themes (with `count` turns each) and quotes to a forum."""
    speakers = SpeakerFactory.create_batch(count)
    for speaker in speakers:
        AppearanceFactory(forum=forum, speaker=speaker, position=forum.appearances.count() + 1)
        QuoteFactory(forum=forum, speaker=speaker, approved=True)
        QuoteFactory(forum=forum, speaker=speaker)
    for _ in range(count):
        theme = ThemeFactory(forum=forum)
        for speaker in speakers:
            TranscriptTurnFactory(theme=theme, speaker=speaker)
    forum.released_topics.add(*TopicFactory.create_batch(count))
    services.create_share_link(forum, user=user)


def assert_queries_do_not_grow(client, url, grow, django_assert_max_num_queries):
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    grow()
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(url)
    return len(small.captured_queries), response


def test_edit_page_queries_do_not_grow_with_the_forum(
    organiser_client, organiser, django_assert_max_num_queries
):
    forum = make_forum(organiser)
    grow_forum(forum, organiser, SMALL)

    small, response = assert_queries_do_not_grow(
        organiser_client,
        reverse("organise:forum-edit", kwargs={"pk": forum.pk}),
        lambda: grow_forum(forum, organiser, LARGE - SMALL),
        django_assert_max_num_queries,
    )

    # Each growth adds `count` themes of `count` turns.
    turns = SMALL * SMALL + (LARGE - SMALL) ** 2
    assert (small <= 20, response.text.count('<li class="row row--stacked turn-row">')) == (
        True,
        turns,
    )


def test_dashboard_queries_do_not_grow_with_the_forums(
    organiser_client, organiser, django_assert_max_num_queries
):
    def grow(count):
        for _ in range(count):
            RecapFactory(updated_by=UserFactory())
            RecapFactory(published=True)

    grow(SMALL)

    small, response = assert_queries_do_not_grow(
        organiser_client,
        reverse("organise:forum-list"),
        lambda: grow(LARGE - SMALL),
        django_assert_max_num_queries,
    )

    assert (small <= 10, response.text.count('<li class="entry organise-entry">')) == (
        True,
        2 * LARGE,
    )


def test_change_to_a_row_of_another_forum_is_not_found(organiser_client, organiser):
    forum = make_forum(organiser)
    other = make_forum(organiser, title="另一个论坛")
    theme = services.add_theme(other, user=organiser, expected_version=1, title="城市与未来")

    response = organiser_client.post(
        reverse("organise:theme-remove", kwargs={"pk": forum.pk, "theme_pk": theme.pk}),
        {"version": 1},
    )

    assert (response.status_code, theme_titles(other)) == (404, ["城市与未来"])


def test_speaker_options_filter_by_name_or_organisation(organiser_client):
    SpeakerFactory(name="邬贺铨", organisation="中国工程院")
    SpeakerFactory(name="司晓", organisation="腾讯研究院")
    SpeakerFactory(name="王景田", organisation="腾讯政务云")

    by_name = organiser_client.get(reverse("organise:speaker-options"), {"q": "司晓"})
    by_organisation = organiser_client.get(reverse("organise:speaker-options"), {"q": "腾讯"})

    assert (texts(by_name.text, "<option"), texts(by_organisation.text, "<option")) == (
        ["---------", "司晓 · 腾讯研究院"],
        ["---------", "司晓 · 腾讯研究院", "王景田 · 腾讯政务云"],
    )


def test_saving_an_unchanged_time_adds_no_change_to_the_history(organiser_client, organiser):
    organiser_client.post(
        reverse("organise:forum-create"),
        {"title": "原标题", "starts_at": "2026-11-27T14:00", "format": "online"},
    )
    forum = Forum.objects.get()

    organiser_client.post(
        reverse("organise:forum-edit", kwargs={"pk": forum.pk}), edit_data(forum, title="新标题")
    )

    older, newer = Recap.objects.get().revisions.order_by("number")
    changed = [
        line
        for line in services.diff_revisions(older, newer)
        if line.startswith(("+", "-")) and not line.startswith(("+++", "---"))
    ]
    assert (newer.snapshot["starts_at"], len(changed)) == ("2026-11-27T06:00:00+00:00", 2)


def test_header_marks_organise_as_the_current_section_on_the_dashboard(organiser_client):
    response = organiser_client.get(reverse("organise:forum-list"), HTTP_ACCEPT_LANGUAGE="en")

    nav = elements(response.text, '<nav class="site-nav"')[0]
    assert texts(nav, '<a href="/organise/" aria-current="page"') == ["Organise"]
    assert nav.count('aria-current="page"') == 1
