/* tonewatch dashboard: draws the charts from their JSON islands and keeps SLA countdowns current.
   Everything else is plain HTML forms and links, so the pages work without this file too. */
(function () {
  "use strict";

  // Okabe-Ito palette, the same as the server-rendered PNG charts.
  var PALETTE = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#6e6e6e"];

  function color(dataset, index) {
    var i = typeof dataset.color === "number" ? dataset.color : index;
    return PALETTE[i % PALETTE.length];
  }

  function formatDate(ms) {
    return new Date(ms).toISOString().slice(0, 10);
  }

  function datasetFor(spec, dataset, index) {
    var c = color(dataset, index);
    var base = { label: dataset.label, borderColor: c, backgroundColor: c };
    if (spec.type === "time") {
      var points = (dataset.points || []).map(function (p) { return { x: p[0], y: p[1] }; });
      if (dataset.kind === "line") {
        return Object.assign(base, { data: points, showLine: true, pointRadius: 0, borderWidth: 2, cubicInterpolationMode: "monotone" });
      }
      if (dataset.kind === "marker") {
        return Object.assign(base, { data: points, showLine: false, pointStyle: "triangle", pointRadius: 9, pointHoverRadius: 11 });
      }
      return Object.assign(base, { data: points, showLine: false, pointRadius: 3, backgroundColor: c + "99" });
    }
    var type = dataset.kind === "bar" ? "bar" : "line";
    return Object.assign(base, {
      type: type, data: dataset.values, spanGaps: false, cubicInterpolationMode: "monotone",
      pointRadius: type === "line" ? 2 : 0, borderWidth: type === "line" ? 2 : 0
    });
  }

  function configFor(spec) {
    var percent = !!spec.percent;
    var yTicks = { callback: function (v) { return percent ? Math.round(v * 100) + "%" : v; } };
    var y = { title: { display: !!spec.y.title, text: spec.y.title }, ticks: yTicks, stacked: !!spec.stacked };
    if (spec.y.min !== null && spec.y.min !== undefined) { y.min = spec.y.min; }
    if (spec.y.max !== null && spec.y.max !== undefined) { y.max = spec.y.max; }
    var x = { stacked: !!spec.stacked };
    if (spec.type === "time") {
      x = { type: "linear", ticks: { callback: function (v) { return formatDate(v); }, maxTicksLimit: 8 } };
    }
    var tooltip = {
      callbacks: {
        label: function (ctx) {
          var v = ctx.parsed.y;
          var text = v === null || v === undefined ? "–" : (percent ? (v * 100).toFixed(1) + "%" : Number(v).toFixed(2));
          return ctx.dataset.label + ": " + text;
        },
        title: function (items) {
          if (!items.length) { return ""; }
          return spec.type === "time" ? new Date(items[0].parsed.x).toISOString().slice(0, 16).replace("T", " ") : items[0].label;
        }
      }
    };
    return {
      type: spec.type === "time" ? "scatter" : (spec.type === "bar" ? "bar" : "line"),
      data: {
        labels: spec.type === "time" ? undefined : spec.labels,
        datasets: spec.datasets.map(function (d, i) { return datasetFor(spec, d, i); })
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        interaction: { mode: spec.type === "time" ? "nearest" : "index", intersect: false },
        scales: { x: x, y: y },
        plugins: { legend: { position: "bottom" }, tooltip: tooltip }
      }
    };
  }

  function drawCharts() {
    if (typeof window.Chart !== "function") { return; }
    var canvases = document.querySelectorAll("canvas[data-chart]");
    Array.prototype.forEach.call(canvases, function (canvas) {
      var island = document.getElementById("chart-data-" + canvas.getAttribute("data-chart"));
      if (!island) { return; }
      var spec = JSON.parse(island.textContent);
      new window.Chart(canvas, configFor(spec));
      canvas.setAttribute("data-rendered", "true");
    });
  }

  function describe(seconds) {
    var s = Math.abs(seconds);
    var days = Math.floor(s / 86400), hours = Math.floor((s % 86400) / 3600), minutes = Math.floor((s % 3600) / 60);
    var text = (days ? days + " d " : "") + hours + " h " + minutes + " min";
    return seconds < 0 ? "overdue by " + text : "due in " + text;
  }

  function tickCountdowns() {
    var now = Date.now();
    Array.prototype.forEach.call(document.querySelectorAll("[data-due]"), function (el) {
      var due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) { return; }
      var left = Math.round((due - now) / 1000);
      el.textContent = describe(left);
      var box = el.closest(".sla");
      if (box) { box.classList.toggle("overdue", left < 0); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawCharts();
    tickCountdowns();
    window.setInterval(tickCountdowns, 30000);
  });
})();
