"""The family and staff admin: a Flask app, server-rendered, mobile first.

`create_app(test_config)` builds it (flaskr-style); `python -m content.web` serves it with
waitress. Blueprints by area: account (login, setup, opening an invite), residents, invites (making
and handing one over), songs, upload, suggestions (songs to look for),
kiosk (now playing and the on-screen button panel), care (reactions, the music detective,
times of day, the care-plan report), privacy (a resident's export and deletion); on a hub
also care homes, music boxes and the boxes' channel (`hub_setup`). Settings are in
`settings`, what runs around every view in `hooks`; the rules the views apply live in
`content`.
"""
from __future__ import annotations

from typing import Any

from flask import Flask

from content import mail
from content.web import hooks, hub_setup, settings
from content.web.guard import public
from content.web.request_scope import UploadRequest


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.request_class = UploadRequest
    app.config.from_mapping(settings.admin_config(test_config))
    settings.prepare_data(app.config)
    hooks.install_checks(app)
    from content.web import (account_pages, care_pages, invite_pages, kiosk_pages, people_pages, privacy_pages,
                             resident_pages, song_pages, suggestion_pages, upload_pages)
    app.extensions[account_pages.POSTBOX] = mail.Postbox()
    for module in (account_pages, resident_pages, invite_pages, song_pages, upload_pages, suggestion_pages,
                   kiosk_pages, care_pages, privacy_pages, people_pages):
        app.register_blueprint(module.bp)
    if app.config.get("HUB"):
        hub_setup.install(app)
    app.view_functions["static"] = public(app.view_functions["static"])
    hooks.install_answers(app)
    return app
