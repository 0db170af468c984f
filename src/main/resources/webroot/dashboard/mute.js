// "Mute like this…": turns an alert into a partner exception (POST /api/v1/exceptions), so that
// findings like it still score their events but raise no alert. Uses api(), el() and humanize()
// from app.js.
"use strict";

const MUTE_ACTOR_RULES = new Set(["new_actor", "unauthorized_deletion"]);
const MUTE_IP_LITERAL = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F]*:[0-9a-fA-F:.]*)$/;

function muteButton(alert, card) {
  const button = el("button", "Mute like this…", "mute");
  button.type = "button";
  button.addEventListener("click", () => {
    const open = card.querySelector(".mute-form");
    if (open) open.remove(); else card.append(muteForm(alert));
  });
  return button;
}

// Prefilled from the alert: its rule, its key, and the IP or actor its evidence observed.
function muteForm(a) {
  const observed = a.evidence && typeof a.evidence.observed === "string" ? a.evidence.observed : "";
  const ip = MUTE_IP_LITERAL.test(observed) ? observed : "";
  const actor = !ip && MUTE_ACTOR_RULES.has(a.rule) ? observed : "";
  const form = el("form", null, "mute-form");
  const keyOnly = muteField(form, "key_only", `This key only (${a.key_id})`, "checkbox");
  keyOnly.checked = true;
  muteField(form, "source_ip_cidr", "Source IP or CIDR (optional)", "text", ip);
  muteField(form, "actor", "Actor (optional)", "text", actor);
  const reason = muteField(form, "reason", "Reason", "text");
  reason.required = true;
  reason.maxLength = 500;
  reason.placeholder = "why this is expected";
  const hours = muteField(form, "hours", "Expires after hours (optional)", "number");
  hours.min = "1";
  hours.step = "1";
  const save = el("button", `Mute ${humanize(a.rule).toLowerCase()}`, "mute-save");
  save.type = "submit";
  const result = el("p", null, "mute-result");
  result.setAttribute("role", "status");
  form.append(save, result);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    submitMute(a, form, save, result);
  });
  return form;
}

function muteField(form, name, text, type, value) {
  const label = el("label", null, `mute-field mute-${name}`);
  const input = document.createElement("input");
  input.name = name;
  input.type = type;
  if (value) input.value = value;
  label.append(input, el("span", text));
  form.append(label);
  return input;
}

async function submitMute(a, form, save, result) {
  const f = form.elements;
  const body = { rule: a.rule, reason: f.reason.value.trim() };
  if (f.key_only.checked) body.key_id = a.key_id;
  if (f.source_ip_cidr.value.trim()) body.source_ip_cidr = f.source_ip_cidr.value.trim();
  if (f.actor.value.trim()) body.actor = f.actor.value.trim();
  if (f.hours.value) body.expires_at = new Date(Date.now() + Number(f.hours.value) * 3600000).toISOString();
  save.disabled = true;
  result.className = "mute-result";
  result.textContent = "Saving…";
  try {
    const doc = await api("POST", "/api/v1/exceptions", body);
    const until = doc.exception.expires_at ? ` until ${time(doc.exception.expires_at)}` : "";
    result.textContent = `Muted: exception ${doc.exception.id}${until}.`;
    result.classList.add("ok");
    [...f].forEach((input) => { input.disabled = true; });
  } catch (e) {
    result.textContent = `Could not mute: ${e.message}`;
    result.classList.add("error");
    save.disabled = false;
  }
}
