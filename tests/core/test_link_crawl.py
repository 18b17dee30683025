"""Every page reachable from the home page answers (issue 17): a breadth-first crawl of the
internal links with the test client (fast: no browser), at most MAX_PAGES pages."""

from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest

pytestmark = pytest.mark.django_db

MAX_PAGES = 300


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def test_no_broken_internal_link_reachable_from_home(client):
    seen, broken = {"/"}, []
    queue = deque([("/", "start")])
    crawled = 0
    while queue and crawled < MAX_PAGES:
        path, source = queue.popleft()
        response = client.get(path)
        crawled += 1
        if response.status_code != 200:
            broken.append(f"{path} ({response.status_code}) linked from {source}")
            continue
        if not response.get("Content-Type", "").startswith("text/html"):
            continue
        parser = Links()
        parser.feed(response.content.decode())
        for href in parser.hrefs:
            url = urldefrag(urljoin(path, href))[0]
            parts = urlsplit(url)
            if parts.scheme or parts.netloc or not parts.path.startswith("/"):
                continue  # external or mailto:
            if url not in seen:
                seen.add(url)
                queue.append((url, path))
    assert crawled > 50  # the crawl really walked the site
    assert broken == []
