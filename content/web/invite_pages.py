"""Inviting a family member and handing the link over: the resident's open invitations
(shown again, cancelled), and one link's handover page with a copy button, the phone's
share sheet, email and text-message links that work without JavaScript, and a QR code for
a relative who is visiting. Staff only; the rules are in content.account_links / content.invites."""
from __future__ import annotations

import datetime as _dt

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for

from content import account_links, invites, mail
from content.db import LibraryError
from content.web.answers import hand_over, public_link
from content.web.guard import staff_resident_view
from content.web.request_scope import get_db

bp = Blueprint("invites", __name__)


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def _mail_on() -> bool:
    """Whether this box can send email (an [smtp] server in the admin's settings)."""
    return bool(current_app.config["SITE"].smtp.enabled)


@bp.app_template_filter("day_words")
def day_words(stamp: str | None) -> str:
    """A stored UTC time as the day people say: "Tuesday 8 December"."""
    if not stamp:
        return ""
    when = _dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return f"{when:%A} {when.day} {when:%B}"


def _message(resident_name: str, link: str, until: str) -> str:
    return (f"The care home invites you to add songs for {resident_name} on Evergreen, their music box. "
            f"Open this link on your phone to make your account (it works once, until {until}): {link}")


@bp.route("/residents/<int:rid>/invites")
@staff_resident_view
def invites_page(resident):
    return render_template("invites.html", resident=resident, open=invites.open_invites(get_db(), resident.id),
                           days=account_links.INVITE_DAYS, mail=_mail_on())


@bp.route("/residents/<int:rid>/invites", methods=["POST"])
@staff_resident_view
def make(resident):
    try:
        public_link("/")   # no invite is made when no link could be built
    except LibraryError as exc:
        return render_template("error.html", title="No link can be made yet", message=str(exc)), 503
    try:
        token = account_links.create_invite(get_db(), resident.id, created_by=g.user.id, secret=_secret(),
                                       label=request.form.get("label", ""))
    except LibraryError as exc:
        return render_template("invites.html", resident=resident, open=invites.open_invites(get_db(), resident.id),
                               days=account_links.INVITE_DAYS, mail=_mail_on(), error=str(exc)), 400
    made = invites.open_invites(get_db(), resident.id)[0]
    to = request.form.get("email", "").strip()
    if to and _mail_on():
        link = public_link(url_for("account.invite", token=token))
        try:
            mail.send(current_app.config["SITE"].smtp, to, f"An invitation to add songs for {resident.name}",
                      _message(resident.name, link, day_words(made.expires_at)) + "\n")
        except LibraryError as exc:
            flash(f"{exc} The link is below to hand over another way.")
        else:
            flash(f"The invitation is emailed to {to}.")
    return redirect(url_for("invites.handover", rid=resident.id, iid=made.id))


@bp.route("/residents/<int:rid>/invites/<int:iid>")
@staff_resident_view
def handover(resident, iid: int):
    inv = invites.open_invite_of(get_db(), resident.id, iid)
    if inv is None:
        return render_template("error.html", title="This invitation is closed",
                               message="It was used, cancelled, or has expired. You can make a new one."), 410
    if not inv.can_show_again:
        return render_template("error.html", title="This link cannot be shown again",
                               message="It was made before links could be shown again. Cancel it and make a new one."), 410
    link = public_link(url_for("account.invite", token=invites.link_token(_secret(), inv.salt)))
    until = day_words(inv.expires_at)
    return render_template("invite_handover.html", resident=resident, invite=inv, until=until,
                           give=hand_over(link, f"Songs for {resident.name}", _message(resident.name, link, until)))


@bp.route("/residents/<int:rid>/invites/<int:iid>/cancel", methods=["POST"])
@staff_resident_view
def cancel(resident, iid: int):
    if not invites.cancel(get_db(), resident.id, iid, by=g.user.id):
        abort(404)
    flash("That invitation link is cancelled: it no longer works.")
    return redirect(url_for("invites.invites_page", rid=resident.id))
