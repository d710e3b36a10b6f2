// Assets on a Leaflet map, coloured by status. No internet tiles: a plain background unless the
// deployment configures TMCS_MAP_TILE_URL (an intranet tile server).
(function () {
  const element = document.getElementById("asset-map");
  if (!element || !window.L) return;
  const colours = {
    draft: "#9aa5ad", under_review: "#e0a526", in_public_notice: "#e0a526", registered: "#2f6b45",
    collected: "#3d8bb8", listed: "#3d8bb8", leased: "#3d8bb8", pledged: "#b8473d", retired: "#555555",
  };
  const map = L.map(element, { attributionControl: false }).setView([28.45, 119.92], 10);
  if (element.dataset.tiles) L.tileLayer(element.dataset.tiles, { maxZoom: 19 }).addTo(map);
  fetch(element.dataset.source, { credentials: "same-origin" })
    .then((response) => response.json())
    .then((data) => {
      const layer = L.geoJSON(data, {
        style: (feature) => ({ color: colours[feature.properties.status] || "#333", weight: 2, fillOpacity: 0.35 }),
        onEachFeature: (feature, shape) => {
          const p = feature.properties;
          const link = document.createElement("a");
          link.href = p.url;
          link.textContent = `${p.code} ${p.name}`;
          const box = document.createElement("div");
          box.append(link, document.createElement("br"), `${p.type} · ${p.status_label}`);
          shape.bindPopup(box);
        },
      }).addTo(map);
      if (data.features.length) map.fitBounds(layer.getBounds(), { maxZoom: 17 });
      element.dataset.features = String(data.features.length);
    });
})();
