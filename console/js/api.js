// The API on the console's own origin (/api), with the officer's access token.
import { settings } from "./settings.js";

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || (body && body.message) || `The API answered ${status}.`);
    this.status = status;
    this.code = error.code || "";
    this.fields = error.fields || {};
    this.body = body;
  }
}

export function makeApi(session, onUnauthorised) {
  return async function api(method, path, body) {
    let response;
    try {
      response = await fetch(settings.apiUrl + path, {
        method,
        headers: {
          Authorization: `Bearer ${session.accessToken}`,
          ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: "no-store",
      });
    } catch {
      throw new ApiError(0, { error: { message: "Sightline could not be reached. Check your connection and try again." } });
    }
    const answer = await response.json().catch(() => null);
    if (response.status === 401) onUnauthorised();
    if (!response.ok && !(response.status === 409 && answer && Array.isArray(answer.refused))) {
      throw new ApiError(response.status, answer);
    }
    return { status: response.status, body: answer };
  };
}
