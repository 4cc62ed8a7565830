"""Logging in and out, changing a password, the way back from a forgotten one, first-run
setup, and opening an invite link."""
from __future__ import annotations

import logging
from typing import Any, Callable, TypeVar

import sqlite_utils
from flask import (Blueprint, abort, current_app, flash, g, make_response, redirect, render_template, request,
                   session, url_for)
from flask.typing import ResponseReturnValue

from content import account_links, accounts
from content.db import LibraryError
from content.web.guard import login_required, public, safe_next, sign_in
from content.web.answers import plain_error, public_link
from content.web.request_scope import get_db

bp = Blueprint("account", __name__)
log = logging.getLogger("evergreen.admin")

PASSWORDS_DIFFER = "The two passwords were not the same."
NEW_PASSWORDS_DIFFER = "The two new passwords were not the same."

Link = TypeVar("Link")
POSTBOX = "evergreen.postbox"      # app.extensions: the mail.Postbox that sends in the background


def _remote() -> str:
    return request.remote_addr or ""


def _typed_twice(name: str, mismatch: str) -> str:
    """A new password from the form's field `name`, when the field "again" matches it."""
    value = request.form.get(name, "")
    if value != request.form.get("again", ""):
        raise LibraryError(mismatch)
    return value


def _one_time_link(open_link: Callable[[sqlite_utils.Database, str], Link], token: str) -> Link:
    """The invite or password link behind `token`; a used, expired or unknown one ends the
    request here, saying so in plain words."""
    try:
        return open_link(get_db(), token)
    except LibraryError as exc:
        abort(make_response(plain_error("This link does not work", str(exc), 410)))


def _sign_in_form(template: str, make_user: Callable[[], accounts.User], welcome: str, to: str, *,
                  refused: int = 400, **context: Any) -> ResponseReturnValue:
    """Every form that signs someone in: shown on GET; on POST `make_user` checks what was
    typed and saves it, raising LibraryError with the words to show again above the form.
    Signed in, the person goes to `to` with `welcome`."""
    error = None
    if request.method == "POST":
        try:
            user = make_user()
        except LibraryError as exc:
            error = str(exc)
        else:
            sign_in(user)
            if welcome:
                flash(welcome)
            return redirect(to)
    return render_template(template, error=error, **context), (refused if error else 200)


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    db = get_db()
    if not accounts.has_staff(db):
        return redirect(url_for("account.setup"))
    email = request.form.get("email", "")
    return _sign_in_form("login.html", lambda: accounts.authenticate(db, email, request.form.get("password", ""),
                                                                     remote=_remote()),
                         "", safe_next(request.args.get("next")), refused=401, email=email)


@bp.route("/forgot", methods=["GET", "POST"])
@public
def forgot():
    """The way back in for someone who forgot their password: staff make a one-time link,
    or, where the box can send email, the link is emailed to the account's own address."""
    mail_on = bool(current_app.config["SITE"].smtp.enabled)
    asked = None
    if request.method == "POST" and mail_on:
        asked = " ".join(request.form.get("email", "").split())[:200]
        found = account_links.reset_for_email(get_db(), asked) if asked else None
        if found:
            user, token = found
            try:
                link = public_link(url_for("account.reset", token=token))
            except LibraryError:   # no public address: staff can still help
                log.warning("a password link asked for on the login page could not be emailed", exc_info=True)
            else:
                # Sent in the background: the answer must not wait on the mail server, or how
                # long it took would tell a stranger that the account exists.
                current_app.extensions[POSTBOX].post(
                    current_app.config["SITE"].smtp, user.email, "Choose a new password for Evergreen",
                    f"Someone (we hope you) asked for a new password for Evergreen. Open this link to choose "
                    f"one; it works once, for {account_links.RESET_HOURS} hours:\n\n{link}\n\n"
                    "If it was not you, you can ignore this email: your password stays as it is.\n",
                    failed="a password link asked for on the login page could not be emailed")
    return render_template("forgot.html", hours=account_links.RESET_HOURS, mail=mail_on, asked=asked)


@bp.route("/logout", methods=["POST"])
@public
def logout():
    # Ends this account's sessions on every device too: simpler than a server-side list of
    # sessions, and what someone logging out of a shared or lost phone wants.
    if g.user is not None:
        accounts.end_sessions(get_db(), g.user.id)
    session.clear()
    flash("You have logged out.")
    return redirect(url_for("account.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    return _sign_in_form("password.html",
                         lambda: accounts.change_password(get_db(), g.user, request.form.get("current", ""),
                                                          _typed_twice("new", NEW_PASSWORDS_DIFFER), remote=_remote()),
                         "Your password is changed.", url_for("residents.home"))


@bp.route("/setup", methods=["GET", "POST"])
@public
def setup():
    db = get_db()
    if accounts.has_staff(db):
        return redirect(url_for("account.login"))
    form = request.form
    return _sign_in_form("setup.html",
                         lambda: accounts.use_setup_code(db, form.get("code", ""), form.get("email", ""),
                                                         _typed_twice("password", PASSWORDS_DIFFER),
                                                         display_name=form.get("name", ""), remote=_remote()),
                         "Welcome. Your staff account is ready. Next, add a resident.", url_for("residents.home"),
                         form=form)


@bp.route("/invite/<token>", methods=["GET", "POST"])
@public
def invite(token: str):
    db = get_db()
    inv = _one_time_link(account_links.open_invite, token)
    form = request.form

    def accept() -> accounts.User:
        if g.user is not None:
            return account_links.accept_invite(db, token, user=g.user)
        return account_links.accept_invite(db, token, email=form.get("email", ""),
                                      password=_typed_twice("password", PASSWORDS_DIFFER),
                                      display_name=form.get("name", ""))

    return _sign_in_form("invite.html", accept, f"Welcome. You can now add songs for {inv.resident_name}.",
                         url_for("residents.resident", rid=inv.resident_id), invite=inv, form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@public
def reset(token: str):
    """A one-time link staff made (or emailed) to choose a new password."""
    db = get_db()
    pending = _one_time_link(account_links.open_reset, token)
    return _sign_in_form("reset.html", lambda: account_links.use_reset(db, token, _typed_twice("new", NEW_PASSWORDS_DIFFER)),
                         "Your new password is saved.", url_for("residents.home"), reset=pending)
