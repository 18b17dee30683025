"""Caching, in three small modules with one job each (see docs/caching.md):

* ``generation``: the content generation, a counter in the database that every content change
  moves on, read once per request;
* ``pages``: the whole-page cache behind ``core.middleware.PageCacheMiddleware``;
* ``data``: ``per_generation``, the decorator that keeps a selector's value per generation.

``local`` holds the per-process store both caches keep their entries in.
"""
