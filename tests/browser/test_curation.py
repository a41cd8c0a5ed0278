"""An admin curates a forum's quotes in the browser; a visitor reads the highlights in order.

Selectors name forms and buttons by their action and value, so the journey reads the same in
either interface language.
"""

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from forums import curation
from forums.models import Appearance, Quote
from tests.factories import (
    PASSWORD,
    AppearanceFactory,
    ForumFactory,
    QuoteFactory,
    RecapFactory,
    ThemeFactory,
    TranscriptTurnFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WORDS = {
    "wu": "未来15年是中国城镇化发展的重要时期",
    "jia": "数据产业不能蒙眼狂奔",
    "wang": "智慧城市能够弥补城乡之间的鸿沟",
}


def sign_in(page, base_url, email, next_url):
    page.goto(f"{base_url}/accounts/login/?next={next_url}")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(f"{base_url}{next_url}")


@pytest.fixture
def forum():
    """A public forum with three speakers, each with a proposed quote; one from the transcript."""
    forum = RecapFactory(
        forum=ForumFactory(title="智慧城市线上圆桌论坛", slug="roundtable"), published=True
    ).forum
    theme = ThemeFactory(forum=forum, title="城市与未来", position=1)
    for position, (key, name) in enumerate(
        [("wu", "邬贺铨"), ("jia", "贾西贝"), ("wang", "王景田")], start=1
    ):
        speaker = AppearanceFactory(
            forum=forum, speaker__name=name, role=Appearance.Role.PANELIST, position=position
        ).speaker
        turn = None
        if key == "wu":
            turn = TranscriptTurnFactory(
                theme=theme, speaker=speaker, body=f"我先说一点。\n\n{WORDS[key]}，要围绕创新推进。"
            )
        QuoteFactory(forum=forum, speaker=speaker, text=WORDS[key], turn=turn, theme=theme)
    return forum


def highlight_texts(page):
    return page.locator("[data-testid=highlight-order] blockquote")


def test_admin_approves_features_and_orders_the_highlights_a_visitor_reads_them(
    live_server, browser, forum
):
    admin = UserFactory(roles=[Role.ADMIN])
    page = browser.new_context(locale="zh-CN").new_page()
    base = live_server.url
    sign_in(page, base, admin.email, f"/curate/?forum={forum.pk}")

    # The queue: the first quote seen in its transcript, approved as it is.
    queue = page.locator("[data-testid=queue-item]")
    expect(queue).to_have_count(3)
    first = queue.filter(has_text=WORDS["wu"])
    first.locator("details.disclosure:not(.disclosure--form) summary").click()
    expect(first.locator(".quote-context mark")).to_have_text(WORDS["wu"])
    first.locator('form[action$="/approve/"] button[type=submit]').first.click()
    expect(queue).to_have_count(2)

    # The second one polished before approving it.
    second = queue.filter(has_text=WORDS["jia"])
    second.locator("details.disclosure--form summary").first.click()
    second.locator("textarea[name=text]").fill(WORDS["jia"] + "；数据立法不能矫枉过正。")
    second.locator("details.disclosure--form form button[type=submit]").first.click()
    expect(queue).to_have_count(1)

    # Rejecting without a reason is refused next to the field; the third is then approved.
    third = queue.first
    third.locator("details.disclosure--form", has=page.locator("textarea[name=reason]")).locator(
        "summary"
    ).click()
    third.locator('form[action$="/reject/"] button[type=submit]').click()
    expect(page.locator("[data-field=reason] .errorlist")).to_have_count(1)
    expect(page.locator("[data-testid=quote-state]")).to_have_class("badge badge--proposed")
    page.locator("[data-testid=approve-form] button[type=submit]").click()
    expect(page.locator("[data-testid=quote-state]")).to_have_class("badge badge--approved")
    assert set(Quote.objects.values_list("state", flat=True)) == {Quote.State.APPROVED}

    # Highlights: feature all three, in the order of the list.
    page.goto(f"{base}/curate/highlights/?forum={forum.pk}")
    not_featured = page.locator("[data-testid=not-featured] li")
    for remaining in (2, 1, 0):
        not_featured.first.locator("button[type=submit]").click()
        expect(not_featured).to_have_count(remaining)
    expect(highlight_texts(page)).to_contain_text([WORDS["wu"], WORDS["jia"], WORDS["wang"]])

    # Move the last one up with its button…
    items = page.locator("[data-testid=highlight-order] > li")
    items.nth(2).locator("button[value=up]").click()
    expect(highlight_texts(page)).to_contain_text([WORDS["wu"], WORDS["wang"], WORDS["jia"]])

    # …and again with the keyboard: the focus stays on the button after the page reloads.
    moved = items.filter(has_text=WORDS["wang"])
    expect(moved.locator("button[value=up]")).to_be_focused()
    page.keyboard.press("Enter")
    expect(highlight_texts(page)).to_contain_text([WORDS["wang"], WORDS["wu"], WORDS["jia"]])

    # Drag and drop sends the whole new order.
    items.filter(has_text=WORDS["jia"]).drag_to(items.first)
    expect(highlight_texts(page)).to_contain_text([WORDS["jia"], WORDS["wang"], WORDS["wu"]])
    expect(page.locator(".message--success")).to_have_count(1)

    # A visitor reads the recap's highlights in this order, each linking to its own page.
    visitor = browser.new_context(locale="zh-CN").new_page()
    visitor.goto(f"{base}/forums/roundtable/")
    highlights = visitor.locator("[data-testid=highlights] blockquote")
    expect(highlights).to_have_count(3)
    expect(highlights.nth(0)).to_have_text(WORDS["jia"] + "；数据立法不能矫枉过正。")
    expect(highlights.nth(1)).to_have_text(WORDS["wang"])
    expect(highlights.nth(2)).to_have_text(WORDS["wu"])
    highlights.nth(1).locator("a").click()
    expect(visitor.locator("[data-testid=quote-text]")).to_have_text(WORDS["wang"])
    expect(visitor.locator("[data-testid=quote-speaker]")).to_have_text("王景田")


def test_stale_order_is_refused_in_the_browser(live_server, browser, forum):
    admin = UserFactory(roles=[Role.ADMIN])
    Quote.objects.update(state=Quote.State.APPROVED)
    quotes = list(Quote.objects.order_by("id"))

    for quote in quotes:
        curation.feature_quote(quote, user=admin)
    page = browser.new_context(locale="zh-CN").new_page()
    sign_in(page, live_server.url, admin.email, f"/curate/highlights/?forum={forum.pk}")

    # Someone else reorders while this page is open.
    ids = [q.pk for q in quotes]
    curation.reorder_highlights(forum, user=admin, order=ids[::-1], seen=ids)
    page.locator("[data-testid=highlight-order] > li").nth(1).locator("button[value=up]").click()

    expect(page.locator(".message--error")).to_have_count(1)
    expect(highlight_texts(page)).to_contain_text([WORDS["wang"], WORDS["jia"], WORDS["wu"]])
