// Draws the dashboard's charts from the specifications the page carries (no inline script:
// the page's CSP allows only our own files). Suppressed cells arrive as null and show as "<5".
(function () {
  "use strict";
  function read(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }
  function label(value, hidden) {
    return value === null || value === undefined ? hidden : String(value);
  }
  // Bars over more named categories than this (services, counties) lie down, one row per
  // name, so that long names stay readable instead of overlapping under the axis; months and
  // dates (plain ASCII) stay along a rotated x axis.
  var MANY = 8;
  var ROW = 28; // px per category row of a lying chart
  function lying(spec) {
    return (spec.kind === "bar" || spec.kind === "stack") && spec.categories.length > MANY &&
      spec.categories.some(function (name) { return /[^\u0000-\u007f]/.test(name); });
  }
  function option(spec, hidden, width) {
    var base = {
      animation: false,
      tooltip: { trigger: spec.kind === "pie" ? "item" : "axis", renderMode: "richText" },
      legend: { top: 0, type: "scroll" },
      grid: { left: 8, right: 8, top: 32, bottom: 8, containLabel: true },
    };
    if (spec.colors && spec.colors.length) base.color = spec.colors;
    if (spec.kind === "pie") {
      var items = spec.categories.map(function (name, i) {
        var value = spec.series[0] ? spec.series[0].data[i] : null;
        return { name: name + "：" + label(value, hidden), value: value === null ? 0 : value };
      });
      base.legend = { bottom: 0, type: "scroll" };
      base.series = [{ type: "pie", radius: ["35%", "65%"], data: items, label: { show: false }, stillShowZeroSum: false }];
      return base;
    }
    var down = lying(spec);
    var categories = { type: "category", data: spec.categories, axisLabel: { interval: 0 } };
    var values = { type: "value", minInterval: 1 };
    if (down) {
      categories.inverse = true; // the first category on top
      categories.axisLabel.width = Math.max(80, Math.round(width * 0.4));
      categories.axisLabel.overflow = "truncate"; // the tooltip shows the whole name
      base.xAxis = values;
      base.yAxis = categories;
    } else {
      categories.axisLabel.rotate = spec.categories.length > 6 ? 30 : 0;
      base.xAxis = categories;
      base.yAxis = values;
    }
    base.series = spec.series.map(function (series) {
      return {
        name: series.name,
        type: spec.kind === "line" ? "line" : "bar",
        stack: spec.kind === "stack" ? "total" : undefined,
        data: series.data,
        label: { show: spec.kind !== "stack" && (down || spec.categories.length <= MANY),
                 position: down ? "right" : "top",
                 formatter: function (p) { return label(p.value, hidden); } },
      };
    });
    return base;
  }
  function draw() {
    if (!window.echarts) return;
    var specs = read("chart-specs") || [];
    var hidden = read("suppressed-text") || "";
    var charts = [];
    specs.forEach(function (spec) {
      var node = document.querySelector('[data-chart="' + spec.id + '"]');
      if (!node) return;
      if (lying(spec)) node.style.height = spec.categories.length * ROW + 60 + "px";
      var chart = window.echarts.init(node, null, { renderer: "canvas" });
      chart.setOption(option(spec, hidden, node.clientWidth));
      if (spec.drill && spec.drill.length) {
        chart.on("click", function (params) {
          var code = spec.drill[params.dataIndex];
          if (!code) return;
          var query = new URLSearchParams(window.location.search);
          query.set("division", code);
          query.delete("round");
          window.location.search = query.toString();
        });
      }
      charts.push({ chart: chart, lying: lying(spec) });
    });
    document.body.setAttribute("data-charts-ready", String(charts.length));
    window.addEventListener("resize", function () {
      charts.forEach(function (drawn) {
        if (drawn.lying) {
          var width = Math.max(80, Math.round(drawn.chart.getDom().clientWidth * 0.4));
          drawn.chart.setOption({ yAxis: { axisLabel: { width: width } } });
        }
        drawn.chart.resize();
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
