"""An organiser writes a forum's recap in the browser and publishes it; a visitor reads it.

Selectors name forms by their action and fields by their name, so the journey reads the same
in either interface language.
"""

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from forums.models import Forum
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, base_url, email):
    page.goto(f"{base_url}/accounts/login/?next=/organise/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(f"{base_url}/organise/")


def submit(page, action_suffix):
    page.locator(f'main form[action$="{action_suffix}"] button[type=submit]').first.click()


def test_organiser_writes_publishes_and_a_visitor_reads_the_recap(live_server, page, browser):
    organiser = UserFactory(roles=[Role.ORGANISER])
    sign_in(page, live_server.url, organiser.email)

    # A new forum, with only its title.
    page.locator('a[href="/organise/forums/new/"]').click()
    page.fill("input[name=title]", "智慧城市线上圆桌论坛")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("h1")).to_have_text("智慧城市线上圆桌论坛")

    # A theme, a speaker created on the way, and a turn.
    page.fill("#add-theme-title", "城市与未来")
    submit(page, "/themes/add/")
    expect(page.locator("[data-testid=themes] input[name=title]")).to_have_value("城市与未来")
    # The message about the change is shown in the section the page reopens at.
    expect(page.locator("#themes .message--success")).to_have_count(1)

    page.fill("#add-speaker-new_name", "王景田")
    page.fill("#add-speaker-new_organisation", "腾讯政务云")
    page.fill("#add-speaker-new_title", "副总裁")
    page.select_option("#add-speaker-role", "host")
    submit(page, "/speakers/add/")
    expect(page.locator("[data-testid=appearances] .row__name")).to_have_text(["王景田"])

    add_turn = page.locator('main form[action*="/turns/add/"]')
    add_turn.locator("select[name=speaker]").select_option(label="王景田")
    add_turn.locator("textarea[name=body]").fill(
        "智慧城市能够弥补城乡之间在数字经济、科技发展方面的鸿沟。"
    )
    add_turn.locator("button[type=submit]").click()
    expect(page.locator("[data-testid=turns] textarea[name=body]")).to_have_value(
        "智慧城市能够弥补城乡之间在数字经济、科技发展方面的鸿沟。"
    )

    # The body, written in Markdown, previewed as it is typed.
    body = page.locator("#id_body")
    body.click()
    body.press_sequentially("## 城市的价值\n\n智慧城市**服务于人**。")
    expect(page.locator("#body-preview h2")).to_have_text("城市的价值")
    expect(page.locator("#body-preview strong")).to_have_text("服务于人")
    page.locator("form.recap-form button[type=submit]").click()
    expect(page.locator("#body-preview h2")).to_have_text("城市的价值")

    # Publishing is refused, and the page says what is missing: the date and the lede.
    submit(page, "/publish/")
    expect(page.locator("#publishing .message--error")).to_have_count(1)
    expect(page.locator("[data-testid=missing] li")).to_have_count(2)
    expect(page.locator("[data-testid=recap-status] .badge")).to_have_class("badge badge--draft")

    page.fill("#id_starts_at", "2026-11-27T14:00")
    page.fill("#id_lede", "嘉宾们围绕城市与未来展开研讨。")
    page.locator("form.recap-form button[type=submit]").click()
    expect(page.locator("[data-testid=missing]")).to_have_count(0)

    submit(page, "/publish/")
    expect(page.locator("[data-testid=recap-status] .badge")).to_have_class(
        "badge badge--published"
    )

    # A visitor, not signed in, reads it at its public address.
    forum = Forum.objects.get()
    visitor = browser.new_context(locale="zh-CN").new_page()
    visitor.goto(live_server.url + forum.get_absolute_url())

    expect(visitor.locator("h1")).to_have_text("智慧城市线上圆桌论坛")
    expect(visitor.locator("[data-testid=recap-body] h2")).to_have_text("城市的价值")
    expect(visitor.locator("[data-testid=theme] h2")).to_have_text(["城市与未来"])
    expect(visitor.get_by_text("智慧城市能够弥补城乡之间在数字经济")).to_be_visible()
    expect(visitor.locator(".site-nav")).not_to_contain_text("Organise")
    visitor.context.close()
