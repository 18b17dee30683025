from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "MyoEvidence core"

    def ready(self):
        # Content writes anywhere (admin, API, services, commands) invalidate cached pages.
        from core import invariants
        from core.cache import connect_signals

        connect_signals()
        invariants.connect()
