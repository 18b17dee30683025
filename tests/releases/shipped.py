"""The releases the fixtures ship (load_corpus installs them in every test database), and
versions a test may make without meeting one of them."""

from django.conf import settings

from releases.models import VERSION_RE


def _key(version: str) -> tuple[int, int, int]:
    match = VERSION_RE.match(version)
    assert match, version
    return int(match["year"]), int(match["month"]), int(match["n"])


SHIPPED = sorted(
    (p.parent.name for p in (settings.MYOEVIDENCE_FIXTURES / "releases").glob("*/release.json")),
    key=_key,
)
LATEST = SHIPPED[-1]
_year, _month, _n = _key(LATEST)
# Two later versions, free for a test's own releases (NEXT before AFTER).
NEXT, AFTER = (f"{_year}.{_month}.{_n + i}" for i in (1, 2))
