"""Error pages and the health check."""

from django.db import connection
from django.http import HttpResponse, HttpResponseServerError
from django.template import loader


def page_not_found(request, exception):
    template = loader.get_template("404.html")
    return HttpResponse(template.render({"path": request.path}, request), status=404)


def server_error(request):
    # No request context: the failure may be in a context processor or the database.
    template = loader.get_template("500.html")
    return HttpResponseServerError(template.render({}))


def healthz(request):
    """200 when the database answers, 503 otherwise (for load balancers and monitors)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any database failure means "not healthy"; never a traceback here
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")
