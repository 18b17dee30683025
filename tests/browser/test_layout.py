"""Issue 17 in a real browser: every page type fits 1366 px and 390 px, keeps its key columns
in view, passes axe-core without serious violations and breaks no Content-Security-Policy."""

from pathlib import Path

import pytest

from evidence.models import Study

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

WIDTHS = {"laptop": (1366, 900), "phone": (390, 844)}
PAGES = {
    "home": "/",
    "therapy": "/therapies/rituximab/",
    "summary": "/therapies/rituximab/dermatomyositis/",
    "subtype": "/subtypes/dermatomyositis/",
    "design": "/designs/case-report/",
    "study-list": "/studies/",
    "study": "STUDY",
    "reference-list": "/references/",
    "reference": "/references/1/",
    "search": "/search/?q=swallowing",
    "about": "/about/",
    "release-list": "/releases/",
    "release": "/releases/2026.12.0/",  # ships with the corpus (fixtures/releases/)
}
SHOTS = Path("/tmp/shots")


def open_page(browser, site_url, path, size):
    width, height = WIDTHS[size]
    context = browser.new_context(viewport={"width": width, "height": height}, bypass_csp=False)
    page = context.new_page()
    csp = []
    page.on(
        "console",
        lambda m: (
            csp.append(m.text)
            if "Content Security Policy" in m.text or "Content-Security-Policy" in m.text
            else None
        ),
    )
    if path == "STUDY":
        path = Study.objects.get(key="ref01-rim-trial").get_absolute_url()
    response = page.goto(site_url + path)
    assert response.status == 200, path
    return context, page, csp


@pytest.mark.parametrize("size", WIDTHS)
@pytest.mark.parametrize("kind", PAGES)
def test_page_fits_and_keeps_its_key_columns_in_view(browser, site_url, kind, size):
    context, page, csp = open_page(browser, site_url, PAGES[kind], size)
    try:
        width, inner = page.evaluate(
            "() => [document.scrollingElement.scrollWidth, window.innerWidth]"
        )
        assert width <= inner, f"{kind} is {width}px wide at {inner}px"
        # The key columns of a study table (Result, Level) end inside the window.
        for header in page.locator("table.studies thead th").all():
            if header.inner_text().strip() in ("Result", "Level"):
                box = header.bounding_box()
                assert box["x"] + box["width"] <= inner, f"{kind}: {header.inner_text()} cut off"
        if size == "laptop":
            # At 1366 px no study table needs a sideways scroll of its own.
            wide = page.evaluate(
                "() => [...document.querySelectorAll('table.studies')]"
                ".filter(t => t.parentElement.scrollWidth >"
                " t.parentElement.clientWidth).length"
            )
            assert wide == 0, f"{kind}: a study table scrolls sideways at 1366 px"
        if kind == "home" and size == "phone":
            sticky = page.evaluate(
                "() => getComputedStyle(document.querySelector('.matrix th[scope=row]')).position"
            )
            assert sticky == "sticky"
        if kind in ("study-list", "therapy") and size == "phone":
            # Filters are behind a closed disclosure: the results come first.
            assert page.locator("details.filter-disclosure").get_attribute("open") is None
            assert not page.locator("form.filters button[type=submit]").is_visible()
        if kind == "therapy":
            # Axis text of the chart at 11 px or more, as drawn.
            sizes = page.evaluate(
                "() => [...document.querySelectorAll('.chart svg text')]"
                ".map(t => t.getBoundingClientRect().height)"
            )
            assert sizes and min(sizes) >= 11, sizes
        assert csp == []
    finally:
        context.close()


