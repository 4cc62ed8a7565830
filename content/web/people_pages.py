"""Staff looking after accounts: turn one off or back on, remove it, or make a one-time link
to choose a new password (shown with a QR code, or emailed when the box has mail set up)."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for

from content import account_links, accounts, mail
from content.db import LibraryError
from content.web.answers import flash_outcome, hand_over, public_link
from content.web.guard import staff_required
from content.web.request_scope import get_db

bp = Blueprint("people", __name__)


def _account(uid: int) -> accounts.User:
    user = accounts.managed_user(get_db(), g.user, uid)
    if user is None:
        abort(404)
    return user


@bp.route("/accounts")
@staff_required
def accounts_page():
    db = get_db()
    mine = {r.id for r in accounts.residents_for(db, g.user)}
    people = [(u, [r.name for r in accounts.residents_for(db, u) if r.id in mine] if not u.is_staff else None)
              for u in accounts.list_users(db, seen_by=g.user)]
    return render_template("accounts.html", people=people, mail=current_app.config["SITE"].smtp.enabled)


@bp.route("/accounts/<int:uid>/disable", methods=["POST"])
@staff_required
def disable(uid: int):
    return _switch(uid, True)


@bp.route("/accounts/<int:uid>/enable", methods=["POST"])
@staff_required
def enable(uid: int):
    return _switch(uid, False)


def _switch(uid: int, off: bool):
    user = _account(uid)
    flash_outcome(lambda: accounts.set_disabled(get_db(), user.id, off, by=g.user.id),
                  f"{user.name} is turned off and logged out everywhere." if off else f"{user.name} can log in again.")
    return redirect(url_for("people.accounts_page"))


@bp.route("/accounts/<int:uid>/remove", methods=["POST"])
@staff_required
def remove(uid: int):
    user = _account(uid)
    if user.id == g.user.id:
        flash("You cannot remove your own account here.")
        return redirect(url_for("people.accounts_page"))
    flash_outcome(lambda: accounts.remove_user(get_db(), user.id, by=g.user.id),
                  f"{user.name}'s account is removed. What they wrote stays.")
    return redirect(url_for("people.accounts_page"))


@bp.route("/accounts/<int:uid>/reset-link", methods=["POST"])
@staff_required
def reset_link(uid: int):
    user = _account(uid)
    try:
        public_link("/")   # no token is made when no link could be built
        token = account_links.create_reset(get_db(), user.id, created_by=g.user.id)
    except LibraryError as exc:
        flash(str(exc))
        return redirect(url_for("people.accounts_page"))
    link = public_link(url_for("account.reset", token=token))
    sent = None
    if request.form.get("send") == "1":
        try:
            mail.send(current_app.config["SITE"].smtp, user.email, "Choose a new password for Evergreen",
                      f"Open this link to choose a new password for Evergreen (it works once, for "
                      f"{account_links.RESET_HOURS} hours):\n\n{link}\n\nIf you did not ask for this, you can ignore it.")
            sent = f"The link is emailed to {user.email}."
        except mail.MailNotSent as exc:
            sent = str(exc)
    text = (f"Open this link on your phone to choose a new password for Evergreen (it works once, "
            f"for {account_links.RESET_HOURS} hours): {link}")
    return render_template("reset_made.html", person=user, hours=account_links.RESET_HOURS, sent=sent,
                           give=hand_over(link, "Choose a new password for Evergreen", text, to=user.email))
