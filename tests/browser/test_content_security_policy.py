"""The portal's pages work under its Content-Security-Policy: the browser blocks nothing.

Chromium reports every script, style, image or connection the policy refuses as a
`securitypolicyviolation` event; the pages of each kind of user are opened, the htmx and
drag-and-drop interactions used, and no event may have fired. (The API's documentation
pages, which Swagger UI and Redoc style inline, have a policy of their own: wecity/api.py.)
"""

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from tests.factories import PASSWORD, UserFactory
from tests.security.world import build_security_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}`);
});
"""


def violations(page):
    return page.evaluate("window.__violations")


def sign_in(page, base_url, email, next_url):
    page.goto(f"{base_url}/accounts/login/?next={next_url}")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()


def visit(page, url):
    page.goto(url)
    page.wait_for_load_state("networkidle")
    return violations(page)


def test_public_member_organiser_and_admin_pages_raise_no_violation(live_server, page):
    world = build_security_world()
    page.add_init_script(LISTEN)
    base = live_server.url
    found = {}

    for path in ["/", world.forum.get_absolute_url(), "/speakers/", "/topics/", "/search/?q=城市"]:
        found[path] = visit(page, base + path)

    sign_in(page, base, world.users["organiser"].email, "/organise/")
    edit = f"{base}/organise/forums/{world.forum.pk}/edit/"
    found["edit"] = visit(page, edit)
    # The live preview: htmx posts the body as it is typed and swaps the answer in.
    page.fill("textarea[name=body]", "## 城市与未来\n\n**数据**要流动起来。")
    expect(page.locator("#body-preview h2")).to_have_text("城市与未来")
    found["preview"] = violations(page)
    # The speaker search of the add-speaker form (htmx GET).
    page.fill("#speaker-filter", "嘉宾")
    page.wait_for_load_state("networkidle")
    found["speaker search"] = violations(page)
    found["cohort"] = visit(page, f"{base}/organise/cohorts/{world.cohort.slug}/board/")
    page.context.clear_cookies()

    admin = UserFactory(
        email="csp-admin@example.com", is_staff=True, is_superuser=True, roles=[Role.ADMIN]
    )
    sign_in(page, base, admin.email, "/curate/")
    found["highlights"] = visit(page, f"{base}/curate/highlights/?forum={world.forum.pk}")
    found["admin"] = visit(page, f"{base}/admin/")
    found["admin changelist"] = visit(page, f"{base}/admin/forums/quote/")
    found["admin change"] = visit(page, f"{base}/admin/forums/forum/{world.forum.pk}/change/")
    page.context.clear_cookies()

    sign_in(page, base, world.users["member_a"].email, "/programme/")
    found["dashboard"] = violations(page)
    found["workspace"] = visit(page, f"{base}/programme/groups/cohort-1/digital-government/")

    assert {where: blocked for where, blocked in found.items() if blocked} == {}
