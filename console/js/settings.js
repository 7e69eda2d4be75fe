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
  mapCenter: [52.4862, -1.8904],
  mapZoom: 14,
  categories: [],
  maxRegistrationsPerRequest: 100,
};

const given = window.SIGHTLINE_CONFIG || {};
export const settings = { ...defaults };
for (const key of Object.keys(defaults)) {
  if (given[key] !== undefined && given[key] !== null) settings[key] = given[key];
}
settings.apiUrl = String(settings.apiUrl).replace(/\/+$/, "");
