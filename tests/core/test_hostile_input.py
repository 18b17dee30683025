"""Hostile input: imports that are huge, binary, nested, self-expanding or oddly encoded are
refused or handled with a clear message in bounded time; markup stored in any text field is
shown escaped on every page; odd requests to the pages get a 4xx, never a 5xx.

(Everyday import problems are tested in tests/references/test_import_bibtex.py, random query
strings in tests/evidence/test_fuzz_pages.py.)"""

import random
import re
import time
from io import StringIO
from urllib.parse import quote

import pytest
from django.core.management import CommandError, call_command
from django.db import models
from django.test import Client
from django.urls import reverse

from evidence.models import Outcome, Provenance, Statement, Study
from references.bibtex import MAX_AUTHORS
from references.models import Author, Reference
from tests.helpers import content
from therapies.models import DrugClass, Therapy, TherapyRationale

pytestmark = pytest.mark.django_db

# Every hostile import must be answered within this many seconds (it is well under 1 in fact).
BOUND = 10


def import_file(path, *args) -> str:
    """Run import_bibtex, timed; return its output or raise CommandError."""
    started = time.monotonic()
    try:
        out = StringIO()
        call_command("import_bibtex", str(path), *args, stdout=out, stderr=StringIO())
        return out.getvalue()
    finally:
        assert time.monotonic() - started < BOUND


def refused(path) -> str:
    with pytest.raises(CommandError) as info:
        import_file(path)
    message = str(info.value)
    assert "was not imported; nothing was saved" in message
    return message


# -- imports ------------------------------------------------------------------------------------


def test_a_100_mb_file_is_refused_by_its_size_without_being_read(tmp_path):
    path = tmp_path / "huge.bib"
    with path.open("wb") as handle:  # sparse: 100 MB long, nothing written
        handle.truncate(100 * 1024 * 1024)
    assert "is 104,857,600 bytes; the import limit is 5,242,880 bytes" in refused(path)


def test_an_oversized_upload_in_the_admin_is_refused_on_the_form(admin_client, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MYOEVIDENCE_IMPORT_MAX_BYTES = 1000  # the same check as for 100 MB, faster
    upload = SimpleUploadedFile("big.bib", b"@misc{a, title={T}}\n" + b"%" * 5000)
    response = admin_client.post(reverse("admin:references_reference_import"), {"file": upload})
    assert response.status_code == 200
    assert "the import limit is 1,000 bytes" in response.content.decode()


@pytest.mark.parametrize(
    "data, expected",
    [
        (random.Random(8).randbytes(200_000), "is not a text file"),
        (bytes(range(0x80, 0x100)) * 100, "is not UTF-8 text"),
        (b"\xff\xfe" + b"\x00\xd8" * 10, "starts like UTF-16 text but is not"),
    ],
)
def test_binary_garbage_is_refused(tmp_path, data, expected):
    path = tmp_path / "garbage.bib"
    path.write_bytes(data)
    assert expected in refused(path)


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "@article{deep, title = {" + "{" * 50_000 + "x" + "}" * 50_000 + "}, year = 2002}\n",
            "entry 'deep' (line 1): braces are nested too deeply to read",
        ),
        (
            "@article{open, title = {" + "{" * 50_000 + "x, year = 2002}\n",
            "entry 'open' starting on line 1: the file ends before the entry closes",
        ),
    ],
)
def test_deeply_nested_braces_are_refused(tmp_path, text, expected):
    path = tmp_path / "deep.bib"
    path.write_text(text)
    assert expected in refused(path)


def test_self_referencing_string_macros_do_not_explode(tmp_path):
    """A 'billion laughs': each @string doubles the one before, 40 deep (2^40 'lol's).
    Macros built from macros are expanded (as BibTeX does), so the expansion is capped: the
    file is refused, naming the first macro past the cap, and nothing is saved."""
    lines = ['@string{lol0 = "lol"}']
    lines += [f"@string{{lol{i} = lol{i - 1} # lol{i - 1}}}" for i in range(1, 41)]
    lines.append("@article{laughs, title = lol40 # lol40, journal = lol40, year = 2001}")
    path = tmp_path / "laughs.bib"
    path.write_text("\n".join(lines))
    assert "@string 'lol16' (line 17) expands to more than 100,000 characters" in refused(path)
    assert not Reference.objects.filter(bibtex_key="laughs").exists()


def test_ten_thousand_authors_are_refused_quickly(tmp_path):
    names = " and ".join(f"Person{i}, A" for i in range(10_000))
    path = tmp_path / "crowd.bib"
    path.write_text(f"@article{{crowd, title = {{Big}}, year = 2001, author = {{{names}}}}}")
    assert (
        f"entry 'crowd' (line 1): has 10,000 authors; at most {MAX_AUTHORS:,} are accepted"
    ) in refused(path)
    assert not Reference.objects.filter(bibtex_key="crowd").exists()


