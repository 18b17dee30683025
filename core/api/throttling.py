"""Rate limits: anonymous clients by IP address, authenticated clients by user.

The address is ``core.security.client_ip``'s, the same the admin login lockout uses, so one
setting (``MYOEVIDENCE_PROXY_COUNT``) says which X-Forwarded-For entry is the real client's:
clients behind one proxy are counted apart, and a client cannot dodge its limit by writing
addresses of its own into the header.

The rates come from ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` and are read on every request
(DRF binds them at import), so tests and deployments can change them through settings.
An exceeded limit answers 429 with a ``Retry-After`` header (see ``core.api.exceptions``).
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from core.security import client_ip


class _LiveRate:
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_ident(self, request):
        return client_ip(request)


class AnonThrottle(_LiveRate, AnonRateThrottle):
    scope = "anon"


class UserThrottle(_LiveRate, UserRateThrottle):
    scope = "user"

    def get_cache_key(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return None  # anonymous clients are AnonThrottle's
        return super().get_cache_key(request, view)
