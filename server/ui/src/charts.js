// Overlaid metric charts. The server downsamples each run's series to the point budget
// (get_metric_history_bulk_interval); this draws them with uPlot and refetches on zoom.
window.SkiffCharts = (function () {
  "use strict";
  var started = false;

  function readRuns() {
    var node = document.getElementById("chart-runs");
    return node ? JSON.parse(node.textContent) : [];
  }

  function controlsState(root) {
    return {
      x: root.querySelector(".chart-x").value,
      smooth: parseFloat(root.querySelector(".chart-smooth").value) || 0,
      log: root.querySelector(".chart-log").checked,
      points: parseInt(root.querySelector(".chart-points").value, 10) || 1000,
    };
  }

  // Exponential moving average with bias correction (as TensorBoard smooths).
  function smooth(values, weight) {
    if (!weight) return values;
    var out = new Array(values.length), last = 0, n = 0;
    for (var i = 0; i < values.length; i++) {
      var v = values[i];
      if (v === null || !isFinite(v)) { out[i] = v; continue; }
      last = last * weight + (1 - weight) * v;
      n += 1;
      out[i] = last / (1 - Math.pow(weight, n));
    }
    return out;
  }

  function xValues(series, mode) {
    if (mode === "step") return series.steps;
    if (mode === "time") return series.timestamps.map(function (t) { return t / 1000; });
    var t0 = series.timestamps.length ? series.timestamps[0] : 0;
    return series.timestamps.map(function (t) { return (t - t0) / 1000; });
  }

  // uPlot wants one shared x array: merge every run's x values, gaps are null.
  function align(seriesList, state) {
    var xsets = seriesList.map(function (s) { return xValues(s, state.x); });
    var all = new Set();
    xsets.forEach(function (xs) { xs.forEach(function (x) { all.add(x); }); });
    var xs = Array.from(all).sort(function (a, b) { return a - b; });
    var index = new Map();
    xs.forEach(function (x, i) { index.set(x, i); });
    var data = [xs];
    seriesList.forEach(function (s, k) {
      var ys = new Array(xs.length).fill(null);
      var values = smooth(s.values, state.smooth);
      xsets[k].forEach(function (x, i) {
        var v = values[i];
        if (state.log && !(v > 0)) v = null;
        ys[index.get(x)] = v;
      });
      data.push(ys);
    });
    return data;
  }

  function Chart(figure, runs, controls) {
    this.figure = figure;
    this.runs = runs;
    this.controls = controls;
    this.canvas = figure.querySelector(".chart-canvas");
    this.status = figure.querySelector(".chart-status");
    this.key = figure.getAttribute("data-key");
    this.url = figure.getAttribute("data-series-url");
    this.range = null;
    this.plot = null;
    this.payload = null;
  }

  Chart.prototype.fetch = function () {
    var self = this, state = controlsState(this.controls);
    var params = new URLSearchParams();
    this.runs.forEach(function (r) { params.append("run", r.id); });
    params.set("key", this.key);
    params.set("points", String(state.points));
    if (this.range) {
      params.set("start", String(Math.floor(this.range[0])));
      params.set("end", String(Math.ceil(this.range[1])));
    }
    this.status.textContent = "Loading…";
    var began = performance.now();
    return fetch(this.url + "?" + params.toString(), { headers: { Accept: "application/json" } })
      .then(function (r) { return r.json().then(function (b) { return [r.ok, b]; }); })
      .then(function (pair) {
        if (!pair[0]) throw new Error(pair[1].message || "the server refused the request");
        self.payload = pair[1];
        self.draw(began);
      })
      .catch(function (err) {
        self.status.textContent = "Could not load " + self.key + ": " + err.message;
        self.figure.classList.add("failed");
      });
  };

  Chart.prototype.draw = function (began) {
    var self = this, state = controlsState(this.controls);
    var byId = {};
    this.payload.series.forEach(function (s) { byId[s.run_id] = s; });
    var list = this.runs.map(function (r) {
      return byId[r.id] || { steps: [], timestamps: [], values: [] };
    });
    var data = align(list, state);
    var points = list.reduce(function (n, s) { return n + s.values.length; }, 0);
    var opts = {
      width: Math.max(300, this.canvas.clientWidth || 800),
      height: 320,
      scales: { x: { time: state.x === "time" }, y: { distr: state.log ? 3 : 1 } },
      axes: [{ label: { step: "step", time: "", relative: "seconds" }[state.x] }, {}],
      series: [{ label: state.x }].concat(this.runs.map(function (r) {
        return { label: r.name, stroke: r.color, width: 1.5, spanGaps: true,
                 points: { show: false } };
      })),
      cursor: { drag: { x: true, y: false, setScale: false } },
      hooks: { setSelect: [function (u) { self.zoom(u); }] },
      legend: { show: true },
    };
    if (this.plot) this.plot.destroy();
    this.canvas.textContent = "";
    this.plot = new uPlot(opts, data, this.canvas);
    var ms = Math.round(performance.now() - began);
    this.status.textContent = points + " points from " + list.length + " runs, " + ms + " ms" +
      (this.range ? " (zoomed; Reset zoom shows all)" : "");
    this.figure.setAttribute("data-rendered", String(points));
  };

  Chart.prototype.zoom = function (u) {
    if (u.select.width < 3) return;
    var lo = u.posToVal(u.select.left, "x"), hi = u.posToVal(u.select.left + u.select.width, "x");
    u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
    if (controlsState(this.controls).x === "step") {
      this.range = [lo, hi];
      this.fetch(); // finer detail for the zoomed range
    } else {
      u.setScale("x", { min: lo, max: hi });
    }
  };

  Chart.prototype.reset = function () {
    this.range = null;
    this.fetch();
  };

  function init() {
    if (started || typeof uPlot === "undefined") return;
    var controls = document.getElementById("chart-controls");
    var figures = Array.prototype.slice.call(document.querySelectorAll("figure.chart"));
    if (!controls || !figures.length) return;
    started = true;
    var runs = readRuns();
    var charts = figures.map(function (f) { return new Chart(f, runs, controls); });
    charts.forEach(function (c) { c.fetch(); });
    function redraw() { charts.forEach(function (c) { if (c.payload) c.draw(performance.now()); }); }
    controls.querySelector(".chart-x").addEventListener("change", function () {
      charts.forEach(function (c) { c.range = null; });
      redraw();
    });
    controls.querySelector(".chart-smooth").addEventListener("input", redraw);
    controls.querySelector(".chart-log").addEventListener("change", redraw);
    controls.querySelector(".chart-points").addEventListener("change", function () {
      charts.forEach(function (c) { c.fetch(); });
    });
    controls.querySelector(".chart-reset").addEventListener("click", function () {
      charts.forEach(function (c) { c.reset(); });
    });
    var timer = null;
    window.addEventListener("resize", function () {
      clearTimeout(timer);
      timer = setTimeout(redraw, 150);
    });
  }

  return { init: init, smooth: smooth, align: align };
})();
