// Searching: the incident point (map click or drag, or typed coordinates), the radius drawn as
// a circle, the filters; results clustered on the map, each camera's direction drawn where
// known, and listed nearest first with a checkbox each (the list is the map's equivalent).
import { settings } from "./settings.js";

const DIRECTION_LINE_M = 40;
const L = window.L;

/** "2026-11-20 22:15" (local time, as typed) to UTC ISO 8601; "" when blank or not a time. */
export function localInputToIso(value) {
  const match = /^(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{2})$/.exec((value || "").trim());
  if (!match) return "";
  const [, y, m, d, hh, mm] = match.map(Number);
  const date = new Date(y, m - 1, d, hh, mm);
  if (isNaN(date) || date.getMonth() !== m - 1 || hh > 23) return "";
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function isoToLocalInput(iso) {
  const date = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export function formatWhen(iso) {
  return new Date(iso).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" });
}

function offset(lat, lon, bearingDeg, metres) {
  const r = (bearingDeg * Math.PI) / 180;
  const dLat = (metres * Math.cos(r)) / 111320;
  const dLon = (metres * Math.sin(r)) / (111320 * Math.cos((lat * Math.PI) / 180));
  return [lat + dLat, lon + dLon];
}

export class SearchView {
  constructor(root, { onSelectionChange }) {
    this.root = root;
    this.onSelectionChange = onSelectionChange;
    this.results = [];
    this.selected = new Set();
    this.map = null;
    this.lat = root.querySelector("#lat");
    this.lon = root.querySelector("#lon");
    this.radius = root.querySelector("#radius");
    this.list = root.querySelector("#result-list");
    this.selectAll = root.querySelector("#select-all");
    const category = root.querySelector("#category");
    for (const name of settings.categories) category.append(new Option(name, name));
    this.#setUpPlaceSearch();
    this.lat.addEventListener("change", () => this.#drawPoint());
    this.lon.addEventListener("change", () => this.#drawPoint());
    this.radius.addEventListener("input", () => this.#drawPoint());
    this.selectAll.addEventListener("change", () => {
      for (const box of this.list.querySelectorAll("input[type=checkbox]")) {
        box.checked = this.selectAll.checked;
        this.#select(box.value, box.checked);
      }
      this.onSelectionChange();
    });
  }

  /** The address field, shown only when the deployment names a geocoder. */
  #setUpPlaceSearch() {
    this.placeQuery = this.root.querySelector("#place-query");
    this.placeStatus = this.root.querySelector("#place-status");
    this.placeMatches = this.root.querySelector("#place-matches");
    this.root.querySelector("#place-search").hidden = !settings.geocoderUrl;
    if (!settings.geocoderUrl) return;
    this.root.querySelector("#place-find").addEventListener("click", () => this.#findPlace());
    this.placeQuery.addEventListener("keydown", (event) => {
      if (event.key !== "Enter") return;
      event.preventDefault(); // Enter here finds the place; it does not run the search
      this.#findPlace();
    });
  }

  async #findPlace() {
    const query = this.placeQuery.value.trim();
    this.placeMatches.replaceChildren();
    if (query.length < 3) {
      this.placeStatus.textContent = "Type at least 3 characters of the address or place.";
      return;
    }
    this.placeStatus.textContent = "Looking for the place…";
    let found;
    try {
      const url = settings.geocoderUrl.replace("{query}", encodeURIComponent(query));
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "omit", referrerPolicy: "no-referrer" });
      if (!response.ok) throw new Error(`geocoder answered ${response.status}`);
      found = await response.json();
    } catch {
      this.placeStatus.textContent = "The address search is not available now: place the pin on the map or type the coordinates.";
      return;
    }
    const matches = (Array.isArray(found) ? found : [])
      .map((match) => ({ lat: Number(match.lat), lon: Number(match.lon), name: String(match.display_name || match.name || "") }))
      .filter((match) => Number.isFinite(match.lat) && Number.isFinite(match.lon) && Math.abs(match.lat) <= 90 && Math.abs(match.lon) <= 180)
      .slice(0, 5);
    if (!matches.length) {
      this.placeStatus.textContent = "No place matches that. Try the street and the town, or place the pin on the map.";
      return;
    }
    this.placeStatus.textContent = `${matches.length} ${matches.length === 1 ? "match" : "matches"}: choose one to place the pin.`;
    this.placeMatches.replaceChildren(
      ...matches.map((match) => {
        const item = document.createElement("li");
        const choose = document.createElement("button");
        choose.type = "button";
        choose.className = "button button--secondary";
        choose.textContent = match.name || `${match.lat.toFixed(5)}, ${match.lon.toFixed(5)}`;
        choose.addEventListener("click", () => {
          this.setPoint(match.lat, match.lon);
          if (this.map) this.map.setView([match.lat, match.lon], Math.max(this.map.getZoom(), 16));
          this.placeMatches.replaceChildren();
          this.placeStatus.textContent = `Placed at ${choose.textContent}.`;
          this.lat.focus();
        });
        item.append(choose);
        return item;
      }),
    );
  }

  /** Leaflet needs a visible container: called when the view is first shown. */
  showMap() {
    if (this.map || !L) return;
    // The list is the keyboard and screen reader route to every result; markers stay out of the tab order.
    L.Marker.prototype.options.keyboard = false;
    this.map = L.map(this.root.querySelector("#map"), { keyboard: true, maxZoom: 19, minZoom: 3 }).setView(settings.mapCenter, settings.mapZoom);
    if (settings.tileUrl) {
      L.tileLayer(settings.tileUrl, { attribution: settings.tileAttribution, maxZoom: 19 }).addTo(this.map);
    } else {
      this.root.querySelector("#tile-note").hidden = false;
    }
    this.cluster = L.markerClusterGroup({ disableClusteringAtZoom: 18, chunkedLoading: true }).addTo(this.map);
    this.directions = L.layerGroup().addTo(this.map);
    this.map.on("click", (event) => this.setPoint(event.latlng.lat, event.latlng.lng));
  }

  setPoint(lat, lon) {
    this.lat.value = lat.toFixed(6);
    this.lon.value = lon.toFixed(6);
    this.#drawPoint();
  }

  point() {
    const lat = Number(this.lat.value);
    const lon = Number(this.lon.value);
    if (this.lat.value.trim() === "" || this.lon.value.trim() === "" || !isFinite(lat) || !isFinite(lon)) return null;
    if (Math.abs(lat) > 90 || Math.abs(lon) > 180) return null;
    return { lat, lon };
  }

  #drawPoint() {
    const point = this.point();
    if (!this.map || !point) return;
    const radius = Math.min(5000, Math.max(10, Number(this.radius.value) || 10));
    if (!this.pin) {
      this.pin = L.marker([point.lat, point.lon], { draggable: true, alt: "Incident point" }).addTo(this.map);
      this.pin.on("dragend", () => {
        const at = this.pin.getLatLng();
        this.setPoint(at.lat, at.lng);
      });
      this.circle = L.circle([point.lat, point.lon], { radius, interactive: false, weight: 2 }).addTo(this.map);
    } else {
      this.pin.setLatLng([point.lat, point.lon]);
      this.circle.setLatLng([point.lat, point.lon]).setRadius(radius);
    }
  }

  /** The search's request body from the form, or {problem} naming what to correct. */
  request() {
    const point = this.point();
    const value = (id) => this.root.querySelector(id).value.trim();
    const radius = Number(this.radius.value);
    const problems = [];
    if (!point) problems.push(["#lat", "Place the incident on the map, or type its latitude and longitude."]);
    if (!(radius >= 10 && radius <= 5000)) problems.push(["#radius", "The radius must be from 10 to 5,000 metres."]);
    if (!value("#case-ref")) problems.push(["#case-ref", "Give the case reference."]);
    if (value("#reason").length < 3) problems.push(["#reason", "Give the reason for searching (at least 3 characters)."]);
    const incidentTime = localInputToIso(value("#incident-time"));
    if (value("#incident-time") && !incidentTime) problems.push(["#incident-time", "Write the incident time as year-month-day hours:minutes, for example 2026-11-20 22:15."]);
    const held = this.root.querySelector("#filter-held").checked;
    if (held && !incidentTime) problems.push(["#incident-time", "Give the incident time to show only footage still held."]);
    if (problems.length) return { problems };
    const filters = {};
    if (this.root.querySelector("#filter-towards").checked) filters.towards = true;
    if (held) filters.held_at_incident = true;
    if (value("#filter-premises")) filters.premises = value("#filter-premises");
    const body = {
      lat: point.lat, lon: point.lon, radius_m: radius, case_ref: value("#case-ref"), reason: value("#reason"),
      limit: settings.maxResults,
    };
    if (value("#category")) body.category = value("#category");
    if (incidentTime) body.incident_time = incidentTime;
    if (Object.keys(filters).length) body.filters = filters;
    return { body };
  }

  show(answer) {
    this.answer = answer;
    this.results = answer.registrations;
    this.selected.clear();
    this.selectAll.checked = false;
    this.list.replaceChildren(...this.results.map((item) => this.#item(item)));
    this.#drawResults();
    const shown = this.results.length;
    const summary = this.root.querySelector("#results-summary");
    summary.textContent =
      shown === 0
        ? "No registered cameras match within this radius."
        : `${shown} registration${shown === 1 ? "" : "s"} shown, nearest first` +
          (answer.truncated ? ` (of ${answer.total}${answer.total_exact === false ? " or fewer" : ""}: make the radius smaller or filter to see the rest).` : ".");
    this.root.querySelector("#results").hidden = false;
    this.onSelectionChange();
  }

  #select(id, on) {
    if (on) this.selected.add(id);
    else this.selected.delete(id);
  }

  #item(item) {
    const li = document.createElement("li");
    li.className = "result" + (item.most_urgent ? " result--urgent" : "");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.id = `select-${item.registration_id}`;
    box.value = item.registration_id;
    box.addEventListener("change", () => {
      this.#select(box.value, box.checked);
      this.selectAll.checked = this.selected.size === this.results.length;
      this.onSelectionChange();
    });
    const label = document.createElement("label");
    label.htmlFor = box.id;
    const who = item.business_name || item.name || "Registered camera owner";
    const address = item.address ? [item.address.line1, item.address.postcode].filter(Boolean).join(", ") : "";
    label.textContent = `${Math.round(item.distance_m)} m: ${who}${address ? ", " + address : ""}`;
    const head = document.createElement("div");
    head.className = "checkbox";
    head.append(box, label);
    const facts = [];
    const cameras = item.camera_count ?? (item.cameras || []).length;
    facts.push(`${cameras} camera${cameras === 1 ? "" : "s"}`);
    if (item.towards === true) facts.push("pointing towards the point");
    else if (item.towards === null && (item.cameras || []).length) facts.push("direction unknown");
    else if (item.towards === false) facts.push("not pointing towards the point");
    facts.push(item.business ? "business" : "home");
    if (item.retention_days != null) facts.push(`keeps footage ${item.retention_days} days`);
    else facts.push("retention not given");
    if (item.footage_overwritten_at) {
      facts.push(`${item.footage_held === false ? "footage overwritten" : "overwritten"} ${formatWhen(item.footage_overwritten_at)}`);
    }
    const details = document.createElement("p");
    details.className = "result__facts";
    details.textContent = facts.join(" · ");
    if (item.most_urgent) {
      const tag = document.createElement("strong");
      tag.className = "tag tag--urgent";
      tag.textContent = "Most urgent";
      li.append(head, tag, details);
    } else {
      li.append(head, details);
    }
    return li;
  }

  #drawResults() {
    if (!this.map) return;
    this.cluster.clearLayers();
    this.directions.clearLayers();
    const markers = [];
    for (const item of this.results) {
      const at = [item.location.lat, item.location.lon];
      markers.push(
        L.marker(at, {
          icon: L.divIcon({ className: item.most_urgent ? "camera-dot camera-dot--urgent" : "camera-dot", iconSize: [14, 14] }),
          title: "",
        }).bindTooltip(`${Math.round(item.distance_m)} m`),
      );
      for (const camera of item.cameras || []) {
        if (camera.direction_deg == null) continue;
        const from = camera.location ? [camera.location.lat, camera.location.lon] : at;
        L.polyline([from, offset(from[0], from[1], camera.direction_deg, DIRECTION_LINE_M)], {
          weight: 2,
          color: camera.towards ? "#00703c" : "#505a5f",
          interactive: false,
        }).addTo(this.directions);
      }
    }
    this.cluster.addLayers(markers);
    const circle = this.answer.circle;
    if (circle) this.map.fitBounds(L.latLng(circle.lat, circle.lon).toBounds(circle.radius_m * 2.2));
  }

  selectedIds() {
    return [...this.selected];
  }
}
