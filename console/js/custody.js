// An exhibit's chain of custody: every event from the owner's upload on, in the force's local
// time, and whether the hash chain linking them is intact. Its own view, so it prints alone.
import { el } from "./elements.js";
import { forceTime } from "./evidence.js";

const ACTORS = { owner: "The owner", sightline: "Sightline", "malware-scan": "The malware scan" };
// Detail fields not worth a reader's time (ids the export or log already carry elsewhere).
const QUIET = new Set(["evidence_id", "request_id", "upload_id", "once"]);

function detailWords(detail) {
  return Object.entries(detail || {})
    .filter(([key, value]) => !QUIET.has(key) && value !== null && value !== "" && typeof value !== "object")
    .map(([key, value]) => `${key.replace(/_/g, " ")}: ${value}`)
    .join("; ");
}

export class CustodyView {
  constructor(root, { api, showView, showError }) {
    this.root = root;
    this.api = api;
    this.showView = showView;
    this.showError = showError;
    this.body = root.querySelector("#custody-body");
    root.querySelector("#custody-print").addEventListener("click", () => window.print());
    root.querySelector("#custody-back").addEventListener("click", () => this.back());
  }

  /** Show the exhibit's custody; `onBack` returns to where the officer came from. */
  async open(evidenceId, { exhibitRef, filename, onBack }) {
    this.onBack = onBack;
    this.filename = filename;
    this.showError("");
    this.body.replaceChildren(el("p", { text: "Reading the chain of custody…" }));
    this.root.querySelector("#custody-heading").textContent = `Chain of custody: ${exhibitRef ? `exhibit ${exhibitRef}` : filename}`;
    this.showView("view-custody");
    try {
      const { body } = await this.api("GET", `/officer/evidence/${encodeURIComponent(evidenceId)}/custody`);
      this.#render(body);
    } catch (error) {
      this.body.replaceChildren();
      this.showError(error.message);
    }
  }

  back() {
    if (this.onBack) this.onBack();
  }

  #render(view) {
    const chain = view.chain || {};
    const count = chain.events ?? (view.events || []).length;
    const status = chain.intact
      ? el("p", { className: "message chain-status", text: `Chain intact: ${count} event${count === 1 ? "" : "s"}.` })
      : el("div", { className: "message message--problem chain-status", role: "alert" },
        el("p", {}, el("strong", { text: "Warning: this chain of custody is broken." }), ` ${chain.problem || "An event is missing or has been changed."}`),
        el("p", { text: "Do not rely on this exhibit's continuity until it is explained; tell your supervisor." }));
    const rows = (view.events || []).map((event) =>
      el(
        "tr",
        {},
        el("td", { text: String(event.seq) }),
        el("td", { text: forceTime(event.at) }),
        el("td", { text: ACTORS[event.actor] || event.actor }),
        el("td", { text: event.description || event.event.replace(/_/g, " ") }),
        el("td", { text: detailWords(event.detail) }),
      ),
    );
    this.body.replaceChildren(
      el(
        "dl",
        { className: "summary-list" },
        ...[["Exhibit", view.exhibit_ref || "(no reference yet)"], ["File", this.filename], ["Case", view.case_ref],
          ["Size", view.size !== undefined ? `${Number(view.size).toLocaleString("en-GB")} bytes` : ""], ["SHA-256", view.sha256]]
          .filter(([, value]) => value)
          .map(([term, value]) => el("div", {}, el("dt", { text: term }), el("dd", {}, term === "SHA-256" ? el("code", { className: "sha256", text: value }) : value))),
      ),
      status,
      el(
        "div",
        { className: "table-scroll custody-table", tabindex: "0", role: "region", "aria-labelledby": "custody-caption" },
        el(
          "table",
          {},
          el("caption", { id: "custody-caption", text: `Custody events of ${view.exhibit_ref || "this exhibit"}, oldest first (times are the force's local time)` }),
          el("thead", {}, el("tr", {}, ...["No.", "When", "Who", "What", "Details"].map((h) => el("th", { scope: "col", text: h })))),
          el("tbody", {}, ...rows),
        ),
      ),
    );
  }
}
