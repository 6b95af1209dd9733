// The runs list asks the JSON API for the page it shows, every
// data-poll-ms milliseconds, and redraws its rows when they changed, so
// that new runs appear without a reload. Every value is set as text,
// never as HTML.
"use strict";
(function () {
  var body = document.getElementById("runs");
  if (!body || !body.dataset.api) return;
  var every = parseInt(document.body.dataset.pollMs, 10) || 1000;
  var last = null;
  function pad(n, w) { n = String(n); while (n.length < w) n = "0" + n; return n; }
  function time(s) {
    var d = new Date(s);
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1, 2) + "-" + pad(d.getUTCDate(), 2) + " " +
      pad(d.getUTCHours(), 2) + ":" + pad(d.getUTCMinutes(), 2) + ":" + pad(d.getUTCSeconds(), 2) + "." + pad(d.getUTCMilliseconds(), 3);
  }
  function duration(ms) {
    if (ms < 1) return (ms * 1000).toFixed(0) + "µs";
    if (ms < 1000) return ms.toFixed(1) + "ms";
    return (ms / 1000).toFixed(2) + "s";
  }
  function cell(tr, text) { var td = document.createElement("td"); td.textContent = text; tr.appendChild(td); return td; }
  function draw(runs) {
    var known = {};
    body.querySelectorAll("tr.run").forEach(function (tr) { known[tr.dataset.runId] = true; });
    var rows = document.createDocumentFragment();
    runs.forEach(function (r) {
      var tr = document.createElement("tr");
      tr.className = "run" + (known[r.run_id] ? "" : " new");
      tr.dataset.runId = r.run_id;
      var inTok = r.input_tokens || 0, outTok = r.output_tokens || 0;
      tr.dataset.totalTokens = String(inTok + outTok);
      var a = document.createElement("a");
      a.href = "/runs/" + encodeURIComponent(r.run_id);
      a.textContent = r.run_id;
      cell(tr, "").appendChild(a);
      cell(tr, time(r.start));
      cell(tr, duration(r.duration_ms || 0));
      cell(tr, r.stages || 0);
      cell(tr, r.spans || 0);
      cell(tr, r.errors || 0);
      cell(tr, inTok);
      cell(tr, outTok);
      cell(tr, r.cost == null ? "-" : String(Number(r.cost.toPrecision(4))));
      rows.appendChild(tr);
    });
    if (runs.length === 0) return;
    body.replaceChildren(rows);
  }
  function poll() {
    fetch(body.dataset.api, { credentials: "same-origin", cache: "no-store" })
      .then(function (res) { return res.ok ? res.text() : null; })
      .then(function (text) {
        if (text !== null && text !== last) {
          if (last !== null || body.querySelectorAll("tr.run").length === 0) draw(JSON.parse(text));
          last = text;
        }
      })
      .catch(function () {})
      .then(function () { setTimeout(poll, every); });
  }
  setTimeout(poll, every);
})();
