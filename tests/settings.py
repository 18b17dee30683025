"""Settings for the test suite: the application's own (config/settings.py), in development mode.

Each override says why (as Zulip's test_extra_settings does). Tests that need production mode
run manage.py in a subprocess with a production environment (tests/core/test_deploy.py).
"""

import os

# Production is the default and refuses to start without a secret key and host names; the
# suite runs the development configuration instead, as scripts/serve.sh does. Set in the
# environment (not only below) so that the subprocesses tests start (manage.py, gunicorn)
# inherit it. pytest-django still runs each test with settings.DEBUG = False, so the error
# pages and responses under test are the production ones.
os.environ["DJANGO_DEBUG"] = "true"

from config.settings import *  # noqa: E402, F403
