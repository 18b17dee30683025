"""``{{ value }}`` outside a template, for HTML written in Python that must equal a template's."""

from django.template.base import render_value_in_context


class _Context:
    # What render_value_in_context reads of a template Context: autoescape on, localisation
    # and time zone as the settings say (the defaults of a rendered template).
    autoescape = True
    use_l10n = None
    use_tz = None


_CONTEXT = _Context()


def var(value) -> str:
    """What ``{{ value }}`` writes: localised, converted to text and escaped unless safe."""
    return render_value_in_context(value, _CONTEXT)
