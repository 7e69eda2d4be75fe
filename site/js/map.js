/* Sightline: the location picker shared by the register and manage pages.
 *
 * Markup it expects inside the root element (see index.html):
 *   [data-map]                 the Leaflet container
 *   [data-map-frame]           the box around it (hidden if Leaflet could not load)
 *   [data-action="geolocate"]  "Use my current location"
 *   [data-action="centre"]     "Put the pin at the centre of the map"
 *   [data-tile-note]           shown when the map background cannot load
 *   [data-no-map-note]         shown when the map itself cannot load
 *   [data-location-status]     aria-live line announcing what was set
 *   input[data-lat], input[data-lon]   hidden inputs holding the chosen point
 *
 * Works without Leaflet (only "Use my current location" then), without tiles, and with tiles
 * that fail to load.
 */
(function () {
  "use strict";

  var Sightline = (window.Sightline = window.Sightline || {});
  var config = Sightline.config;

  var TILE_TIMEOUT_MS = 10000;
  var LOCATED_ZOOM = 17;

  function round(value) {
    return Math.round(value * 1e6) / 1e6;
  }

  function describe(lat, lon) {
    return lat.toFixed(5) + ", " + lon.toFixed(5);
  }

  function createPicker(root, options) {
    options = options || {};
    var mapEl = root.querySelector("[data-map]");
    var frame = root.querySelector("[data-map-frame]");
    var geolocateButton = root.querySelector('[data-action="geolocate"]');
    var centreButton = root.querySelector('[data-action="centre"]');
    var tileNote = root.querySelector("[data-tile-note]");
    var noMapNote = root.querySelector("[data-no-map-note]");
    var statusEl = root.querySelector("[data-location-status]");
    var latInput = root.querySelector("input[data-lat]");
    var lonInput = root.querySelector("input[data-lon]");

    var map = null;
    var marker = null;
    var locating = false;
    var waiting = []; // callbacks for settled()
    var initialView = { center: config.mapCenter, zoom: config.mapZoom };

    function setStatus(text, problem) {
      statusEl.textContent = text;
      statusEl.classList.toggle("location-status--problem", !!problem);
    }

    function current() {
      if (latInput.value === "" || lonInput.value === "") return null;
      var lat = Number(latInput.value);
      var lon = Number(lonInput.value);
      if (!isFinite(lat) || !isFinite(lon)) return null;
      return { lat: lat, lon: lon };
    }

    function placeMarker(lat, lon) {
      if (!map) return;
      if (marker) {
        marker.setLatLng([lat, lon]);
        return;
      }
      marker = window.L.marker([lat, lon], {
        draggable: true,
        keyboard: false,
        autoPan: true,
        alt: "Pin showing your chosen location"
      }).addTo(map);
      marker.on("dragend", function () {
        var point = marker.getLatLng();
        setLocation(point.lat, point.lng, { how: "moved" });
      });
    }

    /**
     * Put the pin at lat/lon and announce it.
     * how: "device" | "map" | "moved" | "centre" | "saved"; accuracy: metres (device only)
     */
    function setLocation(lat, lon, info) {
      info = info || {};
      lat = round(lat);
      lon = round(((lon + 540) % 360) - 180); // keep longitude within -180..180 after panning
      latInput.value = String(lat);
      lonInput.value = String(lon);
      placeMarker(lat, lon);
      var text;
      if (info.how === "saved") {
        text = "Location set: the pin shows your registered location, " + describe(lat, lon) + ".";
      } else {
        text = "Location set: " + describe(lat, lon);
        if (info.how === "device") {
          text += " (from your device";
          if (info.accuracy) text += ", accurate to about " + Math.max(1, Math.round(info.accuracy)) + " metres";
          text += ")";
        } else if (info.how === "centre") {
          text += " (the centre of the map)";
        }
        text += ".";
      }
      setStatus(text, false);
      if (typeof options.onChange === "function") options.onChange({ lat: lat, lon: lon });
    }

    function clearLocation() {
      latInput.value = "";
      lonInput.value = "";
      if (marker && map) {
        map.removeLayer(marker);
        marker = null;
      }
      setStatus("No location chosen yet.", false);
    }

    // ---------------------------------------------------------------- "Use my current location"

    function geolocate() {
      if (locating) return;
      if (!("geolocation" in navigator)) {
        setStatus(
          "Your browser cannot share your location. " +
            (map ? "Click or tap the map to place the pin instead." : "Try another browser or device."),
          true
        );
        return;
      }
      locating = true;
      geolocateButton.setAttribute("aria-busy", "true");
      setStatus("Finding your location…", false);
      navigator.geolocation.getCurrentPosition(
        function (position) {
          geolocateButton.removeAttribute("aria-busy");
          var lat = position.coords.latitude;
          var lon = position.coords.longitude;
          if (map) map.setView([lat, lon], Math.max(map.getZoom(), LOCATED_ZOOM));
          setLocation(lat, lon, { how: "device", accuracy: position.coords.accuracy });
          doneLocating();
        },
        function (error) {
          geolocateButton.removeAttribute("aria-busy");
          var other = map
            ? " Instead, click or tap the map to place the pin, or move the map and use 'Put the pin at the centre of the map'."
            : "";
          var text;
          if (error && error.code === 1) {
            text = "You did not allow this page to see your location. You can allow it in your browser's settings and try again." + other;
          } else if (error && error.code === 3) {
            text = "Finding your location took too long. Try again." + other;
          } else {
            text = "Your location is not available right now. Try again in a moment." + other;
          }
          setStatus(text, true);
          doneLocating();
        },
        { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 }
      );
    }

    function doneLocating() {
      locating = false;
      var callbacks = waiting;
      waiting = [];
      callbacks.forEach(function (fn) {
        fn();
      });
    }

    /** A promise that resolves once any "Use my current location" lookup has finished. */
    function settled() {
      return new Promise(function (resolve) {
        if (!locating) resolve();
        else waiting.push(resolve);
      });
    }

    geolocateButton.addEventListener("click", geolocate);

    // ---------------------------------------------------------------- the map

    function showTileNote(show) {
      tileNote.hidden = !show;
    }

    /** A plain grid as the map background, so moving the map can be seen without tiles. */
    var grid = null;

    function addGrid() {
      if (grid) return;
      var Grid = window.L.GridLayer.extend({
        createTile: function () {
          var tile = document.createElement("div");
          tile.className = "map-grid-tile";
          return tile;
        }
      });
      grid = new Grid({ tileSize: 128, zIndex: 0 }).addTo(map);
    }

    function removeGrid() {
      if (grid) {
        map.removeLayer(grid);
        grid = null;
      }
    }

    function startMap() {
      if (!window.L || typeof window.L.map !== "function" || !mapEl) {
        frame.hidden = true;
        if (centreButton) centreButton.hidden = true;
        noMapNote.hidden = false;
        return;
      }
      try {
        map = window.L.map(mapEl, {
          center: initialView.center,
          zoom: initialView.zoom,
          minZoom: 3,
          maxZoom: 19,
          keyboard: true,
          scrollWheelZoom: false,
          attributionControl: !!config.tileUrl
        });
      } catch (e) {
        map = null;
        frame.hidden = true;
        if (centreButton) centreButton.hidden = true;
        noMapNote.hidden = false;
        return;
      }
      if (map.attributionControl) map.attributionControl.setPrefix(false);

      if (config.tileUrl) {
        var loaded = 0;
        var layer = window.L.tileLayer(config.tileUrl, {
          maxZoom: 19,
          attribution: config.tileAttribution || ""
        });
        var failed = function () {
          if (loaded > 0) return;
          showTileNote(true);
          addGrid();
        };
        layer.on("tileload", function () {
          loaded += 1;
          showTileNote(false);
          removeGrid();
        });
        layer.on("tileerror", failed);
        layer.addTo(map);
        window.setTimeout(failed, TILE_TIMEOUT_MS);
      } else {
        addGrid();
        showTileNote(true);
      }

      map.on("click", function (event) {
        setLocation(event.latlng.lat, event.latlng.lng, { how: "map" });
      });

      if (centreButton) {
        centreButton.addEventListener("click", function () {
          var centre = map.getCenter();
          setLocation(centre.lat, centre.lng, { how: "centre" });
        });
      }

      var point = current();
      if (point) {
        placeMarker(point.lat, point.lon);
        map.setView([point.lat, point.lon], LOCATED_ZOOM);
      }
    }

    startMap();
    if (!current()) setStatus("No location chosen yet.", false);

    return {
      get: current,
      settled: settled,
      set: setLocation,
      clear: clearLocation,
      /** Show a saved point without moving focus (used when an edit form opens). */
      show: function (point) {
        if (point && isFinite(point.lat) && isFinite(point.lon)) {
          setLocation(point.lat, point.lon, { how: "saved" });
          if (map) map.setView([point.lat, point.lon], LOCATED_ZOOM);
        } else {
          clearLocation();
          if (map) map.setView(initialView.center, initialView.zoom);
        }
      },
      /** Call after the picker's container stops being hidden. */
      refresh: function () {
        if (!map) return;
        map.invalidateSize();
        var point = current();
        if (point) map.setView([point.lat, point.lon], map.getZoom() < LOCATED_ZOOM ? LOCATED_ZOOM : map.getZoom());
      },
      hasMap: function () {
        return !!map;
      }
    };
  }

  Sightline.map = { createPicker: createPicker };
})();
