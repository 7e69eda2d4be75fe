// The officers' console: sign in, search, ask, cases and their evidence, the audit log. Plain ES modules, no framework; everything the
// API returns is shown with textContent.
import { settings } from "./settings.js";
import { Session, explain, otpauthUri } from "./cognito.js";
import { makeApi } from "./api.js";
import { SearchView, isoToLocalInput } from "./search.js";
import { CasesView, formatSize } from "./cases.js";
import { CustodyView } from "./custody.js";
import { ExportsView } from "./exports.js";
import { AuditView } from "./audit.js";
import { askOwners, askProblems, preview, readAskForm } from "./ask.js";
import qrcode from "../vendor/qrcode/qrcode.mjs";

const $ = (selector) => document.querySelector(selector);
const session = new Session();
const api = makeApi(session, () => signedOut("Your sign-in has ended. Sign in again."));
let lastActivity = Date.now();

for (const node of document.querySelectorAll("[data-force-name]")) node.textContent = settings.forceName;

// ------------------------------------------------------------------ views

function showView(id) {
  for (const view of document.querySelectorAll("main section[id^=view-]")) view.hidden = view.id !== id;
  for (const button of document.querySelectorAll("[data-show]")) {
    if (button.dataset.show === id) button.setAttribute("aria-current", "page");
    else button.removeAttribute("aria-current");
  }
  for (const node of document.querySelectorAll("[data-signed-in]")) node.hidden = !session.signedIn;
  // Auditors read the audit log and nothing else; supervisors do both.
  const reads = session.groups.includes("supervisor") || session.groups.includes("auditor");
  const investigates = session.groups.includes("officer") || session.groups.includes("supervisor");
  for (const node of document.querySelectorAll("[data-readers]")) node.hidden = !reads;
  for (const node of document.querySelectorAll('[data-show="view-search"], [data-show="view-cases"]')) node.hidden = !investigates;
  const heading = $(`#${id} h1`);
  if (heading) heading.focus();
}

function notice(text) {
  const box = $("#notice");
  box.textContent = text;
  box.hidden = !text;
}

function showError(boxId, text, focusSelector) {
  const box = $(boxId);
  const intro = box.querySelector("[data-summary-intro]");
  intro.textContent = text;
  intro.hidden = !text;
  box.hidden = !text;
  if (text) (focusSelector ? $(focusSelector) : box).focus();
}

// ------------------------------------------------------------------ signing in

function showStep(formId) {
  for (const form of document.querySelectorAll("#view-sign-in [data-step]")) form.hidden = form.id !== formId;
  const first = $(`#${formId} input`);
  if (first) first.focus();
}

function startAgain(message) {
  session.forget();
  $("#password").value = "";
  showView("view-sign-in");
  showStep("password-form");
  showError("#sign-in-error", message || "");
}

async function step(action) {
  const button = document.activeElement;
  try {
    const next = await action();
    showError("#sign-in-error", "");
    if (next.signedIn) return signedIn();
    if (next.challenge === "NEW_PASSWORD_REQUIRED") return showStep("new-password-form");
    if (next.challenge === "MFA_SETUP") {
      const qr = qrcode(0, "M");
      qr.addData(otpauthUri(next.secret, session.username));
      qr.make();
      $("#enrol-qr").src = qr.createDataURL(4, 8);
      $("#enrol-secret").textContent = next.secret.replace(/(.{4})/g, "$1 ").trim();
      return showStep("enrol-form");
    }
    return showStep("code-form");
  } catch (error) {
    // A refused password or an expired sign-in session starts again from the password.
    if (error.code === "NotAuthorizedException") return startAgain(explain(error));
    const input = button && button.form ? button.form.querySelector("input") : null;
    if (input && input.type !== "password") input.value = "";
    showError("#sign-in-error", explain(error));
  }
}

$("#password-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const username = $("#username").value.trim();
  const password = $("#password").value;
  if (!username || !password) return showError("#sign-in-error", "Enter your email address or username and your password.");
  step(() => session.start(username, password));
});
$("#new-password-form").addEventListener("submit", (event) => {
  event.preventDefault();
  step(() => session.answer($("#new-password").value));
});
for (const [formId, inputId] of [["#enrol-form", "#enrol-code"], ["#code-form", "#code"]]) {
  $(formId).addEventListener("submit", (event) => {
    event.preventDefault();
    const code = $(inputId).value.replace(/\s/g, "");
    if (!/^\d{6}$/.test(code)) return showError("#sign-in-error", "Enter the six digits your app shows.");
    step(() => session.answer(code));
  });
}
$("[data-restart]").addEventListener("click", () => startAgain(""));

function signedIn() {
  $("#password").value = "";
  for (const input of document.querySelectorAll("#view-sign-in input")) if (input.id !== "username") input.value = "";
  $("[data-who]").textContent = `Signed in as ${session.username}`;
  lastActivity = Date.now();
  notice("");
  if (!session.groups.includes("officer") && !session.groups.includes("supervisor")) return showView("view-audit");
  showView("view-search");
  search.showMap();
}

