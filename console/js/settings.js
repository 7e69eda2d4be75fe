// The deployment's settings (config.js, written by the local stack or the publisher), with
// defaults. idleMinutes: signed out after this long without a key press or click.
const defaults = {
  apiUrl: "/api",
  cognitoEndpoint: "",
  userPoolClientId: "",
  idleMinutes: 15,
  tileUrl: "",
  tileAttribution: "",
  forceName: "your police force",
  // The force's time zone: custody events, exports and clock checks are shown in its local time.
  timeZone: "Europe/London",
  mapCenter: [52.4862, -1.8904],
  mapZoom: 14,
  categories: [],
  maxRegistrationsPerRequest: 100,
  // A search asks for at most this many registrations, nearest first (the API's maximum): a
  // 5 km search in a city holds thousands, and the map clusters them.
  maxResults: 2000,
  // A geocoder the force chooses: a URL with {query}, answering a JSON list of
  // {lat, lon, display_name} (Nominatim's form). Empty: no address field.
  geocoderUrl: "",
};

const given = window.SIGHTLINE_CONFIG || {};
export const settings = { ...defaults };
for (const key of Object.keys(defaults)) {
  if (given[key] !== undefined && given[key] !== null) settings[key] = given[key];
}
settings.apiUrl = String(settings.apiUrl).replace(/\/+$/, "");
