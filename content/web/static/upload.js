// Upload progress: each file is sent in pieces (no request over the server's piece size), so
// each file has its own bar and its own answer, and a dropped connection carries on from the
// last piece the box has instead of starting again.
// Without this script the form posts all the files at once and the server shows a results page.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.FormData || !window.XMLHttpRequest) { return; }
  var input = document.getElementById("files");
  var drop = document.getElementById("drop");
  var list = document.getElementById("progress");
  var summary = document.getElementById("upload-summary");
  var maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10);
  var limit = form.getAttribute("data-limit");
  var token = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var piecesUrl = form.getAttribute("data-pieces");
  var RETRIES = 20;
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
    summarise();
  }

  // Once every chosen song has its answer: how it went, first ("5 added, 1 not added:")
  // and why each one that was not added was not, as the page without this script says.
  function summarise() {
    var rows = list.querySelectorAll("li");
    var count = { added: 0, duplicate: 0, refused: 0 };
    var why = [];
    for (var i = 0; i < rows.length; i++) {
      var status = rows[i].className;
      if (!(status in count)) { return; }   // still sending
      count[status] += 1;
      if (status === "refused") {
        why.push(rows[i].querySelector(".said").textContent.replace(": not added. ", ": ").replace(": not sent. ", ": "));
      }
    }
    var said = [count.added + " added"];
    if (count.duplicate) { said.push(count.duplicate + " already there"); }
    if (count.refused) { said.push(count.refused + " not added"); }
    var heading = document.createElement("p");
    var strong = document.createElement("strong");
    strong.textContent = said.join(", ") + (why.length ? ":" : ".");
    heading.appendChild(strong);
    summary.textContent = "";
    summary.appendChild(heading);
    if (why.length) {
      var ul = document.createElement("ul");
      why.forEach(function (line) {
        var li = document.createElement("li");
        li.textContent = line;
        ul.appendChild(li);
      });
      summary.appendChild(ul);
    }
  }

  function request(method, url, body, contentType, onProgress, done) {
    var xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.setRequestHeader("X-CSRFToken", token);
    xhr.setRequestHeader("Accept", "application/json");
    if (contentType) { xhr.setRequestHeader("Content-Type", contentType); }
    if (onProgress) {
      xhr.upload.onprogress = function (e) { if (e.lengthComputable) { onProgress(e.loaded); } };
    }
    xhr.onload = function () {
      var answer = null;
      try { answer = JSON.parse(xhr.responseText); } catch (err) { answer = null; }
      done(xhr.status, answer);
    };
    xhr.onerror = function () { done(0, null); };
    xhr.send(body);
  }

  function formData(fields) {
    var data = new FormData();
    data.append("csrf_token", token);
    Object.keys(fields).forEach(function (k) { data.append(k, fields[k]); });
    return data;
  }

  function finished(job, status, answer) {
    if (answer && answer.ok && answer.files && answer.files.length) {
      var r = answer.files[0];
      show(job.ui, r.status, r.message, r.lookalikes);
    } else {
      show(job.ui, "refused", job.file.name + ": not added. " +
        ((answer && answer.error) || "The kiosk did not accept it (error " + status + ")."));
    }
    busy = false; next();
  }

  function lost(job, again) {
    // The connection dropped: wait a little, ask the box how much it has, carry on from there.
    job.failures += 1;
    if (job.failures > RETRIES) {
      show(job.ui, "refused", job.file.name + ": not sent. The connection was lost; please try again.");
      busy = false; next();
      return;
    }
    job.ui.said.textContent = "Connection lost; trying again…";
    window.setTimeout(function () {
      request("GET", piecesUrl + "/" + job.id, null, null, null, function (status, answer) {
        if (status === 200 && answer && answer.ok) { job.received = answer.received; }
        if (status === 0) { lost(job, again); return; }
        if (status !== 200) { finished(job, status, answer); return; }
        again();
      });
    }, Math.min(15000, 1000 * job.failures));
  }

  function sendPiece(job) {
    if (job.received >= job.file.size) {
      job.ui.said.textContent = "Checking the song…";
      request("POST", piecesUrl + "/" + job.id + "/finish", formData({}), null, null, function (status, answer) {
        if (status === 0) { lost(job, function () { sendPiece(job); }); return; }
        finished(job, status, answer);
      });
      return;
    }
    var start = job.received;
    var piece = job.file.slice(start, Math.min(job.file.size, start + job.piece));
    request("POST", piecesUrl + "/" + job.id + "/piece?offset=" + start, piece, "application/octet-stream",
      function (loaded) {
        job.ui.bar.value = Math.round(99 * (start + loaded) / job.file.size);
        job.ui.said.textContent = "Sending…";
      },
      function (status, answer) {
        if (status === 0) { lost(job, function () { sendPiece(job); }); return; }
        if ((status === 200 || status === 409) && answer && typeof answer.received === "number") {
          job.failures = 0;
          job.received = answer.received;
          sendPiece(job);
          return;
        }
        finished(job, status, answer);
      });
  }

  function next() {
    if (busy || !queue.length) { return; }
    busy = true;
    var job = queue.shift();
    job.failures = 0;
    job.ui.said.textContent = "Sending…";
    request("POST", piecesUrl, formData({ name: job.file.name, size: job.file.size }), null, null,
      function (status, answer) {
        if (status === 201 && answer && answer.ok) {
          job.id = answer.id; job.received = answer.received; job.piece = answer.piece;
          sendPiece(job);
        } else if (status === 0) {
          show(job.ui, "refused", job.file.name + ": not sent. The connection was lost; please try again.");
          busy = false; next();
        } else {
          finished(job, status, answer);
        }
      });
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
