// Parts of a page that follow the kiosk (now playing, the staff panel) update in place:
// a small fetch of just that part every few seconds, instead of reloading the whole page
// (a reload can swallow a tap and makes a screen reader start again at the top).
// Without this script the page is plain, with a "Check again" link.
(function () {
  "use strict";
  if (!window.fetch || !window.FormData) { return; }
  var token = document.querySelector('meta[name="csrf-token"]');
  var HEADERS = { "X-Requested-With": "XMLHttpRequest", "Accept": "text/html" };

  function say(box, text, trouble) {
    var out = box.querySelector("[data-live-said]");
    if (!out) { return; }
    if (text || out.getAttribute("data-trouble")) { out.textContent = text; }
    if (trouble) { out.setAttribute("data-trouble", "1"); } else { out.removeAttribute("data-trouble"); }
  }

  // The lines worth reading out when they change (the song, or why there is none).
  function news(part) {
    return Array.prototype.map.call(part.querySelectorAll("[data-live-news]"), function (el) {
      return el.textContent.trim();
    }).join(" ");
  }

  function refresh(box) {
    if (box.getAttribute("data-live-busy")) { return Promise.resolve(); }
    box.setAttribute("data-live-busy", "1");
    return fetch(box.getAttribute("data-live"), { headers: HEADERS, credentials: "same-origin", cache: "no-store" })
      .then(function (resp) {
        if (resp.status === 401) { throw new Error("login"); }
        if (!resp.ok) { throw new Error("status"); }
        return resp.text();
      })
      .then(function (html) {
        var part = box.querySelector("[data-live-part]");
        // Only a real change is put in, so a finger on a button is not moved for nothing,
        // and a screen reader hears only news.
        if (part && part.innerHTML.trim() !== html.trim()) {
          var before = news(part);
          part.innerHTML = html;
          var after = news(part);
          var heard = box.querySelector("[data-live-heard]");
          if (heard && after !== before) { heard.textContent = after; }
        }
        box.setAttribute("data-live-updated", String(Date.now()));
        say(box, "");   // clears only an earlier trouble, not what a press said
      })
      .catch(function (err) {
        say(box, err.message === "login"
          ? "You have been logged out. Please reload this page to log in again."
          : "Could not reach the music box just now; trying again.", true);
      })
      .then(function () { box.removeAttribute("data-live-busy"); });
  }

  function press(form, box) {
    var data = new FormData(form);
    if (token && !data.get("csrf_token")) { data.append("csrf_token", token.getAttribute("content")); }
    fetch(form.getAttribute("action"), {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "X-Requested-With": "XMLHttpRequest", "Accept": "application/json" }
    }).then(function (resp) {
      return resp.json().catch(function () { return { ok: false, error: "The music box did not answer." }; });
    }).then(function (answer) {
      say(box, answer.ok ? (answer.said || "") : (answer.error || "That did not work."), !answer.ok);
      return refresh(box);
    }).catch(function () { say(box, "Could not reach the music box just now.", true); });
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-live]"), function (box) {
    var every = parseInt(box.getAttribute("data-live-every"), 10) || 5;
    Array.prototype.forEach.call(box.querySelectorAll("[data-live-fallback]"), function (el) { el.hidden = true; });
    box.addEventListener("submit", function (event) {
      var form = event.target;
      if (!form.hasAttribute("data-live-press")) { return; }
      event.preventDefault();
      press(form, box);
    });
    window.setInterval(function () { if (!document.hidden) { refresh(box); } }, every * 1000);
    document.addEventListener("visibilitychange", function () { if (!document.hidden) { refresh(box); } });
  });
}());
