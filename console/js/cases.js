// My cases: the officer's cases, each case's requests by status with deadlines, a response
// summary, evidence (name, size, SHA-256, received at) and an audited download that asks why;
// the officer in charge (or a supervisor) manages the team.
import { formatWhen } from "./search.js";

const STATUS_WORDS = {
  sent: "Waiting for a reply",
  uploading: "Uploading",
  responded: "Footage received",
  declined: "Declined",
  expired: "Expired without a reply",
};

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "text") node.textContent = value;
    else if (name === "className") node.className = value;
    else node.setAttribute(name, value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

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

export class CasesView {
  constructor(root, { api, session, showError }) {
    this.root = root;
    this.api = api;
    this.session = session;
    this.showError = showError;
    this.list = root.querySelector("#case-list");
    this.detail = root.querySelector("#case-detail");
  }

  async load() {
    this.detail.hidden = true;
    this.list.replaceChildren(el("li", { text: "Loading your cases…" }));
    try {
      const { body } = await this.api("GET", "/officer/cases");
      this.list.replaceChildren(
        ...(body.cases.length ? body.cases : [null]).map((item) =>
          item
            ? el("li", {}, this.#button(`${item.case_ref}: ${item.category} (${item.status})`, () => this.open(item.case_id)))
            : el("li", { text: "You are not on any case yet. A search under a new reference opens one." }),
        ),
      );
    } catch (error) {
      this.list.replaceChildren();
      this.showError(error.message);
    }
  }

  #button(text, onClick, className = "link-button") {
    const button = el("button", { type: "button", className, text });
    button.addEventListener("click", onClick);
    return button;
  }

  async open(caseId) {
    try {
      const { body: item } = await this.api("GET", `/officer/cases/${encodeURIComponent(caseId)}`);
      this.#render(item);
      this.detail.hidden = false;
      this.detail.querySelector("h2").focus();
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
    const facts = el(
      "dl",
      { className: "summary-list" },
      ...[
        ["Category", item.category],
        ["Status", item.status],
        ["Officer in charge", item.officer_in_charge],
        ["Responses", requests.length ? `${requests.length} asked: ${counts.join(", ")}; ${item.evidence_count} file${item.evidence_count === 1 ? "" : "s"} received.` : "No owner asked yet."],
      ].map(([term, value]) => el("div", {}, el("dt", { text: term }), el("dd", { text: value || "" }))),
    );
    const sections = Object.entries(item.requests_by_status || {}).map(([status, list]) =>
      el(
        "section",
        { "aria-label": STATUS_WORDS[status] || status },
        el("h3", { text: `${STATUS_WORDS[status] || status} (${list.length})` }),
        el("ul", { className: "request-list" }, ...list.map((request) => this.#request(request))),
      ),
    );
    this.detail.replaceChildren(
      el("h2", { tabindex: "-1", text: `Case ${item.case_ref}` }),
      facts,
      this.#team(item, manages),
      el("h2", { text: "Footage requests" }),
      ...(sections.length ? sections : [el("p", { text: "No owner has been asked in this case yet." })]),
    );
  }

  #request(request) {
    const line = [
      `Registration ${request.registration_id}`,
      `deadline ${formatWhen(request.deadline)}`,
      `asked ${formatWhen(request.created_at)}`,
    ];
    if (request.answered_at) line.push(`answered ${formatWhen(request.answered_at)}`);
    if (request.decline_reason) line.push(`reason given: ${request.decline_reason}`);
    if (request.evidence_count) line.push(`${request.evidence_count} file${request.evidence_count === 1 ? "" : "s"}`);
    const li = el("li", {}, el("p", { text: line.join("; ") }));
    if (request.evidence_count) {
      const holder = el("div");
      li.append(
        this.#button(`Show the files for registration ${request.registration_id}`, () => this.#evidence(request, holder), "button button--secondary"),
        holder,
      );
    }
    return li;
  }

  async #evidence(request, holder) {
    try {
      const { body } = await this.api("GET", `/officer/requests/${encodeURIComponent(request.request_id)}`);
      const rows = body.evidence.map((item) => {
        const cell = el("td");
        cell.append(this.#downloadForm(item));
        return el(
          "tr",
          {},
          el("td", { text: item.filename }),
          el("td", { text: formatSize(item.size) }),
          el("td", {}, el("code", { className: "sha256", text: item.sha256 })),
          el("td", { text: formatWhen(item.uploaded_at) }),
          cell,
        );
      });
      holder.replaceChildren(
        el(
          "div",
          { className: "table-scroll", tabindex: "0", role: "region", "aria-label": `Files for registration ${request.registration_id}` },
          el(
            "table",
            {},
            el("caption", { text: `Files received for registration ${request.registration_id}` }),
            el("thead", {}, el("tr", {}, ...["Name", "Size", "SHA-256", "Received", "Download"].map((h) => el("th", { scope: "col", text: h })))),
            el("tbody", {}, ...rows),
          ),
        ),
      );
      holder.querySelector("table").focus();
    } catch (error) {
      this.showError(error.message);
    }
  }

  #downloadForm(item) {
    const id = `reason-${item.evidence_id}`;
    const form = el(
      "form",
      { className: "download-form", novalidate: "" },
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
        li.append(" ", this.#button(`Remove ${username}`, () => this.#change(item, "DELETE", `/team/${encodeURIComponent(username)}`)));
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
      await this.open(item.case_id);
      this.detail.querySelector("#team-heading").focus();
    } catch (error) {
      this.showError(error.message);
    }
  }
}
