"""Sign a benchmark client in to the collector the way an RA does: invite link, then the form."""

import http.cookiejar
import re
import urllib.request

from sqlalchemy import create_engine

from collector.db.invites import create_invite
from collector.ops.config import normalise_database_url
from tests.helpers import sign_in_over_http


def signed_in_form(server, database_url):
    """Return (Cookie header, csrf_token) of a browser signed in with a fresh invite."""
    engine = create_engine(normalise_database_url(database_url))
    _id, token = create_invite(engine, "Bench RA")
    engine.dispose()  # hold no connection during the measurements
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    sign_in_over_http(opener, f"{server.url}/invite#{token}")
    with opener.open(f"{server.url}/forms/intake") as page:
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.read().decode()).group(1)
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    return cookie, csrf
