"""Staff only, each behind a confirmation: one resident's everything as a ZIP, and deleting
a resident completely (the name typed again). Views only; the rules are in `content.privacy`."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, send_file, url_for

from content import privacy
from content.db import LibraryError
from content.web.guard import staff_resident_view
from content.web.request_scope import get_db

bp = Blueprint("privacy", __name__)


def _file_name(name: str) -> str:
    who = "".join(c if c.isalnum() else "-" for c in name).strip("-") or "resident"
    return f"evergreen-{who}.zip"


@bp.route("/residents/<int:rid>/export", methods=["GET", "POST"])
@staff_resident_view
def export(resident):
    if request.method == "GET":
        return render_template("export.html", resident=resident)
    scratch = Path(current_app.config["DATA_DIR"]) / "export-tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=scratch, prefix="export-"))
    try:
        path = privacy.export_resident(get_db(), current_app.config["MEDIA_DIR"], resident.id,
                                       folder / "resident.zip", user_id=g.user.id)
        # Open, then remove: the download reads the open file and nothing stays on disk,
        # even when the phone goes away half way.
        handle = open(path, "rb")
        os.unlink(path)
    except LibraryError as exc:
        flash(str(exc))
        return redirect(url_for("privacy.export", rid=resident.id))
    except OSError:
        flash("There is no room on the box's storage for the export just now. Remove some songs and try again.")
        return redirect(url_for("privacy.export", rid=resident.id))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    resp = send_file(handle, mimetype="application/zip", as_attachment=True, download_name=_file_name(resident.name))
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


@bp.route("/residents/<int:rid>/delete", methods=["GET", "POST"])
@staff_resident_view
def delete(resident):
    error = None
    if request.method == "POST":
        try:
            done = privacy.delete_resident(get_db(), current_app.config["MEDIA_DIR"], resident.id,
                                           confirm_name=request.form.get("name", ""), user_id=g.user.id)
        except LibraryError as exc:
            error = str(exc)
        else:
            from content.web.care_pages import _tell_kiosk
            _tell_kiosk()
            flash(f"{resident.name} is deleted, with their songs no one else has ({done.songs_removed}), "
                  f"{done.plays} plays and {done.reactions} reactions.")
            return redirect(url_for("residents.home"))
    return render_template("delete_resident.html", resident=resident, error=error), (400 if error else 200)
