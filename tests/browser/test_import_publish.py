"""The recap journey of the seed: import the article, fix what the importer could not
place, have the quotes approved and made the highlights by an admin, publish, and read
it as a visitor."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from forums.models import Forum
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SEED = Path(__file__).resolve().parent.parent / "data" / "seed_article.txt"
BROKEN_ATTRIBUTION = "——华傲数据董事长贾西"  # the name cut short: it matches no speaker


def sign_in(page, base_url, email, next_url):
    page.goto(f"{base_url}/accounts/login/?next={next_url}")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()


def test_organiser_imports_the_seed_fixes_a_warning_and_publishes_it(live_server, browser):
    organiser = UserFactory(roles=[Role.ORGANISER])
    admin = UserFactory(is_staff=True, is_superuser=True, roles=[Role.ADMIN])
    article = SEED.read_text(encoding="utf-8")
    pasted = article.replace("——华傲数据董事长贾西贝", BROKEN_ATTRIBUTION)
    organiser_page = browser.new_context(locale="zh-CN").new_page()
    sign_in(organiser_page, live_server.url, organiser.email, "/organise/import/")

    # Paste, check: one line cannot be placed, and it says which.
    organiser_page.fill("textarea[name=article]", pasted)
    organiser_page.locator("button[name=check]").click()
    warnings = organiser_page.locator("[data-testid=import-warnings] li")
    expect(warnings).to_have_count(1)
    expect(warnings.first).to_contain_text(BROKEN_ATTRIBUTION)

    # Fix the line in place, check again, create the draft.
    text = organiser_page.locator("textarea[name=article]")
    text.fill(text.input_value().replace(BROKEN_ATTRIBUTION, "——华傲数据董事长贾西贝"))
    organiser_page.locator("button[name=check]").click()
    expect(organiser_page.locator("[data-testid=import-warnings]")).to_have_count(0)
    organiser_page.locator("button[name=save]").click()
    forum = Forum.objects.get()
    expect(organiser_page).to_have_url(f"{live_server.url}/organise/forums/{forum.pk}/edit/")
    expect(organiser_page.locator("[data-testid=other-quotes] li")).to_have_count(8)

    # An admin approves the eight proposed quotes together in the curation queue…
    admin_page = browser.new_context(locale="zh-CN").new_page()
    sign_in(admin_page, live_server.url, admin.email, f"/curate/?forum={forum.pk}")
    queue = admin_page.locator("[data-testid=queue-item]")
    expect(queue).to_have_count(8)
    for index in range(8):
        queue.nth(index).locator("input[name=quotes]").check()
    admin_page.locator("[data-testid=bulk-form] button[value=approve]").click()
    expect(admin_page.locator(".message--success")).to_contain_text("8")
    expect(queue).to_have_count(0)

    # …then features them as the highlights: the seventh after the eighth, then moved up.
    admin_page.goto(f"{live_server.url}/curate/highlights/?forum={forum.pk}")
    not_featured = admin_page.locator("[data-testid=not-featured] li")
    expect(not_featured).to_have_count(8)
    for remaining in (8, 7, 6, 5, 4, 3):
        not_featured.first.locator("button").click()
        expect(not_featured).to_have_count(remaining - 1)
    not_featured.last.locator("button").click()
    expect(not_featured).to_have_count(1)
    not_featured.first.locator("button").click()
    expect(not_featured).to_have_count(0)
    order = admin_page.locator("[data-testid=highlight-order] > li")
    expect(order).to_have_count(8)
    order.nth(7).locator("button[value=up]").click()
    expect(admin_page.locator(".message--success")).to_have_count(1)

    # The article gives no date: publishing says so until the organiser sets one.
    organiser_page.reload()
    expect(organiser_page.locator("[data-testid=missing] li")).to_have_text(["论坛没有日期。"])
    organiser_page.fill("input[name=starts_at]", "2020-04-28T15:00")
    organiser_page.locator("main form.recap-form button[type=submit]").click()
    expect(organiser_page.locator("[data-testid=missing]")).to_have_count(0)

    # The organiser sees the admin's highlights (read only) and publishes.
    expect(organiser_page.locator("[data-testid=approved-quotes] li")).to_have_count(8)
    expect(organiser_page.locator("[data-testid=approved-quotes] input")).to_have_count(0)
    organiser_page.locator('main form[action$="/publish/"] button[type=submit]').first.click()
    expect(organiser_page.locator(".message--success").first).to_be_visible()

    # A visitor, signed in as no one, reads the recap.
    visitor = browser.new_context(locale="zh-CN").new_page()
    visitor.goto(f"{live_server.url}/")
    visitor.get_by_role("link", name="如何加速智慧城市建设进程").first.click()
    highlights = visitor.locator("[data-testid=highlights] .highlight")
    expect(highlights).to_have_count(8)
    expect(highlights.nth(4).locator("blockquote")).to_have_text(
        "数据产业不能蒙眼狂奔;数据立法不能矫枉过正。"
    )
    expect(highlights.nth(4).locator("figcaption")).to_have_text("——华傲数据董事长贾西贝")
    expect(highlights.last.locator("blockquote")).to_contain_text("联合35个学员")
    expect(visitor.locator("[data-testid=theme] h2")).to_have_text(
        ["城市与未来", "数据与价值", "机会与贡献"]
    )
