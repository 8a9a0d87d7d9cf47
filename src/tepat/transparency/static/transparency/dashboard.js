// Dashboard choropleth (Leaflet, boundaries only: no tile server is ever
// contacted, so the page works offline and leaks no visitor to a third party). The chart per
// region is drawn on the server as SVG (transparency/views.py), so it needs no script.
(function () {
  "use strict";
  var COLOURS = ["#e7f2f5", "#99deea", "#28a0cb", "#00687d", "#002d3f"];
  var textNode = document.getElementById("dashboard-text");
  var text = textNode ? JSON.parse(textNode.textContent) : { locale: "id-ID" };

  function colour(value, top) {
    if (value === null || value === undefined) return "#dfe1e2";
    if (top <= 0) return COLOURS[0];
    return COLOURS[Math.min(COLOURS.length - 1, Math.floor((COLOURS.length * value) / (top + 1)))];
  }

  function drawMap() {
    var el = document.getElementById("region-map");
    if (!el || typeof L === "undefined") return;
    var map = L.map(el, { zoomSnap: 0.25, attributionControl: false });
    fetch(el.dataset.geojson, { headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (geo) {
        var top = 0;
        geo.features.forEach(function (f) { top = Math.max(top, f.properties.recipients || 0); });
        var layer = L.geoJSON(geo, {
          style: function (f) {
            if (!f.properties.has_data) return { color: "#a9aeb1", weight: 1, fillOpacity: 1, fillColor: "#ffffff" };
            return { color: "#565c65", weight: 1, fillOpacity: 0.85, fillColor: colour(f.properties.recipients, top) };
          },
          onEachFeature: function (f, lyr) {
            var p = f.properties;
            var shown = !p.has_data ? text.no_data : p.recipients === null ? text.hidden : p.recipients.toLocaleString(text.locale);
            lyr.bindTooltip(p.region_name + ": " + shown);
            if (p.has_data && p.level !== "village") {
              lyr.on("click", function () {
                window.location.search = "?tahap=" + encodeURIComponent(el.dataset.cycle) + "&wilayah=" + encodeURIComponent(p.region_code);
              });
            }
          }
        }).addTo(map);
        if (geo.features.length) map.fitBounds(layer.getBounds());
        el.dataset.ready = String(geo.features.filter(function (f) { return f.properties.has_data; }).length);
      });
  }

  function start() { drawMap(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
