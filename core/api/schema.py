"""OpenAPI generation (drf-spectacular) that tells the whole truth about each operation:
the streamed export formats, the error answers every endpoint can give, and the headers of
conditional requests."""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema

from core.api.renderers import CSLJSONRenderer, ExportRenderer

ERROR_SCHEMA = {
    "type": "object",
    "description": "An error. `detail` explains it; a 400 lists messages per field instead "
    "(`non_field_errors` for the record as a whole).",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}
ERRORS_ON_READ = {
    "400": "A filter, page or parameter has a bad value (messages per parameter).",
    "404": "No such record, or a page past the last one.",
    "406": "The requested format (?format= or Accept) is not offered by this endpoint.",
    "429": "Too many requests: wait for the number of seconds in Retry-After.",
}
ERRORS_ON_WRITE = {
    "400": "The data is not valid (messages per field).",
    "401": "No or a bad token: send `Authorization: Token <key>`.",
    "403": "Your account may not make this change.",
    "404": "No such record.",
    # e.g. POST /references/number/publish/: "number/..." is the read-only by-number route.
    "405": "This method is not allowed on this path.",
    "406": "The requested format is not offered by this endpoint.",
    "409": "The change conflicts with the record's state (e.g. a workflow step not allowed "
    "from its current status).",
    "412": "If-Match / If-Unmodified-Since failed: someone changed the record since you "
    "read it. Fetch it again and re-apply your change.",
    "415": "The body is not JSON.",
    "428": "No If-Match header: GET the record and send its ETag as If-Match with your "
    "change (changes to existing records only).",
    "429": "Too many requests: wait for the number of seconds in Retry-After.",
}
HEADER_DOCS = {
    "ETag": "Validator for If-None-Match (reads) and If-Match (writes).",
    "Last-Modified": "When the record (or the latest listed record) last changed.",
}


class AutoSchema(SpectacularAutoSchema):
    def get_auth(self):
        auths = super().get_auth()
        # Reads are open to anonymous clients (ReadAnyoneWriteCurators); say so.
        if self.method in ("GET", "HEAD", "OPTIONS") and {} not in auths:
            auths.append({})
        return auths

    def get_response_serializers(self):
        # Writes are validated by a write serializer but answered with the read one.
        view = self.view
        if getattr(view, "action", None) in ("create", "update", "partial_update") and getattr(
            view, "write_serializer_class", None
        ):
            return view.serializer_class
        return super().get_response_serializers()

    def _export_renderers(self):
        return [r for r in self.view.get_renderers() if isinstance(r, ExportRenderer)]

    def _get_response_for_code(
        self, serializer, status_code, media_types=None, direction="response"
    ):
        response = super()._get_response_for_code(serializer, status_code, media_types, direction)
        content = response.get("content", {})
        for renderer in self._export_renderers():
            if renderer.media_type in content and status_code.startswith("2"):
                schema = (
                    {"type": "array", "items": {"type": "object"}}
                    if isinstance(renderer, CSLJSONRenderer)
                    else {"type": "string"}
                )
                schema["description"] = (
                    f"{renderer.format}: every matching record, unpaginated, streamed."
                )
                content[renderer.media_type] = {"schema": schema}
        return response

    def _get_response_headers_for_code(self, status_code, direction="response"):
        headers = super()._get_response_headers_for_code(status_code, direction)
        if self.method == "GET" and status_code in ("200", "304"):
            for name, text in HEADER_DOCS.items():
                headers.setdefault(name, {"schema": {"type": "string"}, "description": text})
        if self.method == "GET" and status_code == "200" and self._is_list_view():
            headers.setdefault(
                "X-Total-Count",
                {
                    "schema": {"type": "integer"},
                    "description": "Number of results over all pages (JSON lists).",
                },
            )
        if status_code == "429":
            headers.setdefault(
                "Retry-After",
                {
                    "schema": {"type": "integer"},
                    "description": "Seconds to wait.",
                },
            )
        return headers

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        safe = self.method in ("GET", "HEAD")
        errors = ERRORS_ON_READ if safe else ERRORS_ON_WRITE
        for code, text in errors.items():
            # Only changes to an existing record need If-Match (core/api/viewsets.py).
            if code == "428" and getattr(self.view, "action", None) == "create":
                continue
            if code not in responses:
                responses[code] = {
                    "description": text,
                    "content": {"application/json": {"schema": ERROR_SCHEMA}},
                }
                headers = self._get_response_headers_for_code(code, direction)
                if headers:
                    responses[code]["headers"] = headers
        if safe and getattr(self.view, "conditional", False):
            responses.setdefault(
                "304",
                {
                    "description": "Not modified: your copy (If-None-Match / If-Modified-Since) "
                    "is current.",
                    "headers": self._get_response_headers_for_code("304", direction),
                },
            )
        return responses
