// The audit log, for supervisors and auditors: filters (officer, case, registration, time
// range), pages newest first, and the CSV export of exactly the filtered rows.
import { settings } from "./settings.js";
import { formatWhen, localInputToIso } from "./search.js";

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

export class AuditView {
  constructor(root, { api, session, showError }) {
    this.root = root;
    this.api = api;
    this.session = session;
    this.showError = showError;
    this.rows = root.querySelector("#audit-rows");
    this.more = root.querySelector("#audit-more");
    this.status = root.querySelector("#audit-status");
    root.querySelector("#audit-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.search();
    });
    this.more.addEventListener("click", () => this.#page(this.next, true));
    root.querySelector("#audit-export").addEventListener("click", () => this.#export());
  }

  /** The filters as query parameters, or null after showing what to correct. */
  #filters() {
    const value = (id) => this.root.querySelector(id).value.trim();
    const params = new URLSearchParams();
    for (const [name, id] of [["officer", "#audit-officer"], ["case_ref", "#audit-case-ref"], ["registration_id", "#audit-registration"]]) {
      if (value(id)) params.set(name, value(id));
    }
    for (const [name, id] of [["from", "#audit-from"], ["to", "#audit-to"]]) {
      if (!value(id)) continue;
      const iso = localInputToIso(value(id));
      if (!iso) {
        this.showError("Write times as year-month-day hours:minutes, for example 2026-11-20 22:15.", id);
        return null;
      }
      params.set(name, iso);
    }
    return params;
  }

  async search() {
    const params = this.#filters();
    if (!params) return;
    this.showError("");
    this.params = params;
    await this.#page(null, false);
  }

  async #page(before, append) {
    const params = new URLSearchParams(this.params);
    if (before) params.set("before", before);
    this.status.textContent = "Reading the audit log…";
    try {
      const { body } = await this.api("GET", `/officer/audit?${params}`);
      const rows = body.entries.map((entry) => {
        const tr = document.createElement("tr");
        const shown = [
          [entry.registration_ids.length, "registration"],
          [entry.request_ids.length, "request"],
          [entry.evidence_ids.length, "file"],
        ]
          .filter(([count]) => count)
          .map(([count, what]) => `${count} ${what}${count === 1 ? "" : "s"}`)
          .join(", ");
        tr.append(
          cell(formatWhen(entry.at)),
          cell(entry.officer),
          cell(entry.action.replace(/_/g, " ")),
          cell(entry.case_ref),
          cell(entry.reason),
          cell(shown || "nothing personal"),
        );
        return tr;
      });
      if (append) this.rows.append(...rows);
      else this.rows.replaceChildren(...rows);
      this.next = body.next;
      this.more.hidden = !body.truncated;
      const count = this.rows.children.length;
      this.status.textContent = `${count} entr${count === 1 ? "y" : "ies"} shown, newest first${body.truncated ? "; there are older ones." : "."}`;
      this.root.querySelector("#audit-results").hidden = false;
    } catch (error) {
      this.status.textContent = "";
      this.showError([error.message, ...Object.entries(error.fields || {}).map(([k, v]) => `${k}: ${v}`)].join(" "));
    }
  }

  /** The CSV export: fetched with the officer's token, saved through a blob link. */
  async #export() {
    const params = this.#filters();
    if (!params) return;
    let response;
    try {
      response = await fetch(`${settings.apiUrl}/officer/audit/export?${params}`, {
        headers: { Authorization: `Bearer ${this.session.accessToken}` },
        cache: "no-store",
      });
    } catch {
      return this.showError("Sightline could not be reached. Check your connection and try again.");
    }
    if (!response.ok) {
      const body = await response.json().catch(() => null);
      const message = body && body.error ? body.error.message : `The export failed (${response.status}).`;
      return this.showError(response.status === 404 ? "This Sightline has no audit export yet." : message);
    }
    const disposition = response.headers.get("Content-Disposition") || "";
    const name = (/filename="([^"]+)"/.exec(disposition) || [])[1] || "sightline-audit.csv";
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement("a");
    link.href = url;
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    this.status.textContent = `Exported ${name}.`;
  }
}
