// A case's exports for the force's evidence system: ask for one (recipient and reason), watch it
// build (polled every 5 s while one is building and the case is on screen), and download a ready
// one through audited links, one by one or all in turn.
import { el, button, facts } from "./elements.js";
import { forceTime } from "./evidence.js";
import { clearFieldErrors, fieldMessage, showFieldErrors } from "./errors.js";

const POLL_MS = 5000;
// Between one download and the next, so the browser starts each (and asks once to allow many).
const DOWNLOAD_GAP_MS = 1200;
const STATUS_WORDS = { building: "Being built", ready: "Ready", failed: "Failed", expired: "Expired" };
const LABELS = { recipient: "Recipient", reason: "Reason" };

export class ExportsView {
  constructor(root, { api, showError, formatSize }) {
    this.root = root;
    this.api = api;
    this.showError = showError;
    this.formatSize = formatSize;
    this.form = root.querySelector("#export-form");
    this.list = root.querySelector("#export-list");
    this.status = root.querySelector("#exports-status");
    this.linksForm = root.querySelector("#export-links-form");
    this.files = root.querySelector("#export-files");
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#ask();
    });
    this.linksForm.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#links();
    });
    root.querySelector("#export-download-all").addEventListener("click", () => this.#downloadAll());
  }

  /** Show the exports of the case now on screen. */
  show(caseItem) {
    this.stop();
    this.caseItem = caseItem;
    this.form.reset();
    clearFieldErrors(this.form);
    this.linksForm.hidden = true;
    this.files.hidden = true;
    this.showError("");
    this.root.hidden = false;
    this.refresh();
  }

  /** No more polling (the officer left the case); refresh() starts again. */
  stop() {
    clearTimeout(this.timer);
    this.timer = null;
  }

  #onScreen() {
    return !this.root.hidden && this.root.closest("[hidden]") === null;
  }

  #path(suffix = "") {
    return `/officer/cases/${encodeURIComponent(this.caseItem.case_id)}/exports${suffix}`;
  }

  async refresh() {
    clearTimeout(this.timer);
    const item = this.caseItem;
    if (!item) return;
    try {
      const { body } = await this.api("GET", this.#path());
      if (item !== this.caseItem) return;
      this.#render(body.exports || []);
      const building = (body.exports || []).some((e) => e.status === "building");
      if (building && this.#onScreen()) this.timer = setTimeout(() => this.#poll(item), POLL_MS);
    } catch (error) {
      this.status.textContent = "";
      this.showError(error.message);
    }
  }

  #poll(item) {
    // Left the case (another case, another view, signed out): stop asking.
    if (item !== this.caseItem || !this.#onScreen()) return;
    this.refresh();
  }

  #render(exports) {
    const building = exports.filter((e) => e.status === "building").length;
    this.status.textContent = !exports.length
      ? "This case has not been exported yet."
      : `${exports.length} export${exports.length === 1 ? "" : "s"}${building ? `; ${building} being built, checked every few seconds` : ""}.`;
    this.list.replaceChildren(...exports.map((item) => this.#row(item)));
  }

  #row(item) {
    const words = STATUS_WORDS[item.status] || item.status;
    const actions = [];
    if (item.status === "ready") {
      actions.push(button(`Download the export for ${item.recipient} (${forceTime(item.created_at, { seconds: false })})`,
        () => this.#askReason(item), "button button--secondary"));
    }
    return el(
      "li",
      { className: `export export--${item.status}` },
      el("p", { className: "export__title" }, el("strong", { text: item.recipient }), " ", el("span", { className: `tag tag--${item.status}`, text: words })),
      facts([
        ["Requested by", item.requested_by],
        ["Asked for", forceTime(item.created_at, { seconds: false })],
        ["Ready", item.ready_at ? forceTime(item.ready_at, { seconds: false }) : ""],
        ["Expires", item.expires_at ? forceTime(item.expires_at, { seconds: false }) : ""],
        ["Files", item.files && item.files.length ? `${item.files.length}` : ""],
        ["Problem", item.problem || ""],
      ]),
      ...this.#withheld(item),
      ...actions,
    );
  }

  /** Exhibits the build left out (not clean, or missing), each with why. */
  #withheld(item) {
    const withheld = item.withheld || [];
    if (!withheld.length) return [];
    return [
      el("p", { className: "export__withheld", text: `Left out of this export (${withheld.length}):` }),
      el("ul", {}, ...withheld.map((w) => el("li", { text: `${w.exhibit_ref ? `Exhibit ${w.exhibit_ref}` : w.original_filename || "A file"}: ${w.reason}` }))),
    ];
  }

  async #ask() {
    const recipient = this.form.querySelector("#export-recipient").value.trim();
    const reason = this.form.querySelector("#export-reason").value.trim();
    const fields = {};
    if (!recipient) fields.recipient = "Name who receives the export, for example CPS West Midlands.";
    if (reason.length < 3) fields.reason = "Give the reason for exporting (at least 3 characters): it is written to the audit log.";
    if (Object.keys(fields).length) return this.#refused({ message: "The export needs a recipient and a reason.", fields }, this.form);
    clearFieldErrors(this.form);
    this.showError("");
    try {
      await this.api("POST", this.#path(), { recipient, reason });
      this.form.reset();
      this.status.textContent = `Export for ${recipient} asked for: it is being built.`;
      await this.refresh();
      this.root.querySelector("#exports-list-heading").focus();
    } catch (error) {
      this.#refused(error, this.form);
    }
  }

  #refused(error, form) {
    const first = showFieldErrors(form, error.fields);
    this.showError(fieldMessage(error, LABELS));
    if (first) first.focus();
  }

  #askReason(item) {
    this.exportItem = item;
    this.files.hidden = true;
    this.linksForm.hidden = false;
    clearFieldErrors(this.linksForm);
    this.linksForm.querySelector("#export-links-heading").textContent = `Download the export for ${item.recipient}`;
    this.linksForm.querySelector("#export-link-reason").focus();
  }

  async #links() {
    const item = this.exportItem;
    const reason = this.linksForm.querySelector("#export-link-reason").value.trim();
    if (reason.length < 3) {
      return this.#refused({ message: "Give the reason for downloading.", fields: { reason: "Give the reason for downloading (at least 3 characters): it is written to the audit log." } }, this.linksForm);
    }
    clearFieldErrors(this.linksForm);
    this.showError("");
    try {
      const { body } = await this.api("POST", `/officer/exports/${encodeURIComponent(item.export_id)}/links`, { reason });
      this.#showFiles(item, body);
    } catch (error) {
      this.#refused(error, this.linksForm);
    }
  }

  #showFiles(item, answer) {
    // Only web links become links: nothing the API says can make the page run script.
    const files = answer.files.filter((file) => /^https?:\/\//i.test(file.url));
    const minutes = Math.max(1, Math.round((answer.expires_in || 0) / 60));
    this.files.querySelector("#export-files-expiry").textContent =
      `${files.length} file${files.length === 1 ? "" : "s"} for ${item.recipient}. These links expire in ${minutes} minute${minutes === 1 ? "" : "s"}; ask again after that.`;
    this.files.querySelector("#export-file-list").replaceChildren(
      ...files.map((file) =>
        el("li", {}, el("a", { href: file.url, download: true, className: "export-file", "data-path": file.path, text: file.path }),
          el("span", { text: file.size !== undefined ? ` (${this.formatSize(file.size)})` : "" })),
      ),
    );
    this.files.querySelector("#export-download-status").textContent = "";
    this.linksForm.hidden = true;
    this.linksForm.reset();
    this.files.hidden = false;
    this.files.querySelector("#export-files-heading").focus();
  }

  async #downloadAll() {
    const links = [...this.files.querySelectorAll("a.export-file")];
    const status = this.files.querySelector("#export-download-status");
    for (const [index, link] of links.entries()) {
      status.textContent = `Starting download ${index + 1} of ${links.length}: ${link.dataset.path}`;
      link.click();
      await new Promise((resolve) => setTimeout(resolve, DOWNLOAD_GAP_MS));
    }
    status.textContent = `All ${links.length} downloads started. Check your downloads folder.`;
  }
}
