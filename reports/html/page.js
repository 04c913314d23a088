// page.js - draws the faultline report from the JSON embedded in the page.
// Built into the binary (reports/html_page.c is generated from this file
// and page.css); the page needs no network. Data goes into the DOM only
// through textContent and attributes, never as markup.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var D = JSON.parse(document.getElementById("fl-data").textContent);
  var W = 960, L = 150, R = 20;

  function el(tag, attrs, text, parent) {
    var e = tag.indexOf("svg:") === 0 ? document.createElementNS(SVG, tag.slice(4))
                                      : document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (parent) parent.appendChild(e);
    return e;
  }
  function fmt(t) { return t === null || t === undefined ? "?" : t.toFixed(1) + "s"; }
  function title(node, text) { el("svg:title", {}, text, node); }

  function scale(run) {
    var w = W - L - R;
    return function (t) { return L + Math.max(0, Math.min(1, t / run.t_end)) * w; };
  }

  function axis(svg, run, x, y) {
    var step = Math.max(1, Math.pow(10, Math.floor(Math.log10(run.t_end / 2))));
    if (run.t_end / step > 12) step *= 5;
    for (var t = 0; t <= run.t_end + 1e-9; t += step) {
      el("svg:line", {x1: x(t), x2: x(t), y1: y, y2: y + 4, "class": "fl-tick"}, null, svg);
      el("svg:text", {x: x(t), y: y + 15, "class": "fl-axis"}, fmt(t), svg);
    }
  }

  function bands(svg, run, x, y, h, cls) {
    (run.faults || []).forEach(function (f) {
      var t1 = f.t1 === null ? run.t_end : f.t1;
      var instant = f.t1 === null && f.result !== "ok" || (t1 - f.t0) * (W - L - R) / run.t_end < 2;
      if (f.t1 === null && f.result === "ok" && /kill|restart|failover/.test(f.type)) instant = true;
      var x0 = x(f.t0), w = instant ? 2 : Math.max(2, x(t1) - x0);
      var r = el("svg:rect", {x: x0, y: y, width: w, height: h,
                              "class": cls + (instant ? " fl-instant" : "") +
                                       (f.result !== "ok" ? " fl-failed" : "")}, null, svg);
      title(r, f.type + " " + (f.key || "") + " at " + fmt(f.t0) +
               (f.t1 !== null ? ", healed at " + fmt(f.t1) : "") + ": " + (f.desc || ""));
    });
  }

  function timeline(sec, run) {
    var x = scale(run), lanes = ["faults", "instances", "violations", "notes"];
    var H = 30 * lanes.length + 30;
    var svg = el("svg:svg", {viewBox: "0 0 " + W + " " + H, "class": "fl-timeline"}, null, sec);
    lanes.forEach(function (name, i) {
      el("svg:text", {x: 4, y: 30 * i + 20, "class": "fl-lane"}, name, svg);
      el("svg:line", {x1: L, x2: W - R, y1: 30 * i + 28, y2: 30 * i + 28, "class": "fl-grid"}, null, svg);
    });
    var lastLabel = -1e9;
    (run.events || []).forEach(function (e) {
      if (e.kind === "phase") {
        el("svg:line", {x1: x(e.t), x2: x(e.t), y1: 0, y2: 30 * lanes.length, "class": "fl-phase"}, null, svg);
        // Phases close together (start, steady) would print over each other.
        if (x(e.t) - lastLabel < 45) return;
        lastLabel = x(e.t);
        title(el("svg:text", {x: x(e.t) + 2, y: 8, "class": "fl-phase-label"}, e.value, svg), e.value + " at " + fmt(e.t));
      } else {
        var m = el("svg:rect", {x: x(e.t) - 1, y: 36, width: 3, height: 16,
                                "class": "fl-event fl-event-" + e.kind}, null, svg);
        title(m, (e.key || "") + " " + (e.value || "") + " at " + fmt(e.t));
      }
    });
    bands(svg, run, x, 6, 18, "fl-band");
    (run.invariants || []).forEach(function (inv) {
      if (inv.validity !== "invalid") return;
      inv.cex.forEach(function (c) {
        if (c.t === null) return;
        var p = el("svg:path", {d: "M" + x(c.t) + " 66 l-5 16 l10 0 z", "class": "fl-violation-mark"}, null, svg);
        title(p, inv.label + ": " + c.key + " (" + c.why + ") at " + fmt(c.t));
      });
    });
    (run.notes || []).forEach(function (n) {
      var c = el("svg:circle", {cx: x(n.t), cy: 104, r: 5, "class": "fl-note-mark"}, null, svg);
      title(c, fmt(n.t) + ": " + n.text);
    });
    axis(svg, run, x, 30 * lanes.length);
  }

  function chart(parent, run, label, series, unit) {
    var x = scale(run), H = 110, top = 10, bottom = 90;
    var max = 0;
    series.forEach(function (s) { s.points.forEach(function (p) { if (p[1] > max) max = p[1]; }); });
    if (max <= 0) max = 1;
    var y = function (v) { return bottom - (v / max) * (bottom - top); };
    var svg = el("svg:svg", {viewBox: "0 0 " + W + " " + H, "class": "fl-chart"}, null, parent);
    bands(svg, run, x, top, bottom - top, "fl-band-bg");
    el("svg:text", {x: 4, y: 30, "class": "fl-lane"}, label, svg);
    el("svg:text", {x: 4, y: 46, "class": "fl-axis-left"}, "max " + (+max.toFixed(2)) + unit, svg);
    el("svg:line", {x1: L, x2: W - R, y1: bottom, y2: bottom, "class": "fl-grid"}, null, svg);
    series.forEach(function (s, i) {
      el("svg:text", {x: W - R - 4, y: top + 10 + 12 * i, "class": "fl-legend " + s.cls}, s.name, svg);
      if (!s.points.length) return;
      var d = s.points.map(function (p, i) { return (i ? "L" : "M") + x(p[0]).toFixed(1) + " " + y(p[1]).toFixed(1); }).join(" ");
      title(el("svg:path", {d: d, "class": "fl-line " + s.cls}, null, svg), s.name);
    });
    axis(svg, run, x, bottom);
  }

  function workloads(sec, run) {
    (run.workloads || []).forEach(function (w) {
      var d = el("div", {"class": "fl-workload"}, null, sec);
      el("h4", {}, "workload " + w.name, d);
      var bw = run.bucket_s || 1, thr = [], err = [], p50 = [], p99 = [];
      w.buckets.forEach(function (b) {
        var n = b.ok + b.fail + b.info, mid = b.t + bw / 2;
        thr.push([mid, b.ok / bw]);
        err.push([mid, n ? 100 * (b.fail + b.info) / n : 0]);
        if (b.p50 !== undefined) { p50.push([mid, b.p50]); p99.push([mid, b.p99]); }
      });
      chart(d, run, "ok/s", [{name: "completed ok per second", cls: "fl-ok", points: thr}], "/s");
      chart(d, run, "errors %", [{name: "fail + info, % of completions", cls: "fl-err", points: err}], "%");
      chart(d, run, "latency ms", [{name: "p50", cls: "fl-p50", points: p50},
                                   {name: "p99", cls: "fl-p99", points: p99}], "ms");
    });
  }

  function probes(sec, run) {
    if (!(run.probes || []).length) return;
    el("h3", {}, "Probes", sec);
    var x = scale(run), H = 22 * run.probes.length + 24;
    var svg = el("svg:svg", {viewBox: "0 0 " + W + " " + H, "class": "fl-probes"}, null, sec);
    run.probes.forEach(function (p, i) {
      el("svg:text", {x: 4, y: 22 * i + 15, "class": "fl-lane"}, p.name + (p.key ? " " + p.key : ""), svg);
      p.segs.forEach(function (s) {
        var r = el("svg:rect", {x: x(s.t0), y: 22 * i + 3, width: Math.max(1, x(s.t1) - x(s.t0)),
                                height: 16, "class": "fl-probe fl-probe-" + s.state}, null, svg);
        title(r, fmt(s.t0) + "-" + fmt(s.t1) + ": " + (s.value || ""));
      });
    });
    axis(svg, run, x, 22 * run.probes.length);
  }

  function verdicts(sec, run) {
    el("h3", {}, "Invariants", sec);
    var ul = el("ul", {"class": "fl-invariants"}, null, sec);
    (run.invariants || []).forEach(function (inv) {
      var li = el("li", {"class": "fl-invariant", "data-validity": inv.validity}, null, ul);
      el("span", {"class": "fl-badge fl-" + inv.validity},
         inv.validity === "valid" ? "ok" : inv.validity === "invalid" ? "VIOLATED" : "UNKNOWN", li);
      el("b", {}, " " + inv.label, li);
      el("span", {}, ": " + (inv.summary || ""), li);
      if (!inv.cex.length) return;
      var t = el("table", {"class": "fl-cex"}, null, li);
      var hr = el("tr", {}, null, t);
      ["at", "key", "what"].forEach(function (h) { el("th", {}, h, hr); });
      inv.cex.forEach(function (c) {
        var tr = el("tr", {}, null, t);
        el("td", {}, fmt(c.t), tr);
        el("td", {"class": "fl-cex-key"}, c.key, tr);
        el("td", {}, c.why, tr);
      });
      if (inv.ncex_total > inv.cex.length)
        el("p", {"class": "fl-more"}, (inv.ncex_total - inv.cex.length) + " more not kept", li);
    });
  }

  function notes(sec, run) {
    if (!(run.notes || []).length) return;
    el("h3", {}, "Notes", sec);
    var ul = el("ul", {"class": "fl-notes"}, null, sec);
    run.notes.forEach(function (n) { el("li", {"class": "fl-note"}, fmt(n.t) + "  " + n.text, ul); });
  }

  var main = document.getElementById("fl-runs"), violated = 0;
  D.runs.forEach(function (run) {
    var sec = el("section", {"class": "fl-run", "data-status": run.status}, null, main);
    var h = el("h2", {}, null, sec);
    el("span", {"class": "fl-badge fl-" + run.status.toLowerCase()}, run.status, h);
    el("span", {}, " " + run.name + "  (" + fmt(run.duration_s) + ", seed " + run.seed + ")", h);
    if (run.file) el("p", {"class": "fl-file"}, run.file, sec);
    if (run.harness_error) el("p", {"class": "fl-harness-error"}, run.harness_error, sec);
    (run.invariants || []).forEach(function (i) { if (i.validity === "invalid") violated++; });
    if (run.faults) {
      el("h3", {}, "Timeline", sec);
      timeline(sec, run);
      workloads(sec, run);
      probes(sec, run);
    }
    verdicts(sec, run);
    notes(sec, run);
  });
  var s = document.getElementById("fl-summary");
  s.textContent = D.runs.length + " scenario" + (D.runs.length === 1 ? "" : "s") + ", ";
  el("span", {id: "fl-violations", "data-count": violated},
     violated + " violated invariant" + (violated === 1 ? "" : "s"), s);
  document.body.setAttribute("data-rendered", "1");
})();
