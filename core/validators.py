"""Validators shared by the apps: what a curator, the API or an importer may store."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.deconstruct import deconstructible

WEB_SCHEMES = ("http", "https")
_WEB_URL = URLValidator(schemes=list(WEB_SCHEMES))


def validate_http_url(value: str) -> None:
    """Only http:// and https:// links: a link we show or export must not run code in the
    reader's browser (``javascript:``, ``data:``) or point at a local file (``file:``).

    Used beside ``URLField``'s own ``URLValidator``, which checks the rest of the address
    but also lets ftp:// through; so this checks only the scheme (one message per problem).
    """
    if value and value.partition(":")[0].lower() not in WEB_SCHEMES:
        raise ValidationError(
            "Only http:// and https:// addresses are accepted.", code="invalid_scheme"
        )


@deconstructible
class WebURLListValidator:
    """A JSON list of http(s) URLs (``Reference.identifier_sources``); names the bad item."""

    def __call__(self, value) -> None:
        if not isinstance(value, list):
            raise ValidationError(
                "Give a list of http:// or https:// addresses.", code="invalid_url_list"
            )
        for item in value:
            try:
                if not isinstance(item, str):
                    raise ValidationError("not text")
                _WEB_URL(item)
            except ValidationError:
                raise ValidationError(
                    "'%(item)s' is not an http:// or https:// address.",
                    code="invalid_url",
                    params={"item": str(item)[:200]},
                ) from None

    def __eq__(self, other) -> bool:
        return isinstance(other, WebURLListValidator)


validate_http_url_list = WebURLListValidator()
