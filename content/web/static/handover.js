// Handing an invitation link over from a phone: a copy button, and the phone's own share
// sheet where it has one. Without this script the email and text-message links (and the QR
// code) still work; these two buttons stay hidden.
(function () {
  "use strict";
  var box = document.querySelector(".handover");
  if (!box) { return; }
  var link = box.getAttribute("data-link");
  var said = document.querySelector("[data-said]");
  var copy = box.querySelector("[data-copy]");
  var share = box.querySelector("[data-share]");

  function say(text) { if (said) { said.textContent = text; } }

  // The clipboard API needs HTTPS; a box on the home's network is plain HTTP, so the old
  // way (select the text, copy) is the fallback.
  function copyOldWay() {
    var area = document.createElement("textarea");
    area.value = link;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(area);
    return ok;
  }

  copy.hidden = false;
  copy.addEventListener("click", function () {
    var done = function () { say("The link is copied. Paste it into a message to the family member."); };
    var failed = function () {
      if (copyOldWay()) { done(); } else { say("This phone did not let us copy. Press and hold the link above to copy it."); }
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(link).then(done, failed);
    } else {
      failed();
    }
  });

  if (navigator.share) {
    share.hidden = false;
    share.addEventListener("click", function () {
      navigator.share({ title: box.getAttribute("data-title"), text: box.getAttribute("data-text") })
        .then(function () { say("Shared."); }, function () { /* closed without sharing */ });
    });
  }
}());
