// Nothing typed is lost when a session has ended: a form marked data-keep="NAME" keeps what
// is typed in this tab's storage. If Save met the login page instead, then once the person
// is back on this page the words are put back and saved by themselves, once. A page that
// says it saved (data-saved) or shows an error (the server has put the words back itself)
// ends the draft.
(function () {
  "use strict";
  var store;
  try { store = window.sessionStorage; } catch (e) { return; }
  if (!store) { return; }
  var forms = document.querySelectorAll("form[data-keep]");
  var saved = document.querySelector("[data-saved]");
  var failed = document.querySelector(".error[role=alert]");

  function fields(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && el.name !== "csrf_token" && !/^(hidden|password|file|submit|button)$/.test(el.type);
    });
  }

  function read(form) {
    var values = {};
    fields(form).forEach(function (el) {
      values[el.name] = (el.type === "checkbox" || el.type === "radio") ? el.checked : el.value;
    });
    return values;
  }

  function fill(form, values) {
    fields(form).forEach(function (el) {
      if (!(el.name in values)) { return; }
      if (el.type === "checkbox" || el.type === "radio") { el.checked = !!values[el.name]; } else { el.value = values[el.name]; }
    });
  }

  Array.prototype.forEach.call(forms, function (form) {
    var key = "evergreen-draft:" + form.getAttribute("data-keep");
    var draft = null;
    try { draft = JSON.parse(store.getItem(key) || "null"); } catch (e) { draft = null; }
    if (draft && draft.pending && !draft.tries && !saved && !failed) {
      // Back after logging in: put the words back and save them.
      fill(form, draft.values);
      draft.tries = 1;
      store.setItem(key, JSON.stringify(draft));
      var note = document.createElement("p");
      note.className = "notice";
      note.setAttribute("role", "status");
      note.textContent = "You were logged out before this was saved. What you typed is kept and is being saved now.";
      form.parentNode.insertBefore(note, form);
      if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
      return;
    }
    store.removeItem(key);
    form.addEventListener("input", function () {
      store.setItem(key, JSON.stringify({ values: read(form), pending: false }));
    });
    form.addEventListener("submit", function () {
      store.setItem(key, JSON.stringify({ values: read(form), pending: true }));
    });
  });
}());
