// A refused form: the API's message in the form's error summary (the console's showError), and
// each field it names beside that field, in the slots templates/pages/_forms.html renders.

export function clearFieldErrors(form) {
  for (const group of form.querySelectorAll("[data-field]")) {
    group.classList.remove("form-group--error");
    const slot = group.querySelector("[data-error]");
    if (slot) {
      slot.textContent = "";
      slot.hidden = true;
    }
  }
}

/** Show `fields` ({api_field: message}) beside their fields; the first such field's control, or null. */
export function showFieldErrors(form, fields) {
  clearFieldErrors(form);
  let first = null;
  for (const [name, message] of Object.entries(fields || {})) {
    const group = form.querySelector(`[data-field="${CSS.escape(name)}"]`);
    if (!group) continue;
    group.classList.add("form-group--error");
    const slot = group.querySelector("[data-error]");
    if (slot) {
      slot.textContent = message;
      slot.hidden = false;
    }
    first ||= group.querySelector("input, textarea, select");
  }
  return first;
}

/** The API's message with each named field's problem, in one sentence list. */
export function fieldMessage(error, labels = {}) {
  const fields = Object.entries(error.fields || {}).map(([name, text]) => `${labels[name] || name}: ${text}`);
  return [error.message, ...fields].join(" ");
}
