// A footage request as evidence for court: the owner's statement (who runs the system, the
// recorder, the cameras, how the files were made, gaps or edits, the clock check, the witness
// statement and the declaration), whether it is unused material, and each exhibit's facts.
import { settings } from "./settings.js";
import { el, button, facts } from "./elements.js";

const OPERATORS = { me: "The owner", my_business: "The owner's business", managing_agent: "A managing agent" };
const WITNESS = { yes: "Willing to make a witness statement", no: "Not willing to make a witness statement", unsure: "Not sure yet" };
const SCANS = { clean: "Clean", infected: "Threat found", threats_found: "Threat found", failed: "The scan failed", unsupported: "Could not be scanned" };
const UNUSED_STATUSES = new Set(["declined", "expired"]);

/** A time in the force's own time zone, named: "2 Dec 2026, 18:05:12 GMT". */
export function forceTime(iso, { seconds = true } = {}) {
  if (!iso) return "";
  return new Intl.DateTimeFormat("en-GB", {
    day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit",
    ...(seconds ? { second: "2-digit" } : {}), timeZone: settings.timeZone, timeZoneName: "short",
  }).format(new Date(iso));
}

export function forceDate(iso) {
  if (!iso) return "";
  return new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "long", year: "numeric", timeZone: settings.timeZone }).format(new Date(iso));
}

function duration(totalSeconds) {
  const s = Math.round(Math.abs(totalSeconds));
  if (s < 60) return `${s} s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  return [h ? `${h} h` : "", m ? `${m} min` : "", rest ? `${rest} s` : ""].filter(Boolean).join(" ");
}

/** "Recorder clock 18 seconds fast (checked 2 Dec 2026 18:05 GMT, ±1 s)", or "Owner could not check: <reason>". */
export function clockWords(clock) {
  if (!clock) return "Not given";
  if (!clock.checked) return `Owner could not check: ${clock.reason || "no reason given"}`;
  const offset = Number(clock.offset_seconds);
  const when = clock.observed_at ? forceTime(clock.observed_at, { seconds: false }).replace(",", "") : "";
  const plusMinus = clock.uncertainty_ms !== undefined && clock.uncertainty_ms !== null ? `±${Math.max(1, Math.ceil(clock.uncertainty_ms / 1000))} s` : "";
  const how = [when && `checked ${when}`, plusMinus].filter(Boolean).join(", ");
  // The API's own words when it gives them, so the console, the owner's page and receipt agree.
  const by = clock.offset_words
    || (!Number.isFinite(offset) ? "offset not known" : Math.round(offset) === 0 ? "right to the second" : `${duration(offset)} ${offset > 0 ? "fast" : "slow"}`);
  return `Recorder clock ${by}${how ? ` (${how})` : ""}`;
}

export function isUnused(request) {
  return request.unused_material ?? UNUSED_STATUSES.has(request.status);
}

/** "Unused material" and why, or null for a request that produced evidence or is still open. */
export function unusedMaterial(request) {
  if (!isUnused(request)) return null;
  const why = request.status === "expired"
    ? "The request expired without a reply."
    : request.owner_deleted && !request.decline_reason
      ? "The owner has since deleted their registration, and their words with it."
      : request.decline_reason
      ? `The owner's reason: ${request.decline_reason}`
      : request.status === "declined" ? "The owner had nothing to share and gave no reason." : "";
  return el("div", { className: "unused" }, el("strong", { className: "tag tag--unused", text: "Unused material" }), why ? el("span", { text: ` ${why}` }) : null);
}

export function statementSection(statement, headingLevel = "h4") {
  if (!statement) {
    return el("section", { className: "statement" }, el(headingLevel, { text: "Owner's statement" }), el("p", { text: "The owner has not made a statement." }));
  }
  const cameras = [
    (statement.cameras || []).length ? `Camera${statement.cameras.length === 1 ? "" : "s"} ${statement.cameras.join(", ")}` : "",
    statement.cameras_note || "",
  ].filter(Boolean).join("; ");
  const runs = OPERATORS[statement.operator] || statement.operator;
  const source = statement.source === "re_recording"
    ? `A re-recording${statement.source_note ? `: ${statement.source_note}` : ""}`
    : "The recorder's own export";
  const declaration = statement.declaration
    ? [statement.declaration_text ? `“${statement.declaration_text}”` : "Declared true", statement.saved_at ? `made ${forceTime(statement.saved_at, { seconds: false })}` : ""].filter(Boolean).join(", ")
    : "Not made";
  return el(
    "section",
    { className: "statement" },
    el(headingLevel, { text: "Owner's statement" }),
    facts([
      ["Made by", statement.name],
      ["Who runs the system", statement.operator === "me" || !statement.operator_name ? runs : `${runs}: ${statement.operator_name}`],
      ["Recorder or app", statement.system],
      ["Cameras", cameras],
      ["The files are", source],
      ["Gaps or edits", statement.gaps_or_edits ? `Yes: ${statement.gaps_note || "no details given"}` : "None, the owner says"],
      ["Recorder clock", clockWords(statement.clock)],
      ["How it was checked", statement.clock && statement.clock.checked ? statement.clock.method || "" : ""],
      ["Witness statement", WITNESS[statement.witness_statement] || statement.witness_statement],
      ["Declaration", declaration],
    ]),
  );
}

function hashCheckWords(check) {
  if (check === "matched") return "Owner's fingerprint matches";
  if (check === "mismatch") return "Owner's fingerprint does not match";
  return "The owner's browser sent no fingerprint";
}

function scanWords(result) {
  if (!result) return "No verdict recorded yet";
  return SCANS[result] || result.replace(/_/g, " ");
}

/** The SHA-256, wrap-able, with a button that copies it and says so. */
function sha256Line(item, name) {
  const status = el("span", { className: "copy-status", role: "status" });
  const code = el("code", { className: "sha256", text: item.sha256 || "" });
  const copy = button(`Copy the SHA-256 of ${name}`, async () => {
    try {
      await navigator.clipboard.writeText(item.sha256);
      status.textContent = "Copied.";
    } catch {
      const range = document.createRange();
      range.selectNodeContents(code);
      getSelection().removeAllRanges();
      getSelection().addRange(range);
      status.textContent = "Selected: press Ctrl+C (or Cmd+C) to copy.";
    }
  }, "button button--secondary button--small no-print");
  return el("div", { className: "sha256-line" }, code, " ", copy, status);
}

/** One exhibit: its reference, size, SHA-256 and checks, then its actions (custody, download). */
export function exhibitCard(item, { formatSize, headingLevel = "h4", actions = [] }) {
  const name = item.exhibit_ref ? `exhibit ${item.exhibit_ref}` : item.filename;
  return el(
    "li",
    { className: "exhibit" },
    el(headingLevel, { className: "exhibit__ref" }, el("span", { className: "exhibit__label", text: "Exhibit " }), item.exhibit_ref || "(no reference yet)"),
    facts([
      ["File", item.filename],
      ["Size", formatSize(item.size)],
      ["SHA-256", sha256Line(item, name)],
      ["Owner's check", el("span", { className: item.hash_check === "mismatch" ? "check check--bad" : "check", text: hashCheckWords(item.hash_check) })],
      // The API reads the scan's verdict when a file is first downloaded or exported (none before).
      ["Malware scan", "scan_result" in item ? scanWords(item.scan_result) : ""],
      ["Received", forceTime(item.uploaded_at)],
    ]),
    el("div", { className: "exhibit__actions" }, ...actions),
  );
}
