/* Sightline site settings for local use.
 *
 * The real config.js is not committed: the local runner serves it and deployment writes it.
 * It must define window.SIGHTLINE_CONFIG with these keys. apiUrl is "/api": the API on the
 * site's own origin (CloudFront routes it; the local server proxies it to chalice local).
 * Leave tileUrl empty ("") to run without a map background (no tiles are fetched); the
 * location picker still works.
 */
window.SIGHTLINE_CONFIG = {
  apiUrl: "/api",
  tileUrl: "",
  tileAttribution: "",
  forceName: "Example Police",
  mapCenter: [52.4862, -1.8904],
  mapZoom: 13
};
