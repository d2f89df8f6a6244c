// Skiff's tracking UI: small progressive enhancements over server-rendered pages, and the
// metric charts (uPlot, loaded before this file in the same bundle as the global `uPlot`).
(function () {
  "use strict";

  function $all(selector, root) {
    return Array.prototype.slice.call((root || document).querySelectorAll(selector));
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text; // never innerHTML: user text stays text
    return node;
  }

  // Buttons that destroy something ask first.
  function confirmations() {
    document.addEventListener("click", function (event) {
      var button = event.target.closest("[data-confirm]");
      if (button && !window.confirm(button.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  }

  // Run-selection buttons need a selection; say so in the page instead of a round trip.
  function selectionGuards() {
    var form = document.getElementById("runs-form");
    if (!form) return;
    var message = el("div", { "class": "error hidden", id: "selection-error" });
    form.insertBefore(message, form.firstChild);
    form.addEventListener("submit", function (event) {
      var picked = $all("input[name=run]:checked", form).length;
      if (!picked) {
        event.preventDefault();
        message.textContent = "Select at least one run first.";
        message.setAttribute("role", "alert");
        message.classList.remove("hidden");
      }
    });
    $all(".select-all", form).forEach(function (box) {
      box.addEventListener("change", function () {
        $all("input[name=run]", form).forEach(function (b) { b.checked = box.checked; });
      });
    });
  }

  function autosubmit() {
    $all(".autosubmit").forEach(function (input) {
      input.addEventListener("change", function () { input.form.submit(); });
    });
    $all(".nojs").forEach(function (n) { n.classList.add("hidden"); });
  }

  function swatches() {
    $all("[data-color]").forEach(function (node) {
      node.style.backgroundColor = node.getAttribute("data-color");
    });
  }

  // Column chooser: keys are fetched only when the chooser is opened, filtered on the server.
  function columnChooser() {
    var chooser = document.getElementById("column-chooser");
    if (!chooser) return;
    var search = chooser.querySelector(".key-search");
    var results = chooser.querySelector(".key-results");
    var base = chooser.getAttribute("data-columns-url");
    var chosen = {};
    $all("input[name=c]:checked", chooser).forEach(function (b) { chosen[b.value] = true; });
    var timer = null, loaded = false, sequence = 0, picked = {};
    results.addEventListener("change", function (event) {
      if (event.target.name === "c") picked[event.target.value] = event.target.checked;
    });

    function load() {
      var mine = ++sequence; // only the latest answer is shown
      var url = base + (base.indexOf("?") >= 0 ? "&" : "?") + "q=" + encodeURIComponent(search.value);
      results.textContent = "Loading…";
      fetch(url, { headers: { Accept: "application/json" } })
        .then(function (r) { return r.json().then(function (body) { return [r.ok, body]; }); })
        .then(function (pair) {
          if (mine !== sequence) return;
          results.textContent = "";
          if (!pair[0]) { results.textContent = pair[1].message || "Could not load keys."; return; }
          var body = pair[1], shown = 0;
          ["metrics", "params", "tags"].forEach(function (kind) {
            (body[kind] || []).forEach(function (key) {
              var value = kind + "." + key;
              if (chosen[value]) return;
              var label = el("label", { "class": "check" });
              var box = el("input", { type: "checkbox", name: "c", value: value });
              box.checked = !!picked[value]; // a reload keeps what was ticked
              label.appendChild(box);
              label.appendChild(document.createTextNode(" " + value));
              results.appendChild(label);
              shown += 1;
            });
          });
          var note = body.truncated ? " (more match; type to narrow)" : "";
          results.appendChild(el("p", { "class": "muted small" },
            shown + (shown === 1 ? " key" : " keys") + " from the latest " + body.sampled_runs +
            " runs" + note));
        })
        .catch(function (err) {
          if (mine === sequence) results.textContent = "Could not load keys: " + err;
        });
    }
    chooser.addEventListener("toggle", function () {
      if (chooser.open && !loaded) { loaded = true; load(); }
    });
    search.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(load, 200);
    });
    search.addEventListener("keydown", function (e) { if (e.key === "Enter") e.preventDefault(); });
  }

  function start() {
    confirmations();
    selectionGuards();
    autosubmit();
    swatches();
    columnChooser();
    if (window.SkiffCharts) window.SkiffCharts.init();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
