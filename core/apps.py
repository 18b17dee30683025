from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "MyoEvidence core"

    def ready(self):
        # Content writes anywhere (admin, API, services, commands) invalidate cached pages.
        # core.services connects the receiver that attributes history records to the
        # service caller (user and reason).
        from core import invariants, services  # noqa: F401
        from core.cache import connect_signals

        connect_signals()
        invariants.connect()
