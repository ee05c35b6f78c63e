/* KPI dashboard: tooltips, the custom-period fields and the Chart.js charts.
   Every chart reads its numbers from the json_script block the view renders; the tables
   next to the charts show the same numbers. */
(function () {
  "use strict";

  document.querySelectorAll('[data-bs-toggle="tooltip"]').forEach(function (el) {
    if (el.getAttribute("title") && window.bootstrap) {
      new bootstrap.Tooltip(el);
    }
  });

  // Custom range: start and end dates; otherwise the anchor month.
  var period = document.querySelector('.dashboard-filters [name="period"]');
  function togglePeriod() {
    if (!period) return;
    var custom = period.value === "custom";
    document.querySelectorAll('.dashboard-filters [data-field="start"], .dashboard-filters [data-field="end"]')
      .forEach(function (el) { el.classList.toggle("d-none", !custom); });
    document.querySelectorAll('.dashboard-filters [data-field="anchor"]')
      .forEach(function (el) { el.classList.toggle("d-none", custom); });
  }
  if (period) {
    period.addEventListener("change", togglePeriod);
    togglePeriod();
  }

  var source = document.getElementById("dashboard-charts");
  if (!source || !window.Chart) return;
  var charts = JSON.parse(source.textContent);
  var yen = new Intl.NumberFormat("ja-JP", { style: "currency", currency: "JPY" });
  var palette = ["#0d6efd", "#6610f2", "#6f42c1", "#d63384", "#dc3545", "#fd7e14",
    "#ffc107", "#198754", "#20c997", "#0dcaf0", "#6c757d", "#adb5bd"];
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.maintainAspectRatio = false;

  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (canvas) new Chart(canvas, config);
  }

  draw("chart-funnel", {
    type: "bar",
    data: {
      labels: charts.funnel.labels,
      datasets: [{ label: charts.funnel.label, data: charts.funnel.counts, backgroundColor: "#0d6efd" }]
    },
    options: { indexAxis: "y", plugins: { legend: { display: false } },
      scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } }
  });

  draw("chart-stages", {
    type: "bar",
    data: {
      labels: charts.stages.labels,
      datasets: [
        { label: charts.stages.amount_label, data: charts.stages.amounts, backgroundColor: "#6ea8fe", yAxisID: "amount" },
        { label: charts.stages.count_label, data: charts.stages.counts, backgroundColor: "#fd7e14", yAxisID: "count" }
      ]
    },
    options: {
      plugins: { tooltip: { callbacks: { label: function (ctx) {
        return ctx.dataset.label + ": " + (ctx.dataset.yAxisID === "amount" ? yen.format(ctx.parsed.y) : ctx.parsed.y);
      } } } },
      scales: {
        amount: { position: "left", beginAtZero: true, ticks: { callback: function (v) { return yen.format(v); } } },
        count: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false }, ticks: { precision: 0 } }
      }
    }
  });

  draw("chart-trend", {
    type: "line",
    data: {
      labels: charts.trend.labels,
      datasets: [
        { label: charts.trend.executed_label, data: charts.trend.executed, borderColor: "#198754", backgroundColor: "#198754", yAxisID: "amount", tension: 0.2 },
        { label: charts.trend.fees_label, data: charts.trend.fees, borderColor: "#0dcaf0", backgroundColor: "#0dcaf0", yAxisID: "amount", tension: 0.2 },
        { label: charts.trend.delay_label, data: charts.trend.delay_rate, borderColor: "#dc3545", backgroundColor: "#dc3545", yAxisID: "rate", tension: 0.2, borderDash: [6, 3] }
      ]
    },
    options: {
      interaction: { mode: "index", intersect: false },
      scales: {
        amount: { position: "left", beginAtZero: true, ticks: { callback: function (v) { return yen.format(v); } } },
        rate: { position: "right", beginAtZero: true, grid: { drawOnChartArea: false }, ticks: { callback: function (v) { return v + "%"; } } }
      }
    }
  });

  draw("chart-lost", {
    type: "doughnut",
    data: {
      labels: charts.lost.labels,
      datasets: [{ label: charts.lost.label, data: charts.lost.counts, backgroundColor: palette }]
    },
    options: { plugins: { legend: { position: "right" } } }
  });
})();
