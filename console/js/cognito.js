// Signing in through the Cognito user pool's JSON API, from the page (docs/officer-sign-in.md;
// local/officer_sign_in.py is the tested reference of the same calls). Tokens live in this
// module's memory only: never in storage or the URL, gone when the tab is closed or reloaded.
import { settings } from "./settings.js";

const REFRESH_MARGIN_S = 60;
// The API refuses access tokens issued more than 15 minutes ago, whatever ExpiresIn says (moto
// says 3600): renew before either.
const ACCESS_TOKEN_MAX_AGE_S = 15 * 60;

export class SignInRefused extends Error {
  constructor(code, message) {
    super(message || code);
    this.code = code;
  }
}

async function call(operation, body) {
  let response;
  try {
    response = await fetch(settings.cognitoEndpoint.replace(/\/?$/, "/"), {
      method: "POST",
      headers: {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": `AWSCognitoIdentityProviderService.${operation}`,
      },
      body: JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    });
  } catch {
    throw new SignInRefused("NetworkError", "");
  }
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new SignInRefused(String(answer.__type || response.status).split("#").pop(), answer.message || "");
  }
  return answer;
}

/** What to tell the officer about a refusal. */
export function explain(error) {
  switch (error.code) {
    case "NotAuthorizedException":
      return "Wrong email address or password, or the sign-in took too long. Start again.";
    case "CodeMismatchException":
    case "EnableSoftwareTokenMFAException":
      return "That code is not right. Wait for the next code and try again.";
    case "InvalidPasswordException":
      return "That password is not allowed: use at least 14 characters, with lower and upper case letters, a digit and a symbol.";
    case "ExpiredCodeException":
    case "PasswordResetRequiredException":
    case "LimitExceededException":
    case "TooManyRequestsException":
      return "Signing in is not possible right now. Try again later, or contact your supervisor.";
    case "NetworkError":
      return "Sightline could not reach the sign-in service. Check your connection and try again.";
    case "UnsupportedChallenge":
      return "This account cannot sign in here. Contact your supervisor.";
    default:
      return "Signing in did not work. Try again, or contact your supervisor.";
  }
}

export function otpauthUri(secret, username) {
  return `otpauth://totp/${encodeURIComponent(`Sightline:${username}`)}?secret=${secret}&issuer=Sightline`;
}

/**
 * One officer's sign-in. start() then answer() until it resolves to {signedIn: true}; each
 * step in between says which challenge to ask for ({challenge, secret?}).
 */
export class Session {
  #tokens = null;
  #pending = null; // {challenge, session, user}
  #refreshTimer = 0;
  username = "";
  groups = [];

  get signedIn() {
    return this.#tokens !== null;
  }

  get accessToken() {
    return this.#tokens ? this.#tokens.access : "";
  }

  async start(username, password) {
    this.username = username;
    const answer = await call("InitiateAuth", {
      ClientId: settings.userPoolClientId,
      AuthFlow: "USER_PASSWORD_AUTH",
      AuthParameters: { USERNAME: username, PASSWORD: password },
    });
    return this.#next(answer);
  }

  /** The officer's answer to the current challenge: a new password, or a six-digit code. */
  async answer(value) {
    const { challenge, session, user } = this.#pending;
    let responses;
    let current = session;
    if (challenge === "NEW_PASSWORD_REQUIRED") {
      responses = { USERNAME: user, NEW_PASSWORD: value };
    } else if (challenge === "MFA_SETUP") {
      const verified = await call("VerifySoftwareToken", { Session: session, UserCode: value, FriendlyDeviceName: "Sightline" });
      current = verified.Session;
      responses = { USERNAME: user };
    } else {
      responses = { USERNAME: user, SOFTWARE_TOKEN_MFA_CODE: value };
    }
    const answer = await call("RespondToAuthChallenge", {
      ClientId: settings.userPoolClientId,
      ChallengeName: challenge,
      Session: current,
      ChallengeResponses: responses,
    });
    return this.#next(answer);
  }

  async #next(answer) {
    if (answer.AuthenticationResult) {
      this.#pending = null;
      this.#keep(answer.AuthenticationResult);
      return { signedIn: true };
    }
    const parameters = answer.ChallengeParameters || {};
    const user = parameters.USER_ID_FOR_SRP || parameters.USERNAME || this.username;
    const challenge = answer.ChallengeName;
    this.#pending = { challenge, session: answer.Session, user };
    if (challenge === "MFA_SETUP") {
      const association = await call("AssociateSoftwareToken", { Session: answer.Session });
      this.#pending.session = association.Session;
      return { challenge, secret: association.SecretCode };
    }
    if (challenge === "NEW_PASSWORD_REQUIRED" || challenge === "SOFTWARE_TOKEN_MFA") return { challenge };
    this.#pending = null;
    throw new SignInRefused("UnsupportedChallenge", challenge);
  }

  #keep(result) {
    this.#tokens = {
      access: result.AccessToken,
      refresh: result.RefreshToken || (this.#tokens && this.#tokens.refresh),
    };
    this.groups = claims(result.AccessToken)["cognito:groups"] || [];
    const name = claims(result.AccessToken).username;
    if (name) this.username = name;
    clearTimeout(this.#refreshTimer);
    const lifetime = Math.min(Number(result.ExpiresIn) || ACCESS_TOKEN_MAX_AGE_S, ACCESS_TOKEN_MAX_AGE_S);
    const seconds = Math.max(30, lifetime - REFRESH_MARGIN_S);
    this.#refreshTimer = setTimeout(() => this.refresh().catch(() => this.forget()), seconds * 1000);
  }

  /** A new access token from the refresh token, without asking for a code. */
  async refresh() {
    if (!this.#tokens) return;
    const answer = await call("InitiateAuth", {
      ClientId: settings.userPoolClientId,
      AuthFlow: "REFRESH_TOKEN_AUTH",
      AuthParameters: { REFRESH_TOKEN: this.#tokens.refresh },
    });
    this.#keep(answer.AuthenticationResult);
  }

  /** GlobalSignOut ends every session of this officer; the tokens are forgotten whatever it says. */
  async signOut() {
    const token = this.accessToken;
    this.forget();
    if (token) await call("GlobalSignOut", { AccessToken: token }).catch(() => undefined);
  }

  forget() {
    clearTimeout(this.#refreshTimer);
    this.#tokens = null;
    this.#pending = null;
    this.groups = [];
  }
}

function claims(jwt) {
  try {
    const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part + "=".repeat((4 - (part.length % 4)) % 4)));
  } catch {
    return {};
  }
}
