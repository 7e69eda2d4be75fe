// Asking: one step for many owners. The API takes at most settings.maxRegistrationsPerRequest
// registrations a call (MAX_REGISTRATIONS_PER_CALL), so a larger selection is sent in batches.
import { settings } from "./settings.js";
import { formatWhen, localInputToIso } from "./search.js";

export function batches(ids, size = settings.maxRegistrationsPerRequest) {
  const out = [];
  for (let i = 0; i < ids.length; i += size) out.push(ids.slice(i, i + size));
  return out;
}

/** The owner's email, as templates/email/footage_request/body.txt words it. */
export function preview({ from, to, summary, caseRef, replyBy }) {
  const window = from && to ? `between ${formatWhen(from)} and ${formatWhen(to)}` : "at the time of the incident";
  return [
    "Hello [the owner's name],",
    "",
    `${settings.forceName} is investigating an incident near [their street] and would like to know whether your cameras recorded anything ${window}.`,
    "",
    `What happened: ${summary || "[the summary you write]"}`,
    `Case reference: ${caseRef || "[the case reference]"}`,
    "",
    "If you have footage from that time, you can upload it securely here:",
    "[a link for this owner only]",
    "",
    `Please reply by ${replyBy ? formatWhen(replyBy) : "[when their recorder overwrites it, less 12 hours]"}; after that your recorder may have overwritten the footage. If you have nothing to share, the same link lets you tell us, and we will not ask again.`,
    "",
    "Police cannot see or connect to your cameras. You decide what to share.",
  ].join("\n");
}

export function readAskForm(form) {
  const value = (id) => form.querySelector(id).value.trim();
  return {
    from: localInputToIso(value("#ask-from")),
    to: localInputToIso(value("#ask-to")),
    summary: value("#ask-summary"),
    replyBy: localInputToIso(value("#ask-reply-by")),
    reason: value("#ask-reason"),
  };
}

export function askProblems(fields) {
  const problems = [];
  if (!fields.from) problems.push(["#ask-from", "Give when the incident started, for example 2026-11-20 22:15."]);
  if (!fields.to) problems.push(["#ask-to", "Give when the incident ended, for example 2026-11-20 22:45."]);
  if (fields.from && fields.to && fields.to <= fields.from) problems.push(["#ask-to", "The end must be after the start."]);
  if (fields.summary.length < 10) problems.push(["#ask-summary", "Write what happened for the owner (at least 10 characters)."]);
  if (fields.reason.length < 3) problems.push(["#ask-reason", "Give the reason for asking (at least 3 characters)."]);
  return problems;
}

/** Ask every owner in `ids`, batch by batch; {asked, refused: [{registration_id, message}]}. */
export async function askOwners(api, { caseRef, point, ids, fields }) {
  const asked = [];
  const refused = [];
  for (const batch of batches(ids)) {
    const body = {
      case_ref: caseRef,
      registration_ids: batch,
      incident: { lat: point.lat, lon: point.lon, from: fields.from, to: fields.to, summary: fields.summary },
      reason: fields.reason,
    };
    if (fields.replyBy) body.reply_by = fields.replyBy;
    const { body: answer } = await api("POST", "/officer/requests", body);
    asked.push(...answer.requests);
    for (const refusal of answer.refused) refused.push({ registration_id: refusal.registration_id, message: refusal.error.message });
  }
  return { asked, refused };
}
