// Building the console's elements: every text the API returns goes in as textContent.

/** An element with attributes ("text" sets its textContent) and children (null ones skipped). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name === "className") node.className = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

export function button(text, onClick, className = "link-button", attrs = {}) {
  const node = el("button", { type: "button", className, text, ...attrs });
  node.addEventListener("click", onClick);
  return node;
}

/** A summary list (<dl>) of [term, value] pairs; a value may be text or a node. Empty values are left out. */
export function facts(pairs, className = "summary-list") {
  return el(
    "dl",
    { className },
    ...pairs
      .filter(([, value]) => value !== null && value !== undefined && value !== "")
      .map(([term, value]) => el("div", {}, el("dt", { text: term }), typeof value === "string" ? el("dd", { text: value }) : el("dd", {}, value))),
  );
}