def test_a_file_with_too_many_entries_is_refused(tmp_path, settings):
    settings.MYOEVIDENCE_IMPORT_MAX_ENTRIES = 10
    path = tmp_path / "many.bib"
    path.write_text(
        "\n".join(f"@misc{{m{i}, title = {{Item {i}}}, year = 2001}}" for i in range(11))
    )
    assert "The file has 11 entries; at most 10 are imported at once" in refused(path)


ENTRY = (
    '@article{{{key},\n  author = {{M{{\\"u}}ller, Jürgen and Ødegård, Å}},\n'
    "  title = {{Café au lait: myositis treated with “IVIg” – a case}},\n"
    "  journal = {{Neuromuscul Disord}},\n  year = 2019\n}}\n"
)


@pytest.mark.parametrize(
    "encoding, newline",
    [
        ("utf-8", "\r\n"),
        ("utf-8-sig", "\n"),
        ("utf-8-sig", "\r\n"),
        ("utf-16", "\n"),
        ("utf-16-le", "\r\n"),
        ("utf-16-be", "\n"),
    ],
)
def test_crlf_bom_and_utf16_files_import_correctly(tmp_path, encoding, newline):
    key = f"enc-{encoding}-{len(newline)}"
    text = ENTRY.format(key=key).replace("\n", newline)
    data = text.encode(encoding)
    if encoding in ("utf-16-le", "utf-16-be"):  # a BOM is what tells UTF-16 apart
        data = ("\ufeff" + text).encode(encoding)
    path = tmp_path / "enc.bib"
    path.write_bytes(data)
    import_file(path)
    reference = Reference.objects.get(bibtex_key=key)
    assert reference.title == "Café au lait: myositis treated with “IVIg” – a case"
    assert [(a.family, a.given) for a in reference.ordered_authors] == [
        ("Müller", "Jürgen"),
        ("Ødegård", "Å"),
    ]
    assert "\r" not in reference.journal


