/* Dashboard charts (Apache ECharts, vendored under /static/vendor/). Each chart has its data table
   in the page, so nothing here is the only way to read a number. */
(function () {
  "use strict";
  var source = document.getElementById("analytics-chart-data");
  if (!source || typeof echarts === "undefined") return;
  var data = JSON.parse(source.textContent);
  var brand = "#b3261e";
  var palette = ["#b3261e", "#1a56db", "#1b6e3a", "#8a5300", "#6b21a8", "#0f766e"];
  var charts = [];

  function mount(id, option) {
    var el = document.getElementById(id);
    if (!el) return;
    var chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption(Object.assign({ color: palette, animation: false, textStyle: { fontSize: 13 } }, option));
    charts.push(chart);
  }

  var ranking = data.ranking;
  if (ranking.categories.length) {
    document.getElementById("chart-ranking").style.height = Math.max(220, 28 * ranking.categories.length + 60) + "px";
    mount("chart-ranking", {
      grid: { left: 8, right: 40, top: 10, bottom: 20, containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", inverse: true, data: ranking.categories },
      series: [{ type: "bar", data: ranking.counts, itemStyle: { color: brand },
                 label: { show: true, position: "right" } }]
    });
  }

  var trend = data.trend;
  if (trend.series.length) {
    mount("chart-trend", {
      grid: { left: 8, right: 16, top: 40, bottom: 20, containLabel: true },
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", top: 0 },
      xAxis: { type: "category", data: trend.periods, boundaryGap: true },
      yAxis: { type: "value", minInterval: 1 },
      series: trend.series.map(function (s) {
        return { name: s.name, type: "line", data: s.data, symbolSize: 6 };
      })
    });
  }

  var heat = data.heatmap;
  if (heat.categories.length && heat.regions.length) {
    var max = heat.cells.reduce(function (m, c) { return Math.max(m, c[2]); }, 1);
    document.getElementById("chart-heatmap").style.height = Math.max(260, 30 * heat.categories.length + 110) + "px";
    mount("chart-heatmap", {
      grid: { left: 8, right: 16, top: 10, bottom: 70, containLabel: true },
      tooltip: { position: "top" },
      xAxis: { type: "category", data: heat.regions, splitArea: { show: true } },
      yAxis: { type: "category", data: heat.categories, inverse: true, splitArea: { show: true } },
      visualMap: { min: 0, max: max, calculable: true, orient: "horizontal", left: "center", bottom: 0,
                   inRange: { color: ["#fff7f5", "#f4a6a0", brand] } },
      series: [{ type: "heatmap", data: heat.cells, label: { show: true } }]
    });
  }

  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
