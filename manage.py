#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    # Loading the settings refuses a production start that lacks a required variable (see
    # config/settings.py): print that one sentence, not a traceback, and exit non-zero.
    try:
        settings.INSTALLED_APPS  # noqa: B018 - the access is what loads them
    except ImproperlyConfigured as exc:
        sys.exit(f"Refusing to start: {exc}")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
