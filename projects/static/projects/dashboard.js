// The leaders' dashboard: ECharts charts (each with a "download image" button, ECharts' toolbox
// saveAsImage) and a Leaflet map of the division's assets coloured by status. Every number printed
// on the page comes from the server's Decimals (the tables); the charts only draw them, in 万元.
// No internet tiles: a plain background unless the deployment sets TMCS_MAP_TILE_URL.
//
// For tests each chart element gets data-drawn="1" once drawn, and the map element
// data-features (features drawn) and _tmcsMap (the Leaflet map).
(function () {
  "use strict";
  const source = document.getElementById("dashboard-data");
  if (!source) return;
  const data = JSON.parse(source.textContent);
  const labels = data.labels;
  const palette = ["#2f6b45", "#3d8bb8", "#e0a526", "#8fbc8f", "#b8473d", "#6c757d"];
  const categoryColours = { material: "#e0a526", regulating: "#2f6b45", cultural: "#3d8bb8" };
  const bucketColours = { current: "#2f6b45", "1_30": "#e0a526", "31_60": "#e08a26", "61_90": "#d0662b", "90_plus": "#b8473d" };
  const wan = (value) => Number(value) / 10000;
  const wanText = (value) => Number(value).toLocaleString(undefined, { maximumFractionDigits: 2 });
  const charts = [];

  function draw(id, name, option) {
    const element = document.getElementById(id);
    if (!element || !window.echarts) return;
    const chart = echarts.init(element);
    chart.setOption({
      animation: false,
      color: palette,
      textStyle: { fontFamily: getComputedStyle(document.body).fontFamily },
      toolbox: {
        right: 8,
        top: 0,
        feature: {
          saveAsImage: {
            title: labels.save,
            name: `${data.division}-${name}-${data.year}`,
            backgroundColor: "#ffffff",
            pixelRatio: 2,
          },
        },
      },
      ...option,
    });
    element.dataset.drawn = "1";
    charts.push(chart);
  }

  // Amounts are drawn in 万元 (the unit is in each chart's heading and tooltip).
  const valueAxis = (extra) => ({ type: "value", axisLabel: { formatter: wanText }, ...extra });
  const tooltipWan = { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: (v) => `${wanText(v)} ${labels.wan}` };

  // GEP per year, stacked by category.
  draw("chart-gep-years", "gep-years", {
    tooltip: tooltipWan,
    legend: { top: 0, left: 0 },
    grid: { left: 64, right: 16, top: 40, bottom: 28 },
    xAxis: { type: "category", data: data.gep.years.map((y) => String(y.year)) },
    yAxis: valueAxis(),
    series: data.gep.categories.map((c) => ({
      name: c.label,
      type: "bar",
      stack: "gep",
      barMaxWidth: 48,
      itemStyle: { color: categoryColours[c.key] },
      data: data.gep.years.map((y) => wan(y[c.key])),
    })),
  });

  // GEP per child division, stacked by category, largest first.
  const children = data.gep_children.filter((c) => c.valued);
  draw("chart-gep-children", "gep-children", {
    tooltip: tooltipWan,
    legend: { top: 0, left: 0 },
    grid: { left: 96, right: 24, top: 40, bottom: 28 },
    xAxis: valueAxis(),
    yAxis: { type: "category", inverse: true, data: children.map((c) => c.name) },
    series: data.gep.categories.map((c) => ({
      name: c.label,
      type: "bar",
      stack: "gep",
      barMaxWidth: 28,
      itemStyle: { color: categoryColours[c.key] },
      data: children.map((child) => wan(child[c.key])),
    })),
  });

  // Contracts signed per month: amounts as bars, numbers of contracts as lines.
  const months = data.trading.map((m) => labels.month.replace("%(month)s", m.month));
  draw("chart-trading", "trading", {
    tooltip: { trigger: "axis" },
    legend: { top: 0, left: 0 },
    grid: { left: 64, right: 48, top: 40, bottom: 28 },
    xAxis: { type: "category", data: months },
    yAxis: [valueAxis(), { type: "value", minInterval: 1, splitLine: { show: false } }],
    series: [
      { name: labels.collection, type: "bar", data: data.trading.map((m) => wan(m.collection_amount)), itemStyle: { color: "#8fbc8f" },
        tooltip: { valueFormatter: (v) => `${wanText(v)} ${labels.wan}` } },
      { name: labels.trade, type: "bar", data: data.trading.map((m) => wan(m.trade_amount)), itemStyle: { color: "#2f6b45" },
        tooltip: { valueFormatter: (v) => `${wanText(v)} ${labels.wan}` } },
      { name: labels.collection_count, type: "line", yAxisIndex: 1, data: data.trading.map((m) => m.collection_count), itemStyle: { color: "#e0a526" } },
      { name: labels.trade_count, type: "line", yAxisIndex: 1, data: data.trading.map((m) => m.trade_count), itemStyle: { color: "#3d8bb8" } },
    ],
  });

  // Open loans by delinquency bucket: outstanding principal, with the number of loans on each bar.
  draw("chart-buckets", "delinquency", {
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    grid: { left: 64, right: 16, top: 40, bottom: 48 },
    xAxis: { type: "category", data: data.buckets.map((b) => b.label), axisLabel: { interval: 0, rotate: 20, fontSize: 11 } },
    yAxis: valueAxis(),
    series: [
      {
        name: labels.outstanding,
        type: "bar",
        barMaxWidth: 40,
        data: data.buckets.map((b) => ({ value: wan(b.outstanding), count: b.count, itemStyle: { color: bucketColours[b.bucket] } })),
        label: { show: true, position: "top", formatter: (p) => (p.data.count ? labels.loans_n.replace("%(n)s", p.data.count) : "") },
        tooltip: { valueFormatter: (v) => `${wanText(v)} ${labels.wan}` },
      },
    ],
  });

  // Key projects per category: all and admitted.
  draw("chart-projects", "projects", {
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    legend: { top: 0, left: 0 },
    grid: { left: 120, right: 16, top: 40, bottom: 24 },
    xAxis: { type: "value", minInterval: 1 },
    yAxis: { type: "category", inverse: true, data: data.projects.map((c) => c.label) },
    series: [
      { name: labels.projects, type: "bar", barMaxWidth: 18, data: data.projects.map((c) => c.count), itemStyle: { color: "#8fbc8f" } },
      { name: labels.admitted, type: "bar", barMaxWidth: 18, data: data.projects.map((c) => c.admitted), itemStyle: { color: "#2f6b45" } },
    ],
  });

  window.addEventListener("resize", () => charts.forEach((chart) => chart.resize()));

  // --- the map ---------------------------------------------------------------------------------
  const statusColours = {
    draft: "#9aa5ad", under_review: "#e0a526", in_public_notice: "#e0a526", registered: "#2f6b45",
    collected: "#3d8bb8", listed: "#7b5ea7", leased: "#1b7f8c", pledged: "#b8473d", retired: "#555555",
  };
  const element = document.getElementById("dashboard-map");
  const mapSource = document.getElementById("dashboard-map-data");
  let map = null;
  if (element && mapSource && window.L) {
    const shapes = JSON.parse(mapSource.textContent);
    map = L.map(element, { attributionControl: false, minZoom: 0, maxZoom: 20 });
    element._tmcsMap = map;
    if (element.dataset.tiles) L.tileLayer(element.dataset.tiles, { maxZoom: 20, maxNativeZoom: 19 }).addTo(map);
    const colour = (feature) => statusColours[feature.properties.status] || "#333333";
    const layer = L.geoJSON(shapes, {
      style: (feature) => ({ color: colour(feature), weight: 1.5, fillColor: colour(feature), fillOpacity: 0.4 }),
      pointToLayer: (feature, latlng) =>
        L.circleMarker(latlng, { radius: 5, color: colour(feature), weight: 1, fillColor: colour(feature), fillOpacity: 0.85 }),
      onEachFeature: (feature, shape) => {
        const p = feature.properties;
        const box = document.createElement("div");
        const link = document.createElement("a");
        link.href = p.url;
        link.textContent = `${p.code} ${p.name}`;
        link.className = "fw-semibold";
        box.append(link, document.createElement("br"), `${p.type} · ${p.status_label}`);
        shape.bindPopup(box);
        shape.bindTooltip(`${p.name} · ${p.status_label}`);
      },
    }).addTo(map);
    if (shapes.features.length) {
      map.fitBounds(layer.getBounds(), { maxZoom: 16, padding: [24, 24], animate: false });
    } else {
      map.setView([28.45, 119.92], 9); // 丽水
    }
    element.dataset.features = String(shapes.features.length);
  }

  // Printing: no download buttons on paper; the charts and the map take the printed width.
  window.addEventListener("beforeprint", () => {
    charts.forEach((chart) => {
      chart.setOption({ toolbox: { show: false } });
      chart.resize();
    });
    if (map) map.invalidateSize();
  });
  window.addEventListener("afterprint", () => {
    charts.forEach((chart) => {
      chart.setOption({ toolbox: { show: true } });
      chart.resize();
    });
  });
})();
