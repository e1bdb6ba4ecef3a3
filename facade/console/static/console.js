// Progressive enhancement only: every page works without it (charts excepted).
"use strict";

function drawCharts() {
  if (typeof echarts === "undefined") { return; }
  document.querySelectorAll(".chart[data-option]").forEach(function (el) {
    var source = document.getElementById(el.dataset.option);
    if (!source) { return; }
    var chart = echarts.getInstanceByDom(el) || echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(JSON.parse(source.textContent));
    el.dataset.ready = "1";
  });
}

function resizeCharts() {
  if (typeof echarts === "undefined") { return; }
  document.querySelectorAll(".chart[data-option]").forEach(function (el) {
    var chart = echarts.getInstanceByDom(el);
    if (chart) { chart.resize(); }
  });
}

function enhanceForms() {
  document.querySelectorAll("form[data-autosubmit] select").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
    });
  });
}

// After the idle time-out the server has ended the session: show the sign-in page at once
// rather than let the person fill in a form that will be refused.
function watchIdle() {
  var minutes = parseInt(document.body.dataset.idleMinutes || "0", 10);
  if (!minutes || !document.querySelector("header nav")) { return; }
  window.setTimeout(function () { window.location.reload(); }, minutes * 60 * 1000 + 2000);
}

document.addEventListener("DOMContentLoaded", function () {
  drawCharts();
  enhanceForms();
  watchIdle();
  window.addEventListener("resize", resizeCharts);
});