@pytest.mark.parametrize("size", WIDTHS)
@pytest.mark.parametrize("kind", PAGES)
def test_no_serious_accessibility_violation(browser, site_url, axe_source, kind, size):
    context, page, _ = open_page(browser, site_url, PAGES[kind], size)
    try:
        # The app's CSP forbids inline script: axe is injected through the DevTools protocol.
        cdp = context.new_cdp_session(page)
        cdp.send("Runtime.evaluate", {"expression": axe_source})
        result = page.evaluate(
            "async () => await axe.run(document, {runOnly: {type: 'tag', values: "
            "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}})"
        )
        serious = [
            f"{v['id']}: {v['help']} -> {[n['html'][:100] for n in v['nodes'][:2]]}"
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert serious == [], "\n".join(serious)
    finally:
        context.close()


@pytest.mark.parametrize("size", WIDTHS)
@pytest.mark.parametrize("kind", ["home", "therapy", "summary"])
def test_screenshots(browser, site_url, kind, size):
    SHOTS.mkdir(exist_ok=True)
    context, page, _ = open_page(browser, site_url, PAGES[kind], size)
    page.screenshot(path=str(SHOTS / f"{kind}-{size}.png"), full_page=True)
    page.screenshot(path=str(SHOTS / f"{kind}-{size}-top.png"))
    if page.locator("table.studies").count():
        page.locator("table.studies").first.scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / f"{kind}-{size}-studies.png"))
    context.close()


def admin_page(browser, site_url, login, form, size):
    study = Study.objects.get(key="ref01-rim-trial")
    outcome = study.outcomes.filter(arm_results__isnull=False).first()
    path = ADMIN_FORMS[form].format(ref=study.reference_id, study=study.pk, outcome=outcome.pk)
    context, page, csp = open_page(browser, site_url, "/admin/login/?next=" + path, size)
    page.fill("#id_username", login[0])
    page.fill("#id_password", login[1])
    page.click("input[type=submit]")
    page.wait_for_url("**" + path)
    return context, page, csp


ADMIN_FORMS = {
    "reference": "/admin/references/reference/{ref}/change/",
    "study": "/admin/evidence/study/{study}/change/",
    # With its per-arm results inline.
    "outcome": "/admin/evidence/outcome/{outcome}/change/",
}


@pytest.mark.parametrize("size", WIDTHS)
@pytest.mark.parametrize("form", ADMIN_FORMS)
def test_admin_change_forms_fit_and_keep_the_csp(browser, site_url, admin_login, form, size):
    context, page, csp = admin_page(browser, site_url, admin_login, form, size)
    try:
        width, inner = page.evaluate(
            "() => [document.scrollingElement.scrollWidth, window.innerWidth]"
        )
        assert width <= inner, f"admin {form} form is {width}px wide at {inner}px"
        assert csp == []
        if form == "study":
            SHOTS.mkdir(exist_ok=True)
            page.screenshot(path=str(SHOTS / f"study-admin-{size}.png"), full_page=True)
            page.screenshot(path=str(SHOTS / f"study-admin-{size}-top.png"))
            page.locator("#outcomes-group").scroll_into_view_if_needed()
            page.screenshot(path=str(SHOTS / f"study-admin-{size}-outcomes.png"))
    finally:
        context.close()


@pytest.mark.parametrize("size", WIDTHS)
@pytest.mark.parametrize("form", ADMIN_FORMS)
def test_admin_change_forms_have_no_serious_accessibility_violation(
    browser, site_url, axe_source, admin_login, form, size
):
    """Tabular inlines label every input (templates/admin/edit_inline/tabular.html) and the
    select2 autocompletes carry their field's name (static/js/admin-labels.js). The CSP is
    checked without axe, whose own checks apply inline styles."""
    context, page, _ = admin_page(browser, site_url, admin_login, form, size)
    try:
        context.new_cdp_session(page).send("Runtime.evaluate", {"expression": axe_source})
        result = page.evaluate(
            "async () => await axe.run(document, {runOnly: {type: 'tag', "
            "values: ['wcag2a', 'wcag2aa']}})"
        )
        serious = [
            f"{v['id']}: {[n['html'][:100] for n in v['nodes'][:2]]}"
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert serious == [], "\n".join(serious)
    finally:
        context.close()
