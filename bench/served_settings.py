"""``config.settings`` with one more URL, for ``bench/servers.py``: the floor
(``/__bench__/floor/``, ``HttpResponse("ok")`` behind the site's whole middleware), served by
every server the bench compares. Nothing else differs from production's settings.

    DJANGO_SETTINGS_MODULE=served_settings PYTHONPATH=bench …
"""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "served_urls"