def test_hostile_files_never_print_a_traceback(tmp_path):
    import subprocess
    import sys

    from django.conf import settings

    path = tmp_path / "deep.bib"
    path.write_text("@article{deep, title = {" + "{" * 50_000 + "x" + "}" * 50_000 + "}}")
    result = subprocess.run(
        [sys.executable, "manage.py", "import_bibtex", str(path)],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "braces are nested too deeply" in result.stderr
    assert "Traceback" not in result.stderr


# -- markup in every text field is escaped on every page ----------------------------------------

MARK = "xss"


def payload(label: str, max_length: int | None) -> str:
    full = f'<script>alert("{MARK}:{label}")</script>"\'><img src=x onerror=alert(1)>'
    return full if max_length is None or max_length >= len(full) else full[:max_length]


def poison(obj) -> None:
    """Put markup into every free-text field of ``obj`` (saved without validation, as if
    someone got past the forms)."""
    values = {}
    for f in obj._meta.concrete_fields:
        if f.choices or isinstance(f, models.SlugField) or f.name in {"title_normalised"}:
            continue
        label = f"{obj._meta.model_name}{obj.pk}.{f.name}"  # unique: some fields are
        if isinstance(f, models.URLField):
            values[f.name] = f'https://example.org/?q="><script>alert("{MARK}:{label}")</script>'
        elif isinstance(f, models.CharField | models.TextField):
            values[f.name] = payload(label, f.max_length)
        elif isinstance(f, models.JSONField):
            values[f.name] = [payload(label, None)]
    type(obj)._default_manager.filter(pk=obj.pk).update(**values)


@pytest.fixture
def poisoned():
    study = (
        Study.objects.published()
        .filter(outcomes__isnull=False, provenance__isnull=False, statements__isnull=False)
        .order_by("pk")
        .first()
    )
    reference = study.reference
    therapy = study.therapies.order_by("pk").first()
    subtype = study.subtypes.order_by("pk").first()
    for obj in [
        reference,
        *reference.authors.all(),
        therapy,
        therapy.drug_class,
        subtype,
        study,
        *study.outcomes.all(),
        *study.provenance.all(),
        *study.statements.all(),
        *TherapyRationale.objects.filter(therapy=therapy),
    ]:
        poison(obj)
    rationale = TherapyRationale.objects.order_by("pk").first()
    poison(rationale)
    poison(rationale.therapy)
    return {
        "study": Study.objects.get(pk=study.pk),
        "reference": reference,
        "therapy": Therapy.objects.get(pk=therapy.pk),
        "subtype": subtype,
        "rationale_therapy": Therapy.objects.get(pk=rationale.therapy_id),
    }


def assert_escaped(response, url):
    body = response.content.decode()
    assert "<script>alert(" not in body, url
    assert "<img src=x" not in body.lower(), url


def test_markup_in_every_text_field_is_escaped_on_every_page(client, poisoned):
    study, therapy, subtype = poisoned["study"], poisoned["therapy"], poisoned["subtype"]
    assert Study.objects.filter(summary__contains="<script>").exists()
    assert Author.objects.filter(family__contains="<script>").exists()
    assert Outcome.objects.filter(value__contains="<script>").exists()
    assert Provenance.objects.filter(note__contains="<script>").exists()
    assert Statement.objects.filter(text__contains="<script>").exists()
    assert DrugClass.objects.filter(mechanism__contains="<script>").exists()
    pages = [
        "/",
        "/about/",
        "/therapies/",
        therapy.get_absolute_url(),
        poisoned["rationale_therapy"].get_absolute_url(),
        "/subtypes/",
        subtype.get_absolute_url(),
        "/designs/",
        f"/designs/{study.design.replace('_', '-')}/",
        "/studies/",
        study.get_absolute_url(),
        f"/studies/?therapy={therapy.slug}",
        "/references/",
        poisoned["reference"].get_absolute_url(),
        "/search/?q=script",
        "/search/?q=" + quote('<script>alert("xss")</script>'),
        "/studies/?q=" + quote('"><script>alert(1)</script>'),
        "/references/?q=" + quote("<script>alert(1)</script>"),
        "/" + quote('<script>alert("xss")</script>') + "/",
    ]
    shown = set()
    for url in pages:
        response = client.get(url)
        assert response.status_code in (200, 404), url
        assert_escaped(response, url)
        shown.update(
            re.findall(r"&lt;script&gt;alert\(&quot;xss:([a-z]+)\d+\.", response.content.decode())
        )
    # The payloads did reach the pages (escaped) from every kind of record.
    assert shown >= {
        "reference",
        "author",
        "therapy",
        "drugclass",
        "diseasesubtype",
        "study",
        "outcome",
        "provenance",
        "statement",
        "therapyrationale",
    }


def test_exports_with_markup_are_not_served_as_html(client, poisoned):
    reference = poisoned["reference"]
    for url in [
        "/studies/export.csv",
        "/references/export/bibtex/",
        f"/references/{reference.number or f'id-{reference.pk}'}/cite/ris/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert not response["Content-Type"].startswith("text/html"), url
        assert response["X-Content-Type-Options"] == "nosniff"


def test_markup_is_escaped_in_the_admin_too(admin_client, poisoned):
    study, reference = poisoned["study"], poisoned["reference"]
    for url in [
        reverse("admin:evidence_study_change", args=[study.pk]),
        reverse("admin:evidence_study_changelist"),
        reverse("admin:references_reference_change", args=[reference.pk]),
        reverse("admin:evidence_study_history", args=[study.pk]),
        reverse("admin:evidence_study_review", args=[study.pk]),
    ]:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert_escaped(response, url)


# -- odd requests to the pages --------------------------------------------------------------------

PAGES = [
    "/",
    "/studies/",
    "/references/",
    "/therapies/rituximab/",
    "/search/",
    "/subtypes/dermatomyositis/",
    "/designs/",
    "/about/",
    "/studies/export.csv",
    "/references/export/bibtex/",
]


@pytest.mark.parametrize("page", PAGES)
def test_a_100_kb_query_string_is_refused_as_too_long(client, page):
    response = client.get(page, {"q": "a" * 100_000, "therapy": "x" * 1000})
    assert response.status_code == 414
    assert "the limit is 32,768" in response.content.decode()


@pytest.mark.parametrize("page", PAGES)
def test_a_query_string_just_under_the_limit_is_answered_without_error(client, page):
    started = time.monotonic()
    # Percent signs and underscores double in a LIKE pattern: still under SQLite's 50,000.
    response = client.get(page, {"q": "a%_\\'" * 2500, "therapy": "x" * 500})
    content(response)
    assert response.status_code < 500
    assert time.monotonic() - started < BOUND


@pytest.mark.parametrize(
    "url",
    [
        "/search/?q=%ff%fe%fd",
        "/studies/?q=%c0%af&design=%ed%a0%80",
        "/references/?year=%80",
        "/studies/%ff/",
        "/therapies/%c0%af/",
        "/references/%ed%a0%80/",
        "/%e2%82/",
        "/studies/?" + "&".join(f"p{i}=1" for i in range(5000)),  # over Django's 1,000 fields
    ],
)
def test_broken_percent_encoding_and_too_many_fields_are_4xx(client, url):
    response = client.get(url)
    assert 200 <= response.status_code < 500, url


@pytest.mark.parametrize("method", ["head", "options", "post", "put", "patch", "delete", "trace"])
@pytest.mark.parametrize("page", PAGES)
def test_any_method_on_a_page_is_never_a_server_error(page, method):
    client = Client(enforce_csrf_checks=True)  # as a browser without a token would be
    response = getattr(client, method)(page)
    if method in ("head", "options"):
        assert response.status_code == 200, (method, page)
    else:
        assert response.status_code in (403, 405), (method, page)


def test_a_bad_host_header_is_a_400(client):
    assert client.get("/", HTTP_HOST="evil.example.com").status_code == 400
