"""The "new paper → study" path walked once in a real browser: a new reference, the study form
it opens (reference chosen, arms on the same page), then provenance and the review page; no
Content-Security-Policy violation on the way, and screenshots of each page at both widths."""

import re
from pathlib import Path

import pytest

from evidence.models import Arm, Study
from references.models import Reference
from tests.browser.conftest import outside_the_test_transaction
from tests.browser.test_layout import WIDTHS, open_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

SHOTS = Path("/tmp/shots")
KEY = "browser-path-study"
BIBTEX_KEY = "browserpath2026"


@pytest.fixture
def walked():
    """What the walk saves; on PostgreSQL it is committed by the live server, so it is removed
    again (with its history) after the test. On SQLite it goes with the test's transaction."""
    yield

    def remove():
        for study in Study.objects.filter(key=KEY):
            Arm.history.filter(study_id=study.pk).delete()
            study.delete()
        Study.history.filter(key=KEY).delete()
        Reference.objects.filter(bibtex_key=BIBTEX_KEY).delete()
        Reference.history.filter(bibtex_key=BIBTEX_KEY).delete()

    outside_the_test_transaction(remove)


def log_in(browser, site_url, login, path, size):
    context, page, csp = open_page(browser, site_url, "/admin/login/?next=" + path, size)
    page.fill("#id_username", login[0])
    page.fill("#id_password", login[1])
    page.click("input[type=submit]")
    page.wait_for_url("**" + path)
    return context, page, csp


def choose(page, field: str, text: str):
    """Pick ``text`` in the select2 autocomplete of ``field`` (it asks the server as you type)."""
    page.click(f"#id_{field} + .select2 .select2-selection")
    page.keyboard.type(text[:5])
    page.locator(".select2-results__option", has_text=text).first.click()


def current_step(page) -> str:
    return page.locator(".paper-steps li[aria-current=step]").inner_text().strip()


def shoot(page, name, size):
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"path-{name}-{size}.png"), full_page=True)
    page.screenshot(path=str(SHOTS / f"path-{name}-{size}-top.png"))
    if page.locator(".paper-next").count():
        page.locator(".paper-next").scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / f"path-{name}-{size}-buttons.png"))


def test_a_new_paper_becomes_a_study_in_one_walk(browser, site_url, admin_login, walked):
    context, page, csp = log_in(
        browser, site_url, admin_login, "/admin/references/reference/add/", "laptop"
    )
    try:
        assert current_step(page) == "Reference"
        page.fill("#id_bibtex_key", BIBTEX_KEY)
        page.fill("#id_title", "A browser walk through the curators' path")
        page.fill("#id_year", "2026")
        page.click("input[name=_addstudy]")
        page.wait_for_url("**/admin/evidence/study/add/?reference=*")
        reference = outside_the_test_transaction(
            lambda: Reference.objects.values_list("pk", flat=True).get(bibtex_key=BIBTEX_KEY)
        )
        assert page.url.endswith(f"?reference={reference}")

        # Step 2: the reference is chosen already; the study, its arms and provenance follow.
        assert current_step(page) == "Study"
        assert "browser walk" in page.locator("#id_reference + .select2").inner_text()
        page.fill("#id_key", KEY)
        page.fill("#id_label", "Browser walk")
        choose(page, "therapies", "Rituximab")
        choose(page, "subtypes", "Dermatomyositis")
        page.select_option("#id_design", "case_series")
        page.select_option("#id_result", "benefit")
        page.fill("#id_summary", "Written by the browser test.")
        page.click("#arms-group .add-row a")
        page.fill("#id_arms-0-label", "Placebo")
        page.select_option("#id_arms-0-role", "comparator")
        page.click("input[name=_nextstep]")
        page.wait_for_url("**/admin/evidence/study/*/change/#provenance-group")

        # Steps 3 and 4: arms saved, so the form now points at provenance and the review.
        assert current_step(page) == "Provenance / submit for review"
        assert page.locator("#id_arms-0-label").input_value() == "Placebo"
        assert page.locator("#provenance-group").is_visible()
        page.click("input[name=_toreview]")
        # The browser keeps the fragment (#provenance-group) across the redirect.
        page.wait_for_url(re.compile(r"/admin/evidence/study/\d+/review/(#.*)?$"))
        assert page.locator("button[name=action][value=submit]").is_visible()
        assert csp == []
    finally:
        context.close()


def path_pages() -> dict[str, str]:
    study = Study.objects.get(key="ref01-rim-trial")
    return {
        "reference-add": "/admin/references/reference/add/",
        "study-add": f"/admin/evidence/study/add/?reference={study.reference_id}",
        "study-change": f"/admin/evidence/study/{study.pk}/change/",
        "reference-change": f"/admin/references/reference/{study.reference_id}/change/",
    }


@pytest.mark.parametrize("size", WIDTHS)
def test_the_path_pages_fit_and_keep_the_csp(browser, site_url, admin_login, size):
    """Each page of the path at both widths: no sideways page scroll, no CSP violation, and a
    screenshot to look at (/tmp/shots/path-*.png)."""
    pages = path_pages()
    context, page, csp = log_in(browser, site_url, admin_login, pages["reference-add"], size)
    try:
        for name, path in pages.items():
            page.goto(site_url + path)
            assert page.locator(".paper-steps").is_visible(), name
            width, inner = page.evaluate(
                "() => [document.scrollingElement.scrollWidth, window.innerWidth]"
            )
            assert width <= inner, f"{name} is {width}px wide at {inner}px"
            # The go-on button keeps its whole label inside the window.
            for button in page.locator(".paper-next input").all():
                box = button.bounding_box()
                assert box["x"] + box["width"] <= inner, f"{name}: the button runs out"
            shoot(page, name, size)
        assert csp == []
    finally:
        context.close()


@pytest.mark.parametrize("size", WIDTHS)
def test_the_path_pages_have_no_serious_accessibility_violation(
    browser, site_url, admin_login, axe_source, size
):
    pages = path_pages()
    context, page, _ = log_in(browser, site_url, admin_login, pages["reference-add"], size)
    try:
        for name, path in pages.items():
            page.goto(site_url + path)
            # Injected through the DevTools protocol: the admin's CSP forbids inline script.
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
            assert serious == [], f"{name}: " + "\n".join(serious)
    finally:
        context.close()
