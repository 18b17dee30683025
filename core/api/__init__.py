"""Building blocks shared by every app's REST API (DRF): pagination, content negotiation and
export renderers, throttling, permissions, conditional requests and error handling.

The apps' ``api`` packages hold only serializers, viewsets and routes; everything that must
behave the same on every endpoint lives here.
"""
