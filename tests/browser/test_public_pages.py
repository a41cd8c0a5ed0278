"""A visitor reads the seed forum in a real browser."""

import datetime

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(transactional_db):
    call_command("load_demo", start=datetime.date(2026, 12, 1), password="demo-pass-123")


def test_visitor_reads_the_seed_forum_from_the_home_page(demo, live_server, page):
    page.goto(live_server.url + "/")

    expect(page.locator("h1, h2").filter(has_text="如何加速智慧城市建设进程").first).to_be_visible()
    expect(page.get_by_text("数据产业不能蒙眼狂奔;数据立法不能矫枉过正。")).to_be_visible()
    expect(page.get_by_role("link", name="智慧医疗").first).to_be_visible()

    page.get_by_role("link", name="如何加速智慧城市建设进程").first.click()

    expect(page).to_have_url(f"{live_server.url}/forums/smart-city-online-roundtable/")
    highlights = page.locator("[data-testid=highlights] blockquote")
    expect(highlights).to_have_count(8)
    expect(highlights.first).to_contain_text("未来15年是中国城镇化发展的重要时期")
    expect(highlights.last).to_contain_text("联合35个学员在接下来的8个月")
    themes = page.locator("[data-testid=theme] h2")
    expect(themes).to_have_text(["城市与未来", "数据与价值", "机会与贡献"])
    expect(page.get_by_text("我觉得智慧城市永远在路上。", exact=False)).to_be_visible()


def test_visitor_switches_the_interface_to_english(demo, live_server, page):
    page.goto(live_server.url + "/forums/smart-city-online-roundtable/")

    page.get_by_role("link", name="English").click()

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Highlights")).to_be_visible()
    expect(page.locator("[data-testid=theme] h2").first).to_have_text("城市与未来")


def test_home_page_fits_a_narrow_screen(demo, live_server, page):
    page.set_viewport_size({"width": 375, "height": 800})

    page.goto(live_server.url + "/")

    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 375
