"""An organiser creates a cohort, generates its default schedule and moves a workshop; a
member of the cohort sees it on the new day in their schedule's month view.

Selectors name forms by their test id or action and fields by their name, so the journey
reads the same in either interface language.
"""

from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from cohorts.models import Cohort, Milestone
from tests.factories import PASSWORD, MemberFactory, TopicFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, base_url, email, next_url):
    page.goto(f"{base_url}/accounts/login/?next={next_url}")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(f"{base_url}{next_url}")


def test_organiser_generates_and_moves_a_milestone_a_member_sees_it_in_month_view(
    live_server, page, browser
):
    topic = TopicFactory(name="智慧社区", name_en="Smart community")
    organiser = UserFactory(roles=[Role.ORGANISER])
    sign_in(page, live_server.url, organiser.email, "/organise/cohorts/new/")

    # A new cohort in Berlin's time zone, from 1 March 2027.
    page.fill("input[name=name]", "WeCity 加速器柏林班")
    page.fill("input[name=starts_on]", "2027-03-01")
    page.select_option("select[name=time_zone]", "Europe/Berlin")
    page.locator("main form button[type=submit]").click()
    expect(page.locator("h1")).to_have_text("WeCity 加速器柏林班")
    cohort = Cohort.objects.get(name="WeCity 加速器柏林班")

    # The default schedule, then the first workshop two days later.
    page.locator('main a[href$="/schedule/"]').first.click()
    page.locator("[data-testid=generate] button[type=submit]").click()
    expect(page.locator("[data-testid=milestones] tbody tr")).to_have_count(11)
    workshop = Milestone.objects.filter(cohort=cohort, kind="workshop").order_by("starts_at")[0]
    row = page.locator(f"#milestone-{workshop.pk}")
    expect(row.locator(".schedule__date")).to_have_text("2027年3月15日")
    row.locator(f'a[href$="/milestones/{workshop.pk}/"]').first.click()
    form = page.locator("[data-testid=milestone-form]")
    expect(form.locator("input[name=starts_at]")).to_have_value("2027-03-15T14:00")
    form.locator("input[name=starts_at]").fill("2027-03-17T15:30")
    form.locator("input[name=ends_at]").fill("2027-03-17T18:30")
    form.locator("button[type=submit]").click()
    moved = page.locator(f"#milestone-{workshop.pk}")
    expect(moved.locator(".schedule__date")).to_have_text("2027年3月17日")
    expect(moved.locator(".schedule__time")).to_have_text("15:30–18:30")
    workshop.refresh_from_db()
    assert workshop.sequence == 1

    # A member of the cohort, in another browser session.
    member = MemberFactory(cohort=cohort, topic=topic, user=UserFactory(roles=[Role.MEMBER]))
    context = browser.new_context(locale="zh-CN")
    member_page = context.new_page()
    schedule = quote(f"/programme/schedule/{cohort.slug}/")
    sign_in(member_page, live_server.url, member.user.email, schedule)
    member_page.locator('a[href="?view=month"]').click()
    member_page.goto(f"{live_server.url}{schedule}?view=month&month=2027-03")

    day = member_page.locator('[data-date="2027-03-17"]')
    expect(day.locator("[data-testid=month-item]")).to_have_count(1)
    expect(day.locator(".month__time")).to_have_text("15:30")
    expect(member_page.locator('[data-date="2027-03-15"] [data-testid=month-item]')).to_have_count(
        0
    )
    context.close()
