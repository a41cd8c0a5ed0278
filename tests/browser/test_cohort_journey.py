"""An invited member joins, hands in a PDF, is asked for changes, hands in v2; it is accepted.

Selectors name forms by their test id or action and fields by their name, so the journey
reads the same in either interface language.
"""

import pytest
from django.core import mail
from playwright.sync_api import expect

from accounts.models import Role
from tests.cohorts.helpers import PDF, build_world
from tests.factories import PASSWORD, InvitationFactory, UserFactory
from topics.models import Review, Submission

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "a-long-pass-for-wecity-2026"


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.PRIVATE_FILES_ACCEL_PREFIX = ""


def sign_in(page, base_url, email, password, next_url):
    page.goto(f"{base_url}/accounts/login/?next={next_url}")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(f"{base_url}{next_url}")


def hand_in_pdf(page, path, comment):
    form = page.locator("[data-testid=hand-in-form]")
    form.locator("input[name=kind][value=file]").check()
    form.locator("input[name=file]").set_input_files(str(path))
    form.locator("textarea[name=comment]").fill(comment)
    form.locator("button[type=submit]").click()


def review(page, version, verdict, feedback):
    article = page.locator(f"#v{version}")
    article.locator("details summary").click()
    form = article.locator("[data-testid=review-form]")
    form.locator(f"input[name=status][value={verdict}]").check()
    form.locator("textarea[name=feedback]").fill(feedback)
    form.locator("button[type=submit]").click()


def test_invited_member_hands_in_and_an_organiser_asks_for_changes_then_accepts(
    live_server, page, browser, tmp_path
):
    world = build_world()
    invitation = InvitationFactory(
        cohort=world.cohort, topic=world.topic_a, email="chen@example.com", name="陈新"
    )
    organiser = UserFactory(roles=[Role.ORGANISER])
    first_pdf = tmp_path / "数字政府方案.pdf"
    first_pdf.write_bytes(PDF)
    second_pdf = tmp_path / "数字政府方案-v2.pdf"
    second_pdf.write_bytes(PDF.replace(b"Catalog", b"Catalog/Lang(zh)"))
    deliverable_url = world.deliverable_a.get_absolute_url()

    # The member accepts the invitation: a new account, signed in, on their dashboard.
    page.goto(live_server.url + invitation.get_absolute_url())
    form = page.locator("[data-testid=accept-form]")
    expect(form.locator("input[name=name]")).to_have_value("陈新")
    form.locator("input[name=password1]").fill(NEW_PASSWORD)
    form.locator("input[name=password2]").fill(NEW_PASSWORD)
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(live_server.url + "/programme/")
    expect(page.locator("[data-testid=group] h2")).to_contain_text("数字政府")

    # Signed out and in again with the new password.
    page.locator(".account-tools form button").click()
    sign_in(page, live_server.url, "chen@example.com", NEW_PASSWORD, deliverable_url)

    # v1, a PDF: the receipt is on the page.
    hand_in_pdf(page, first_pdf, "初稿")
    expect(page.locator(".message--success")).to_contain_text("v1")
    expect(page.locator("[data-testid=version] h3")).to_have_text(["v1"])
    expect(page.locator("[data-testid=file-link]")).to_have_text("数字政府方案.pdf")

    # The organiser asks for changes.
    staff = browser.new_context(locale="zh-CN").new_page()
    sign_in(staff, live_server.url, organiser.email, PASSWORD, deliverable_url)
    review(staff, 1, "changes_requested", "请补充试点社区的数据来源。")
    expect(staff.locator("#v1 [data-testid=review]")).to_contain_text("请补充试点社区的数据来源。")

    # The member sees it (and a notification), then hands in v2.
    page.reload()
    expect(page.locator("#v1 [data-testid=review]")).to_contain_text("请补充试点社区的数据来源。")
    expect(page.locator(".notification-bell__count")).to_contain_text("1")
    hand_in_pdf(page, second_pdf, "补充了数据来源")
    expect(page.locator("[data-testid=version] h3")).to_have_text(["v2", "v1"])

    # The organiser accepts v2.
    staff.reload()
    review(staff, 2, "accepted", "很好。")
    expect(staff.locator("#v2 .review--accepted")).to_have_count(1)

    page.reload()
    expect(page.locator("#v2 .review--accepted")).to_contain_text("很好。")
    staff.context.close()

    assert list(Submission.objects.order_by("version").values_list("version", "file_name")) == [
        (1, "数字政府方案.pdf"),
        (2, "数字政府方案-v2.pdf"),
    ]
    assert list(Review.objects.order_by("created_at").values_list("status", flat=True)) == [
        "changes_requested",
        "accepted",
    ]
    receipts = [m for m in mail.outbox if m.to == ["chen@example.com"]]
    assert len(receipts) == 4  # two receipts, two reviews
