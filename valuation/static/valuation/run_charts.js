// Charts of an accounting run (ECharts) and the choropleth of the next level of divisions (Leaflet,
// no tile server needed). The numbers printed on the page come from the server's Decimals; these
// charts only draw them.
(function () {
  const source = document.getElementById("gep-chart-data");
  if (!source || !window.echarts) return;
  const data = JSON.parse(source.textContent);
  const green = ["#2f6b45", "#3d8bb8", "#e0a526", "#8fbc8f", "#b8473d", "#6c757d"];
  const wan = (v) => (v / 10000).toLocaleString(undefined, { maximumFractionDigits: 2 });
  const draw = (id, option) => {
    const element = document.getElementById(id);
    if (!element) return;
    echarts.init(element).setOption({ animation: false, color: green, tooltip: { trigger: "item" }, ...option });
    element.dataset.drawn = "1";
  };
  draw("chart-categories", {
    series: [{ type: "pie", radius: ["40%", "70%"], data: data.categories, label: { formatter: "{b}\n{d}%" } }],
  });
  draw("chart-indicators", {
    tooltip: { trigger: "axis", valueFormatter: (v) => wan(v) + " 万元" },
    grid: { left: 110, right: 20, top: 10, bottom: 30 },
    xAxis: { type: "value", axisLabel: { formatter: wan } },
    yAxis: { type: "category", inverse: true, data: data.indicators.map((i) => i.name) },
    series: [{ type: "bar", data: data.indicators.map((i) => i.value) }],
  });
  draw("chart-trend", {
    tooltip: { trigger: "axis", valueFormatter: (v) => wan(v) + " 万元" },
    grid: { left: 60, right: 16, top: 16, bottom: 28 },
    xAxis: { type: "category", data: data.trend.map((t) => String(t.year)) },
    yAxis: { type: "value", axisLabel: { formatter: wan } },
    series: [{ type: "line", data: data.trend.map((t) => t.value), showSymbol: true }],
  });
  draw("chart-children", {
    tooltip: { trigger: "axis", valueFormatter: (v) => wan(v) + " 万元" },
    grid: { left: 110, right: 20, top: 10, bottom: 30 },
    xAxis: { type: "value", axisLabel: { formatter: wan } },
    yAxis: { type: "category", inverse: true, data: data.children.map((c) => c.name) },
    series: [{ type: "bar", data: data.children.map((c) => c.value) }],
  });
  const element = document.getElementById("choropleth");
  if (element && window.L) {
    const shapes = JSON.parse(element.dataset.geojson);
    const peak = Math.max(1, ...shapes.features.map((f) => f.properties.value));
    const map = L.map(element, { attributionControl: false });
    const layer = L.geoJSON(shapes, {
      style: (f) => ({ color: "#1f4a30", weight: 1, fillColor: "#2f6b45", fillOpacity: 0.15 + 0.75 * (f.properties.value / peak) }),
      onEachFeature: (f, shape) => shape.bindTooltip(`${f.properties.name}: ${wan(f.properties.value)} 万元`),
    }).addTo(map);
    map.fitBounds(layer.getBounds());
    element.dataset.drawn = String(shapes.features.length);
  }
})();
