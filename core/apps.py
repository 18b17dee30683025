from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "MyoEvidence core"

    def ready(self):
        # Content writes anywhere (admin, API, services, commands) move the content generation
        # on, which invalidates cached pages and values (core.caching.generation).
        # core.services connects the receiver that attributes history records to the
        # service caller (user and reason).
        from core import invariants, services  # noqa: F401
        from core.caching.generation import connect_signals

        connect_signals()
        invariants.connect()


class AdminConfig(admin_apps.AdminConfig):
    """Django's admin with the site's own AdminSite (it adds the editors' review queue).

    Django's documented way to override the default site ("Overriding the default admin
    site"): ``admin.site`` and every ``@admin.register`` then use ``core.admin.AdminSite``.
    """

    default_site = "core.admin.AdminSite"
    # Django's AdminConfig is its module's default; this one is listed by its path, and "core"
    # in INSTALLED_APPS keeps meaning CoreConfig.
    default = False
