// Upload progress: one request per file, so each file has its own bar and its own answer.
// Without this script the form posts all the files at once and the server shows a results page.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.FormData || !window.XMLHttpRequest) { return; }
  var input = document.getElementById("files");
  var drop = document.getElementById("drop");
  var list = document.getElementById("progress");
  var maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10);
  var limit = form.getAttribute("data-limit");
  var token = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var queue = [];
  var busy = false;

  function row(file) {
    var li = document.createElement("li");
    var name = document.createElement("span");
    name.className = "name";
    name.textContent = file.name;
    var bar = document.createElement("progress");
    bar.max = 100; bar.value = 0;
    bar.setAttribute("aria-label", "Sending " + file.name);
    var said = document.createElement("span");
    said.className = "said";
    said.textContent = "Waiting…";
    li.appendChild(name); li.appendChild(bar); li.appendChild(said);
    list.appendChild(li);
    return { li: li, bar: bar, said: said };
  }

  function show(ui, status, text, extra) {
    ui.li.className = status;
    ui.bar.value = 100;
    ui.said.textContent = text;
    (extra || []).forEach(function (line) {
      var p = document.createElement("span");
      p.className = "lookalike";
      p.textContent = line;
      ui.li.appendChild(p);
    });
  }

  function next() {
    if (busy || !queue.length) { return; }
    busy = true;
    var job = queue.shift();
    var data = new FormData();
    data.append("csrf_token", token);
    data.append("files", job.file, job.file.name);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action || window.location.href);
    xhr.setRequestHeader("X-CSRFToken", token);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) {
        job.ui.bar.value = Math.round(99 * e.loaded / e.total);
        job.ui.said.textContent = e.loaded < e.total ? "Sending…" : "Checking the song…";
      }
    };
    xhr.onload = function () {
      var answer = null;
      try { answer = JSON.parse(xhr.responseText); } catch (err) { answer = null; }
      if (answer && answer.ok && answer.files && answer.files.length) {
        var r = answer.files[0];
        show(job.ui, r.status, r.message, r.lookalikes);
      } else {
        show(job.ui, "refused", job.file.name + ": not added. " +
          ((answer && answer.error) || "The kiosk did not accept it (error " + xhr.status + ")."));
      }
      busy = false; next();
    };
    xhr.onerror = function () {
      show(job.ui, "refused", job.file.name + ": not sent. The connection was lost; please try again.");
      busy = false; next();
    };
    job.ui.said.textContent = "Sending…";
    xhr.send(data);
  }

  function add(files) {
    Array.prototype.forEach.call(files, function (file) {
      var ui = row(file);
      if (file.size === 0) {
        show(ui, "refused", file.name + ": not added. The file is empty.");
      } else if (file.size > maxBytes) {
        show(ui, "refused", file.name + ": not added. It is too big; the most is " + limit + ".");
      } else {
        queue.push({ file: file, ui: ui });
      }
    });
    next();
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (!input.files.length) { input.click(); return; }
    add(input.files);
    form.reset();
  });
  input.addEventListener("change", function () {
    if (input.files.length) { add(input.files); form.reset(); }
  });
  ["dragenter", "dragover"].forEach(function (kind) {
    drop.addEventListener(kind, function (e) { e.preventDefault(); drop.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (kind) {
    drop.addEventListener(kind, function (e) { e.preventDefault(); drop.classList.remove("over"); });
  });
  drop.addEventListener("drop", function (e) {
    if (e.dataTransfer && e.dataTransfer.files.length) { add(e.dataTransfer.files); }
  });
}());
