"""The Layout rule (docs/architecture.md): each app keeps to its own tables, admin classes and
URL modules; what joins apps lives in the highest app it needs."""

import ast
import re
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.urls import resolve

# Migrations applied before the rule was written down: they create site-search columns,
# triggers and indexes on the references and therapies tables from evidence. Existing
# databases have applied them, so they stay as they are; no migration may join this list.
HISTORICAL_EXCEPTIONS = {
    "evidence/migrations/0002_search_indexes.py",
    "evidence/migrations/0004_search_vector_columns.py",
}
LOCAL_APPS = ("core", "references", "therapies", "evidence", "releases")


def _tables(app_label: str) -> set[str]:
    tables = set()
    for model in apps.get_app_config(app_label).get_models(include_auto_created=True):
        tables.add(model._meta.db_table)
    return tables


def _strings(path: Path) -> set[str]:
    return {
        node.value
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


def test_a_migration_names_only_its_own_apps_tables():
    root = Path(settings.BASE_DIR)
    offences = []
    for app_label in LOCAL_APPS:
        others = set().union(*(_tables(a) for a in LOCAL_APPS if a != app_label))
        for path in sorted((root / app_label / "migrations").glob("0*.py")):
            relative = path.relative_to(root).as_posix()
            if relative in HISTORICAL_EXCEPTIONS:
                continue
            text = "\n".join(_strings(path))
            named = {t for t in others if re.search(rf"(?<!\w){re.escape(t)}(?!\w)", text)}
            if named:
                offences.append(f"{relative}: {sorted(named)}")
    assert not offences, (
        "A migration alters another app's tables; give the owning app the migration "
        "(docs/architecture.md, Layout): " + "; ".join(offences)
    )


def test_the_historical_exceptions_still_exist():
    """The list above names real files (a rename would silently widen the rule)."""
    root = Path(settings.BASE_DIR)
    assert all((root / name).exists() for name in HISTORICAL_EXCEPTIONS)


def test_other_apps_admin_classes_are_not_patched():
    """references and therapies keep their admin classes as written; evidence registers the
    subclasses that also list the studies (public admin.site.register, no class mutation)."""
    from references.admin import ReferenceAdmin
    from therapies.admin import TherapyAdmin

    assert all(i.model._meta.app_label == "references" for i in ReferenceAdmin.inlines)
    assert all(i.model._meta.app_label == "therapies" for i in TherapyAdmin.inlines)
    reference_admin = admin.site.get_model_admin(apps.get_model("references", "Reference"))
    therapy_admin = admin.site.get_model_admin(apps.get_model("therapies", "Therapy"))
    assert type(reference_admin).__module__ == type(therapy_admin).__module__ == "evidence.admin"
    assert "StudiesReportedInline" in {i.__name__ for i in type(reference_admin).inlines}


def test_a_page_prefix_is_served_by_the_views_module_named_for_it():
    for url, module in [
        ("/therapies/", "evidence.views.therapies"),
        ("/therapies/rituximab/", "evidence.views.therapies"),
        ("/studies/", "evidence.views.studies"),
        ("/subtypes/", "evidence.views.subtypes"),
        ("/references/", "references.views"),
    ]:
        assert resolve(url).func.__module__ == module, url


def test_the_review_queue_is_a_url_of_the_sites_own_admin_site():
    from core.admin import AdminSite

    assert isinstance(admin.site, AdminSite)
    assert resolve("/admin/review-queue/").url_name == "review_queue"
