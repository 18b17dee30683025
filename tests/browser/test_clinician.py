"""In a real browser: a clinician's path, search, filters, and an accessibility scan."""

import bibtexparser
import pytest

from evidence.models import Study
from references.models import Reference

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


def test_home_to_matrix_cell_to_study_to_reference_to_bibtex(page, site_url):
    """A matrix cell opens its summary of findings, which lists the studies behind it."""
    page.goto(site_url + "/")
    page.click('a[href="/therapies/rituximab/dermatomyositis/"]')
    page.wait_for_url("**/therapies/rituximab/dermatomyositis/")
    assert "Rituximab" in page.locator("h1").inner_text()
    page.locator("a", has_text="RIM trial (Rituximab in Myositis)").first.click()
    assert page.locator("h1").inner_text() == "RIM trial (Rituximab in Myositis)"
    page.click("p.citation a")
    page.wait_for_url("**/references/1/")
    with page.expect_download() as info:
        page.click("section.cite >> text=BibTeX")
    text = open(info.value.path(), encoding="utf-8").read()
    [entry] = bibtexparser.parse_string(text).entries
    assert entry["doi"] == Reference.objects.get(number=1).doi


def test_search_by_brand_name(page, site_url):
    page.goto(site_url + "/")
    page.fill("#site-q", "Humira")
    page.press("#site-q", "Enter")
    page.wait_for_url("**/search/?q=Humira")
    page.click("text=Adalimumab")
    assert page.locator("h1").inner_text() == "Adalimumab"


def test_filters_narrow_the_study_list(page, site_url):
    page.goto(site_url + "/studies/")
    page.check("input[name=result][value=harm]")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**result=harm**")
    expected = Study.objects.published().filter(result="harm").count()
    assert page.locator("p[role=status] strong").inner_text() == str(expected)
    assert page.locator("table.studies tbody tr").count() == expected


def test_keyboard_reaches_the_skip_link_first(page, site_url):
    page.goto(site_url + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"


PAGES = [
    "/",
    "/about/",
    "/therapies/",
    "/therapies/rituximab/",
    "/subtypes/",
    "/subtypes/dermatomyositis/",
    "/designs/",
    "/designs/case-report/",
    "/studies/",
    "/studies/?level=9",
    "/references/",
    "/references/1/",
    "/search/?q=rituximab",
    "/no-such-page/",
]


def page_url(study_id):
    return f"/studies/{study_id}/"


@pytest.mark.parametrize("path", PAGES + ["STUDY"])
def test_no_serious_accessibility_violations(page, site_url, axe_source, path):
    if path == "STUDY":
        path = page_url(Study.objects.get(key="ref01-rim-trial").pk)
    page.goto(site_url + path)
    page.add_script_tag(content=axe_source)
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}})"
    )
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} -> {[n['html'][:120] for n in v['nodes'][:3]]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], "\n".join(serious)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/therapies/",
        "/therapies/rituximab/",
        "/subtypes/",
        "/designs/",
        "/studies/",
        "/references/",
        "/references/1/",
        "/about/",
        "/search/?q=ivig",
    ],
)
def test_pages_fit_a_phone_screen(browser, site_url, path):
    """Responsive: nothing pushes the page sideways at 390 px (wide tables scroll in place)."""
    context = browser.new_context(viewport={"width": 390, "height": 800})
    page = context.new_page()
    page.goto(site_url + path)
    width, viewport = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    context.close()
    assert width <= viewport, f"{path} is {width}px wide on a {viewport}px screen"
