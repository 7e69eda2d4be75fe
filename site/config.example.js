/* Sightline site settings for local use.
 *
 * The real config.js is not committed: the local runner serves it and deployment writes it.
 * It must define window.SIGHTLINE_CONFIG with these keys. Leave tileUrl empty ("") to run
 * without a map background (no tiles are fetched); the location picker still works.
 */
window.SIGHTLINE_CONFIG = {
  apiUrl: "http://127.0.0.1:8000",
  tileUrl: "",
  tileAttribution: "",
  forceName: "Example Police",
  mapCenter: [52.4862, -1.8904],
  mapZoom: 13
};