function signedOut(message) {
  session.forget();
  startAgain("");
  notice(message);
}

$("#sign-out").addEventListener("click", async () => {
  await session.signOut();
  startAgain("");
  notice("You have signed out.");
});

// Idle: signed out after settings.idleMinutes without a key press, click or touch.
for (const type of ["keydown", "pointerdown", "wheel"]) {
  document.addEventListener(type, () => (lastActivity = Date.now()), { passive: true, capture: true });
}
setInterval(() => {
  if (session.signedIn && Date.now() - lastActivity > settings.idleMinutes * 60000) {
    session.signOut();
    startAgain("");
    notice(`You were signed out after ${settings.idleMinutes} minutes without activity.`);
  }
}, 5000);

// ------------------------------------------------------------------ searching

const search = new SearchView($("#view-search"), { onSelectionChange: selectionChanged });

$("#search-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const { body, problems } = search.request();
  if (problems) return showError("#search-error", problems.map((p) => p[1]).join(" "), problems[0][0]);
  showError("#search-error", "");
  $("#results-summary").textContent = "Searching…";
  $("#results").hidden = false;
  $("#ask-result").hidden = true;
  try {
    const { body: answer } = await api("POST", "/officer/searches", body);
    search.lastRequest = body;
    search.show(answer);
    if (body.incident_time) {
      const at = Date.parse(body.incident_time);
      $("#ask-from").value = isoToLocalInput(new Date(at - 30 * 60000).toISOString());
      $("#ask-to").value = isoToLocalInput(new Date(Math.min(Date.now(), at + 30 * 60000)).toISOString());
    }
    $("#ask-reason").value ||= body.reason;
    $("#results-heading").focus();
  } catch (error) {
    $("#results").hidden = true;
    showError("#search-error", fieldMessage(error));
  }
});

function fieldMessage(error) {
  const fields = Object.entries(error.fields || {}).map(([name, text]) => `${name}: ${text}`);
  return [error.message, ...fields].join(" ");
}

function selectionChanged() {
  const count = search.selected.size;
  $("#ask-form").hidden = count === 0;
  $("#to-ask").hidden = count === 0;
  $("#ask-count").textContent = `${count} owner${count === 1 ? "" : "s"} selected.`;
  updatePreview();
}

// ------------------------------------------------------------------ my cases

const custody = new CustodyView($("#view-custody"), { api, showView, showError: (text) => showError("#custody-error", text) });
const exports = new ExportsView($("#case-exports"), { api, formatSize, showError: (text, focus) => showError("#exports-error", text, focus) });
const cases = new CasesView($("#view-cases"), { api, session, custody, exports, showError: (text) => showError("#cases-error", text) });
for (const button of document.querySelectorAll("[data-show]")) {
  button.addEventListener("click", () => {
    notice("");
    exports.stop();
    showView(button.dataset.show);
    if (button.dataset.show === "view-search") search.showMap();
    if (button.dataset.show === "view-cases") {
      showError("#cases-error", "");
      cases.load();
    }
  });
}

new AuditView($("#view-audit"), { api, session, showError: (text, focus) => showError("#audit-error", text, focus) });

// ------------------------------------------------------------------ asking

function updatePreview() {
  const fields = readAskForm($("#ask-form"));
  $("#ask-preview").textContent = preview({ ...fields, caseRef: search.lastRequest && search.lastRequest.case_ref });
}
$("#ask-form").addEventListener("input", updatePreview);
// Past hundreds of results, the form is far down the tab order: this jumps there.
$("#to-ask").addEventListener("click", () => {
  $("#ask-heading").focus();
  $("#ask-heading").scrollIntoView();
});

$("#ask-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const fields = readAskForm($("#ask-form"));
  const problems = askProblems(fields);
  if (problems.length) return showError("#search-error", problems.map((p) => p[1]).join(" "), problems[0][0]);
  showError("#search-error", "");
  const ids = search.selectedIds();
  const byId = new Map(search.results.map((item) => [item.registration_id, item]));
  try {
    const { asked, refused } = await askOwners(api, {
      caseRef: search.lastRequest.case_ref, point: { lat: search.lastRequest.lat, lon: search.lastRequest.lon }, ids, fields,
    });
    $("#ask-result-summary").textContent =
      `${asked.length} owner${asked.length === 1 ? " was" : "s were"} asked for footage.` +
      (refused.length ? ` ${refused.length} could not be asked:` : "");
    $("#ask-refusals").replaceChildren(
      ...refused.map((refusal) => {
        const li = document.createElement("li");
        const item = byId.get(refusal.registration_id);
        const who = item ? item.business_name || item.name || refusal.registration_id : refusal.registration_id;
        li.textContent = `${who}: ${refusal.message}`;
        return li;
      }),
    );
    $("#ask-result").hidden = false;
    $("#ask-result-heading").focus();
  } catch (error) {
    showError("#search-error", fieldMessage(error));
  }
});

// ------------------------------------------------------------------ start

if (!settings.cognitoEndpoint || !settings.userPoolClientId) {
  notice("This console is not configured: config.js names no sign-in service.");
}
startAgain("");
