from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "MyoEvidence core"

    def ready(self):
        # Content writes anywhere (admin, API, services, commands) move the content generation
        # on, which invalidates cached pages and values (core.caching.generation).
        from core import invariants
        from core.caching.generation import connect_signals

        connect_signals()
        invariants.connect()
