// My cases: the officer's cases, each case's requests by status with deadlines, a response
// summary, how long its evidence is kept (and a supervisor's indefinite hold), each request's
// owner's statement and exhibits (reference, size, SHA-256, checks, chain of custody, an audited
// download that asks why), unused material, the case's exports, and the team.
import { formatWhen } from "./search.js";
import { el, button, facts } from "./elements.js";
import { exhibitCard, forceDate, isUnused, statementSection, unusedMaterial } from "./evidence.js";

const STATUS_WORDS = {
  sent: "Waiting for a reply",
  uploading: "Uploading",
  responded: "Footage received",
  declined: "Declined",
  expired: "Expired without a reply",
};

export function formatSize(bytes) {
  const units = ["bytes", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}

/** How long the case's evidence is kept, in words. */
export function retentionWords(item) {
  if (item.hold) return "Held indefinitely";
  if (item.evidence_delete_after) return `Evidence kept until ${forceDate(item.evidence_delete_after)}`;
  return "Kept while the case is open";
}

export class CasesView {
  /** `custody` opens an exhibit's chain of custody; `exports` shows the open case's exports. */
  constructor(root, { api, session, showError, custody, exports }) {
    this.root = root;
    this.api = api;
    this.session = session;
    this.showError = showError;
    this.custody = custody;
    this.exports = exports;
    this.list = root.querySelector("#case-list");
    this.detail = root.querySelector("#case-detail");
  }

  async load() {
    this.detail.hidden = true;
    this.exports.root.hidden = true;
    this.exports.stop();
    this.list.replaceChildren(el("li", { text: "Loading your cases…" }));
    try {
      const { body } = await this.api("GET", "/officer/cases");
      this.list.replaceChildren(
        ...(body.cases.length ? body.cases : [null]).map((item) =>
          item
            ? el("li", {}, button(`${item.case_ref}: ${item.category} (${item.status})`, () => this.open(item.case_id)))
            : el("li", { text: "You are not on any case yet. A search under a new reference opens one." }),
        ),
      );
    } catch (error) {
      this.list.replaceChildren();
      this.showError(error.message);
    }
  }

  async open(caseId, focus = "h2") {
    try {
      const { body: item } = await this.api("GET", `/officer/cases/${encodeURIComponent(caseId)}`);
      this.#render(item);
      this.detail.hidden = false;
      this.exports.show(item);
      this.detail.querySelector(focus).focus();
    } catch (error) {
      this.showError(error.message);
    }
  }

  #render(item) {
    const requests = Object.values(item.requests_by_status || {}).flat();
    const counts = Object.entries(item.requests_by_status || {}).map(
      ([status, list]) => `${list.length} ${(STATUS_WORDS[status] || status).toLowerCase()}`,
    );
    const manages = item.officer_in_charge === this.session.username || this.session.groups.includes("supervisor");
    const summary = facts([
      ["Category", item.category],
      ["Status", item.status],
      ["Officer in charge", item.officer_in_charge],
      ["Responses", requests.length ? `${requests.length} asked: ${counts.join(", ")}; ${item.evidence_count} file${item.evidence_count === 1 ? "" : "s"} received.` : "No owner asked yet."],
      ["Evidence", el("span", { id: "case-retention", text: retentionWords(item) })],
    ]);
    const sections = Object.entries(item.requests_by_status || {}).map(([status, list]) =>
      el(
        "section",
        { "aria-label": STATUS_WORDS[status] || status },
        el("h3", { text: `${STATUS_WORDS[status] || status} (${list.length})` }),
        el("ul", { className: "request-list" }, ...list.map((request) => this.#request(request))),
      ),
    );
    this.detail.replaceChildren(
      ...[
        el("h2", { tabindex: "-1", text: `Case ${item.case_ref}` }),
        summary,
        this.#hold(item),
        this.#team(item, manages),
        el("h2", { text: "Footage requests" }),
        ...(sections.length ? sections : [el("p", { text: "No owner has been asked in this case yet." })]),
      ].filter(Boolean),
    );
  }

  /** A supervisor's indefinite hold on the case's evidence: a toggle button (aria-pressed). */
  #hold(item) {
    if (!this.session.groups.includes("supervisor")) return null;
    const toggle = button("Hold indefinitely", async () => {
      try {
        await this.api("PATCH", `/officer/cases/${encodeURIComponent(item.case_id)}`, { hold: !item.hold });
        await this.open(item.case_id, "#hold-toggle");
      } catch (error) {
        this.showError(error.message);
      }
    }, "button button--secondary", { id: "hold-toggle", "aria-pressed": item.hold ? "true" : "false", "aria-describedby": "hold-hint" });
    return el(
      "div",
      { className: "hold no-print" },
      toggle,
      el("p", { className: "hint", id: "hold-hint", text: item.hold
        ? "On: the evidence is kept until a supervisor lifts the hold. Press to lift it."
        : "Off: the evidence is deleted at the end of its retention after the case closes. Press to keep it indefinitely." }),
    );
  }

  #request(request) {
    const line = [
      `Registration ${request.registration_id}`,
      `deadline ${formatWhen(request.deadline)}`,
      `asked ${formatWhen(request.created_at)}`,
    ];
    if (request.answered_at) line.push(`answered ${formatWhen(request.answered_at)}`);
    if (request.evidence_count) line.push(`${request.evidence_count} file${request.evidence_count === 1 ? "" : "s"}`);
    const holder = el("div", { className: "request-detail" });
    const li = el("li", {}, el("p", { text: line.join("; ") }), unusedMaterial(request));
    const answered = request.evidence_count || isUnused(request) || request.status === "responded";
    if (answered) {
      li.append(button(`Show the request from registration ${request.registration_id}`, () => this.#requestDetail(request, holder), "button button--secondary"), holder);
    }
    return li;
  }

  async #requestDetail(request, holder) {
    try {
      const { body } = await this.api("GET", `/officer/requests/${encodeURIComponent(request.request_id)}`);
      const heading = el("h4", { tabindex: "-1", text: `Request to registration ${body.registration_id || request.registration_id}` });
      const evidence = body.evidence || [];
      holder.replaceChildren(
        ...[heading, unusedMaterial(body)].filter(Boolean),
        statementSection(body.statement, "h5"),
        el("h5", { text: evidence.length ? `Exhibits (${evidence.length})` : "Exhibits" }),
        evidence.length
          ? el("ul", { className: "exhibit-list" }, ...evidence.map((item) => exhibitCard(item, {
            formatSize, headingLevel: "h6",
            actions: [this.#custodyButton(item, holder), this.#downloadForm(item)],
          })))
          : el("p", { text: "No files were received for this request." }),
      );
      heading.focus();
    } catch (error) {
      this.showError(error.message);
    }
  }

  #custodyButton(item, holder) {
    const opener = button(`Chain of custody of ${item.exhibit_ref ? `exhibit ${item.exhibit_ref}` : item.filename}`, () =>
      this.custody.open(item.evidence_id, {
        exhibitRef: item.exhibit_ref,
        filename: item.filename,
        onBack: () => {
          this.custody.showView("view-cases");
          this.exports.refresh();
          if (holder.isConnected) opener.focus();
        },
      }), "button button--secondary");
    return opener;
  }

  #downloadForm(item) {
    const id = `reason-${item.evidence_id}`;
    const form = el(
      "form",
      { className: "download-form no-print", novalidate: "" },
      el("label", { for: id, text: `Reason for downloading ${item.filename}` }),
      el("input", { type: "text", id, maxlength: "500", required: "" }),
      el("button", { type: "submit", className: "button button--secondary", text: `Download ${item.filename}` }),
    );
    const result = el("p", { role: "status" });
    form.append(result);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const reason = form.querySelector("input").value.trim();
      if (reason.length < 3) {
        result.textContent = "Give the reason for downloading (at least 3 characters): it is written to the audit log.";
        return;
      }
      try {
        const { body } = await this.api("POST", `/officer/evidence/${encodeURIComponent(item.evidence_id)}/downloads`, { reason });
        if (!/^https?:\/\//i.test(body.url)) throw new Error("The download link Sightline gave is not a web address.");
        const link = el("a", { href: body.url, className: "evidence-link", text: `Save ${body.filename}` });
        result.replaceChildren(`Ready for ${Math.round(body.expires_in / 60)} minutes: `, link, ` (SHA-256 ${body.sha256}).`);
        link.focus();
      } catch (error) {
        result.textContent = error.message;
      }
    });
    return form;
  }

  #team(item, manages) {
    const members = item.team.map((username) => {
      const li = el("li", { text: username + (username === item.officer_in_charge ? " (officer in charge)" : "") });
      if (manages && username !== item.officer_in_charge) {
        li.append(" ", button(`Remove ${username}`, () => this.#change(item, "DELETE", `/team/${encodeURIComponent(username)}`)));
      }
      return li;
    });
    const section = el("section", { "aria-labelledby": "team-heading" }, el("h2", { id: "team-heading", tabindex: "-1", text: "Team" }), el("ul", {}, ...members));
    if (manages) {
      const form = el(
        "form",
        { className: "team-form", novalidate: "" },
        el("label", { for: "team-username", text: "Add an officer by username" }),
        el("input", { type: "text", id: "team-username", autocomplete: "off", spellcheck: "false" }),
        el("button", { type: "submit", className: "button button--secondary", text: "Add to the team" }),
      );
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        const username = form.querySelector("input").value.trim();
        if (username) this.#change(item, "POST", "/team", { username });
      });
      section.append(form);
    }
    return section;
  }

  async #change(item, method, path, body) {
    try {
      await this.api(method, `/officer/cases/${encodeURIComponent(item.case_id)}${path}`, body);
      await this.open(item.case_id, "#team-heading");
    } catch (error) {
      this.showError(error.message);
    }
  }
}
