// Assets on a Leaflet map, coloured by status, drawn from the PostGIS vector tiles
// (resources/tiles/{z}/{x}/{y}.mvt, decoded by mvt.js) so that the map stays fast at a million
// parcels: the browser only ever holds the tiles in view. The list's filters travel in the tile
// URL's querystring. No internet tiles: a plain background unless the deployment configures
// TMCS_MAP_TILE_URL (an intranet tile server).
//
// For tests the element carries data-assets (how many the extent query counted), data-min-zoom
// (below it no asset tiles are drawn), data-tiles-loaded (asset tiles painted so far),
// data-features (distinct assets in the tiles now loaded) and _tmcsMap (the Leaflet map).
(function () {
  "use strict";
  const element = document.getElementById("asset-map");
  if (!element || !window.L || !window.TMCS_MVT) return;
  const MVT = window.TMCS_MVT;
  const LAYER = "assets"; // the layer name in resources/tiles.py
  const colours = {
    draft: "#9aa5ad", under_review: "#e0a526", in_public_notice: "#e0a526", registered: "#2f6b45",
    collected: "#3d8bb8", listed: "#3d8bb8", leased: "#3d8bb8", pledged: "#b8473d", retired: "#555555",
  };
  // Status labels in the page's language, from the template (<data value="registered">已登记</data>).
  const statusLabels = {};
  for (const item of document.querySelectorAll("#asset-map-status-labels data")) {
    statusLabels[item.value] = item.textContent;
  }

  // Explicit zoom limits: otherwise Leaflet takes them from the layers, and the asset layer's
  // minZoom (below) would stop the user from zooming out.
  const map = L.map(element, { attributionControl: false, minZoom: 0, maxZoom: 20 });
  element._tmcsMap = map;
  if (element.dataset.tiles) {
    L.tileLayer(element.dataset.tiles, { maxZoom: 20, maxNativeZoom: 19 }).addTo(map);
  }

  const tileKey = (coords) => `${coords.z}/${coords.x}/${coords.y}`;

  // A GridLayer whose tiles are canvases painted from the decoded vector tile. The decoded
  // features of every loaded tile are kept (by z/x/y) for hit-testing clicks.
  const AssetTiles = L.GridLayer.extend({
    options: { noWrap: true, updateWhenZooming: false, maxZoom: 20 },

    initialize(url, options) {
      L.GridLayer.prototype.initialize.call(this, options);
      this._url = url;
      this._decoded = new Map(); // "z/x/y" → { extent, features }
      this._loading = new Map(); // "z/x/y" → AbortController of the tile's fetch
      this.tilesLoaded = 0;
      this.on("tileunload", (event) => {
        const key = tileKey(event.coords);
        this._loading.get(key)?.abort();
        this._loading.delete(key);
        this._decoded.delete(key);
        this.fire("assetschange");
      });
    },

    createTile(coords, done) {
      const tile = document.createElement("canvas");
      const size = this.getTileSize();
      const ratio = window.devicePixelRatio || 1; // sharp lines on retina screens
      tile.width = size.x * ratio;
      tile.height = size.y * ratio;
      const key = tileKey(coords);
      const controller = new AbortController();
      this._loading.set(key, controller);
      fetch(L.Util.template(this._url, coords), { credentials: "same-origin", signal: controller.signal })
        .then((response) => {
          if (!response.ok) throw new Error(`asset tile ${key}: HTTP ${response.status}`);
          return response.arrayBuffer();
        })
        .then((buffer) => {
          if (controller.signal.aborted) return; // unloaded while the body arrived
          const layer = MVT.decode(buffer)[LAYER];
          const decoded = { extent: layer ? layer.extent : 4096, features: layer ? layer.features : [] };
          paint(tile, decoded, ratio);
          this._loading.delete(key);
          this._decoded.set(key, decoded);
          this.tilesLoaded += 1;
          this.fire("assetschange");
          done(null, tile);
        })
        .catch((error) => {
          if (error.name !== "AbortError") done(error, tile);
        });
      return tile;
    },

    // Distinct assets in the loaded tiles (a parcel across a tile edge is in both).
    assetCount() {
      const ids = new Set();
      for (const { features } of this._decoded.values()) {
        for (const feature of features) ids.add(feature.properties.id);
      }
      return ids.size;
    },

    // The topmost polygon under a map point, from the decoded tile it falls in.
    featureAt(latlng) {
      const zoom = Math.round(this._map.getZoom());
      const size = this.getTileSize();
      const point = this._map.project(latlng, zoom);
      const coords = { z: zoom, x: Math.floor(point.x / size.x), y: Math.floor(point.y / size.y) };
      const decoded = this._decoded.get(tileKey(coords));
      if (!decoded) return null;
      const x = ((point.x - coords.x * size.x) / size.x) * decoded.extent;
      const y = ((point.y - coords.y * size.y) / size.y) * decoded.extent;
      for (let i = decoded.features.length - 1; i >= 0; i -= 1) {
        const feature = decoded.features[i];
        if (feature.type === MVT.POLYGON && MVT.containsPoint(feature.rings, x, y)) return feature;
      }
      return null;
    },
  });

  // Fill (translucent) and outline each polygon in its status colour; holes by the even-odd rule.
  // Outlines cut by the tile edge lie in the 64-unit buffer outside the canvas, so no seams show.
  function paint(canvas, { extent, features }, ratio) {
    const context = canvas.getContext("2d");
    const scale = canvas.width / extent;
    context.lineJoin = "round";
    context.lineWidth = 2 * ratio;
    for (const feature of features) {
      if (feature.type !== MVT.POLYGON) continue;
      const colour = colours[feature.properties.status] || "#333333";
      context.beginPath();
      for (const ring of feature.rings) {
        context.moveTo(ring[0][0] * scale, ring[0][1] * scale);
        for (let i = 1; i < ring.length; i += 1) context.lineTo(ring[i][0] * scale, ring[i][1] * scale);
        context.closePath();
      }
      context.fillStyle = colour;
      context.globalAlpha = 0.35;
      context.fill("evenodd");
      context.strokeStyle = colour;
      context.globalAlpha = 1;
      context.stroke();
    }
  }

  function popupFor(feature) {
    const p = feature.properties;
    const box = document.createElement("div");
    box.className = "asset-popup";
    const link = document.createElement("a");
    link.href = element.dataset.assetUrl.replace("{id}", encodeURIComponent(p.id));
    link.textContent = p.code;
    link.className = "fw-semibold";
    const status = statusLabels[p.status] || p.status;
    box.append(link, document.createElement("br"), `${p.type_name || p.type} · ${status}`);
    return box;
  }

  // A city-wide extent at low zoom would put tens of thousands of parcels in each tile (megabytes,
  // seconds each). Assuming the assets spread evenly over their extent, draw from the first zoom
  // at which a tile holds at most MAX_FEATURES_PER_TILE of them; below it the map asks to zoom in.
  const MAX_FEATURES_PER_TILE = 2000;
  function minZoomFor(bounds, count) {
    const sw = map.project(bounds.getSouthWest(), 0);
    const ne = map.project(bounds.getNorthEast(), 0);
    const tilesAtZoom0 = ((ne.x - sw.x) * (sw.y - ne.y)) / 256 ** 2;
    let zoom = 0;
    while (zoom < map.getMaxZoom() && count / Math.max(1, tilesAtZoom0 * 4 ** zoom) > MAX_FEATURES_PER_TILE) {
      zoom += 1;
    }
    return zoom;
  }

  // Below the drawing zoom: a note to zoom in and a dashed outline of where the assets are.
  function zoomHint(bounds, minZoom) {
    const outline = L.rectangle(bounds, {
      color: "#2f6b45", weight: 1, dashArray: "4 4", fill: false, interactive: false,
    });
    const hint = L.control({ position: "topright" });
    hint.onAdd = () => {
      const box = L.DomUtil.create("div", "leaflet-bar bg-white px-2 py-1 small asset-map-zoom-hint");
      box.textContent = element.dataset.zoomHint;
      return box;
    };
    hint.addTo(map);
    const update = () => {
      const below = map.getZoom() < minZoom;
      hint.getContainer().hidden = !below;
      if (below) outline.addTo(map);
      else outline.remove();
    };
    map.on("zoomend", update);
    update();
  }

  function addAssetTiles(bounds, count) {
    const minZoom = minZoomFor(bounds, count);
    const assets = new AssetTiles(element.dataset.tileUrl, { bounds: bounds.pad(0.02), minZoom });
    element.dataset.minZoom = String(minZoom);
    if (minZoom > 0) zoomHint(bounds, minZoom);
    assets.on("assetschange", () => {
      element.dataset.tilesLoaded = String(assets.tilesLoaded);
      element.dataset.features = String(assets.assetCount());
    });
    assets.addTo(map);
    map.on("click", (event) => {
      const feature = assets.featureAt(event.latlng);
      if (feature) L.popup().setLatLng(event.latlng).setContent(popupFor(feature)).openOn(map);
    });
    map.on("mousemove", (event) => {
      element.style.cursor = assets.featureAt(event.latlng) ? "pointer" : "";
    });
  }

  // Open on the visible (filtered) assets: their extent comes from one aggregate query, so no
  // feature is loaded just to place the map. Tiles are only asked for inside that extent.
  const fallback = () => map.setView([28.45, 119.92], 10);
  fetch(element.dataset.extentUrl, { credentials: "same-origin" })
    .then((response) => {
      if (!response.ok) throw new Error(`asset extent: HTTP ${response.status}`);
      return response.json();
    })
    .then(({ bbox, count }) => {
      element.dataset.assets = String(count);
      if (!bbox) {
        fallback();
        element.dataset.tilesLoaded = "0";
        element.dataset.features = "0";
        return;
      }
      const [west, south, east, north] = bbox;
      const bounds = L.latLngBounds([south, west], [north, east]);
      map.fitBounds(bounds, { maxZoom: 17, animate: false });
      addAssetTiles(bounds, count);
    })
    .catch((error) => {
      element.dataset.error = error.message;
      fallback();
    });
})();
