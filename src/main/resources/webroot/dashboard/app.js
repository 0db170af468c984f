// KeyPulse dashboard: REST for the first picture, the SockJS bridge for everything after.
"use strict";

const MAX_EVENTS = 100;
const SEVERITIES = ["nominal", "warning", "critical"];
const COLORS = { nominal: "#3fb68b", warning: "#f0a030", critical: "#e5484d" };
const $ = (id) => document.getElementById(id);

const state = {
  apiKey: null, partner: null, bridge: null, retry: 0, reconnectTimer: null, refreshTimer: null,
  stats: null, alerts: new Map(), keys: new Map(), seen: new Set(), selectedKey: null, activity: null,
  severityChart: null, rateChart: null,
};

// ---------------------------------------------------------------- API
async function api(method, path, body) {
  const headers = { "X-API-Key": state.apiKey };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const doc = await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = new Error(doc.message || `HTTP ${res.status}`);
    err.status = res.status;
    throw err;
  }
  return doc;
}

// ---------------------------------------------------------------- session
async function signIn(apiKey) {
  state.apiKey = apiKey;
  const session = await api("POST", "/api/v1/auth/token", {});
  state.partner = session.partner_id;
  sessionStorage.setItem("keypulse.apiKey", apiKey);
  $("partner").textContent = session.partner_id;
  $("signin").hidden = true;
  $("board").hidden = false;
  $("signout").hidden = false;
  setupCharts();
  await loadAll();
  connect(session.token, session.expires_in);
}

function signOut() {
  sessionStorage.removeItem("keypulse.apiKey");
  if (state.bridge) state.bridge.close();
  location.reload();
}

// ---------------------------------------------------------------- live connection
function connect(token, expiresIn) {
  clearTimeout(state.refreshTimer);
  const bridge = new LiveBridge("/eventbus", token);
  state.bridge = bridge;
  bridge.listen(`keypulse.live.${state.partner}.events`, (body) => body.events.forEach(addEvent));
  bridge.listen(`keypulse.live.${state.partner}.alerts`, addAlert);
  bridge.onopen = () => {
    state.retry = 0;
    setStatus("live", "Live");
    banner(null);
  };
  bridge.onerror = (frame) => {
    if (frame.body === "access_denied") bridge.close(), reconnect("session refused");
  };
  bridge.onclose = () => reconnect("connection lost");
  bridge.open();
  // The server closes the socket when the token expires; renew a little before that.
  state.refreshTimer = setTimeout(() => {
    bridge.close();
    reconnect(null);
  }, Math.max(30, expiresIn - 60) * 1000);
}

function reconnect(why) {
  if (state.reconnectTimer) return;
  const delay = Math.min(10, 2 ** state.retry++) * 1000;
  if (why) {
    setStatus("offline", "Offline");
    banner(`Offline (${why}). Reconnecting in ${delay / 1000} s; events are kept and shown once back.`);
  } else {
    setStatus("connecting", "Reconnecting…");
  }
  state.reconnectTimer = setTimeout(async () => {
    state.reconnectTimer = null;
    try {
      const session = await api("POST", "/api/v1/auth/token", {});
      await loadAll();
      connect(session.token, session.expires_in);
    } catch (e) {
      if (e.status === 401 || e.status === 403) return signOutWith(e.message);
      reconnect(e.message);
    }
  }, why ? delay : 0);
}

function signOutWith(message) {
  sessionStorage.removeItem("keypulse.apiKey");
  $("board").hidden = true;
  $("signin").hidden = false;
  $("signin-error").textContent = message;
  setStatus("offline", "Not connected");
}

function setStatus(kind, text) {
  const el = $("status");
  el.className = `status ${kind}`;
  el.textContent = text;
}

function banner(text) {
  $("banner").hidden = !text;
  $("banner").textContent = text || "";
}

// ---------------------------------------------------------------- first picture
async function loadAll() {
  const [events, alerts, keys, stats] = await Promise.all([
    api("GET", "/api/events?limit=50"), api("GET", "/api/alerts?limit=50"),
    api("GET", "/api/keys?limit=1000"), api("GET", "/api/stats"),
  ]);
  state.stats = stats;
  renderStats();
  events.events.slice().reverse().forEach((e) => addEvent(e, true));
  alerts.alerts.slice().reverse().forEach(addAlert);
  renderOpenCount();
  keys.keys.forEach((k) => state.keys.set(k.key_id, k));
  renderKeys();
  if (!state.selectedKey && keys.keys.length) {
    const busiest = keys.keys.reduce((a, b) => (b.event_count > a.event_count ? b : a));
    selectKey(busiest.key_id);
  } else if (state.selectedKey) {
    selectKey(state.selectedKey);
  }
}

// ---------------------------------------------------------------- events
function addEvent(e, initial = false) {
  if (state.seen.has(e.id)) return;
  state.seen.add(e.id);
  const tbody = $("events").querySelector("tbody");
  const tr = document.createElement("tr");
  tr.dataset.id = e.id;
  tr.className = `sev-${e.severity}${initial ? "" : " fresh"}`;
  cells(tr, [time(e.occurred_at), e.key_id, e.event_type, badge(e.severity), e.score.toFixed(2),
    e.source_ip || e.actor || "—"]);
  tr.children[4].className = "num";
  tbody.insertBefore(tr, tbody.firstChild);
  while (tbody.children.length > MAX_EVENTS) tbody.lastChild.remove();
  $("events-empty").hidden = true;
  if (!initial) onLiveEvent(e);
}

function onLiveEvent(e) {
  if (state.stats) {
    state.stats.total_events++;
    state.stats.events_24h++;
    state.stats.severity_breakdown[e.severity] = (state.stats.severity_breakdown[e.severity] || 0) + 1;
    renderStats();
  }
  const key = state.keys.get(e.key_id);
  if (key) {
    key.event_count++;
    key.last_activity = e.created_at;
  } else {
    state.keys.set(e.key_id, { key_id: e.key_id, event_count: 1, last_activity: e.created_at, baseline_state: "learning" });
  }
  renderKeys();
  if (e.key_id === state.selectedKey && /sign/.test(e.event_type) && state.activity) {
    const hours = state.activity.hours;
    hours[hours.length - 1].signing++;
    renderRate();
  }
}

// ---------------------------------------------------------------- alerts
function addAlert(a) {
  const known = state.alerts.get(a.id);
  state.alerts.set(a.id, Object.assign(known || {}, a));
  let card = document.querySelector(`.alert[data-id="${a.id}"]`);
  if (!card) {
    card = document.createElement("article");
    card.dataset.id = a.id;
    $("alerts").insertBefore(card, $("alerts").firstChild);
  }
  renderAlert(card, state.alerts.get(a.id));
  $("alerts-empty").hidden = state.alerts.size > 0;
  renderOpenCount();
}

function renderAlert(card, a) {
  card.className = `alert sev-${a.severity} ${a.status}`;
  // A live repeat re-renders the card: a mute form being filled in must survive it.
  const muting = card.querySelector(".mute-form");
  card.replaceChildren();
  const head = el("header");
  head.append(badge(a.severity), el("strong", humanize(a.rule)), el("span", a.key_id, "key"),
    el("time", time(a.triggered_at)));
  const evidence = el("dl", null, "evidence");
  Object.entries(a.evidence || {}).forEach(([k, v]) => {
    if (v === null || v === undefined) return;
    evidence.append(el("dt", humanize(k)), el("dd", typeof v === "object" ? JSON.stringify(v) : String(v)));
  });
  const ack = el("button", a.status === "acked" ? "Acknowledged" : "Acknowledge", "ack");
  ack.disabled = a.status === "acked";
  ack.addEventListener("click", () => acknowledge(a.id, ack));
  const actions = el("div", null, "actions");
  actions.append(ack, muteButton(a, card));
  card.append(head, el("p", a.description), evidence, actions);
  if (muting) card.append(muting);
}

async function acknowledge(id, button) {
  button.disabled = true;
  try {
    const doc = await api("POST", `/api/alerts/${id}/ack`, {});
    addAlert(doc.alert);
  } catch (e) {
    button.disabled = false;
    banner(`Could not acknowledge alert ${id}: ${e.message}`);
  }
}

function renderOpenCount() {
  const open = [...state.alerts.values()].filter((a) => a.status === "open").length;
  $("stat-open").textContent = open;
  $("alerts-hint").textContent = `${open} open of ${state.alerts.size} shown`;
}

// ---------------------------------------------------------------- keys and the rate chart
function renderKeys() {
  const tbody = $("keys").querySelector("tbody");
  tbody.replaceChildren();
  const keys = [...state.keys.values()].sort((a, b) => (b.last_activity || "").localeCompare(a.last_activity || ""));
  keys.forEach((k) => {
    const tr = document.createElement("tr");
    tr.dataset.key = k.key_id;
    tr.className = k.key_id === state.selectedKey ? "selected" : "";
    cells(tr, [k.name ? `${k.key_id} · ${k.name}` : k.key_id, badge(k.baseline_state, "state"),
      String(k.event_count), relative(k.last_activity), due(k.rotation_due_at)]);
    tr.children[2].className = "num";
    tr.addEventListener("click", () => selectKey(k.key_id));
    tbody.append(tr);
  });
  $("stat-keys").textContent = keys.length;
}

async function selectKey(keyId) {
  state.selectedKey = keyId;
  renderKeys();
  $("chart-key").textContent = keyId;
  try {
    state.activity = await api("GET", `/api/keys/${encodeURIComponent(keyId)}/activity`);
    renderRate();
  } catch (e) {
    $("chart-note").textContent = `No chart: ${e.message}`;
  }
}

function renderRate() {
  const a = state.activity;
  const chart = state.rateChart;
  chart.data.labels = a.hours.map((h) => h.hour.substring(11, 16));
  chart.data.datasets[0].data = a.hours.map((h) => h.signing);
  chart.data.datasets[1].data = a.hours.map(() => a.baseline_per_hour);
  chart.data.datasets[2].data = a.hours.map(() => a.spike_threshold_per_hour);
  chart.update("none");
  $("chart-note").textContent = a.baseline_state === "learning"
    ? "Still learning this key's normal: spikes are not judged yet."
    : `Baseline ${a.baseline_per_hour}/h over ${a.baseline_hours} h; an hour above ${a.spike_threshold_per_hour} is a spike.`;
}

// ---------------------------------------------------------------- stats
function renderStats() {
  const s = state.stats;
  $("stat-total").textContent = s.total_events.toLocaleString();
  $("stat-24h").textContent = s.events_24h.toLocaleString();
  const counts = SEVERITIES.map((k) => s.severity_breakdown[k] || 0);
  state.severityChart.data.datasets[0].data = counts;
  state.severityChart.update("none");
  const legend = $("severity-legend");
  legend.replaceChildren(...SEVERITIES.map((k, i) => {
    const li = el("li", `${k} ${counts[i].toLocaleString()}`);
    li.className = `sev-${k}`;
    return li;
  }));
}

function setupCharts() {
  if (state.severityChart) return;
  Chart.defaults.color = "#9aa4b2";
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  state.severityChart = new Chart($("severity-chart"), {
    type: "doughnut",
    data: { labels: SEVERITIES, datasets: [{ data: [0, 0, 0], backgroundColor: SEVERITIES.map((k) => COLORS[k]), borderWidth: 0 }] },
    options: { animation: false, cutout: "65%", plugins: { legend: { display: false } }, maintainAspectRatio: false },
  });
  state.rateChart = new Chart($("rate-chart"), {
    data: {
      labels: [],
      datasets: [
        { type: "bar", label: "Signings per hour", data: [], backgroundColor: "#4f7cff" },
        { type: "line", label: "Baseline", data: [], borderColor: "#3fb68b", borderDash: [6, 4], pointRadius: 0 },
        { type: "line", label: "Spike threshold", data: [], borderColor: "#e5484d", borderDash: [2, 3], pointRadius: 0 },
      ],
    },
    options: {
      animation: false, maintainAspectRatio: false,
      scales: { y: { beginAtZero: true, grid: { color: "#232a36" } }, x: { grid: { display: false } } },
      plugins: { legend: { labels: { boxWidth: 12 } } },
    },
  });
}

// ---------------------------------------------------------------- little helpers
function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== null && text !== undefined) node.textContent = text;
  if (cls) node.className = cls;
  return node;
}

function cells(tr, values) {
  values.forEach((v) => {
    const td = document.createElement("td");
    if (v instanceof Node) td.append(v); else td.textContent = v;
    tr.append(td);
  });
}

function badge(text, kind = "sev") {
  return el("span", text || "—", `badge ${kind}-${text}`);
}

function humanize(s) {
  return String(s || "").replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

function time(iso) {
  return iso ? new Date(iso).toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" }) : "—";
}

function relative(iso) {
  if (!iso) return "—";
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (s < 60) return "just now";
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

function due(iso) {
  if (!iso) return "—";
  const days = Math.round((Date.parse(iso) - Date.now()) / 86400000);
  const text = days < 0 ? `overdue ${-days} d` : `in ${days} d`;
  return el("span", text, days < 0 ? "due overdue" : days <= 14 ? "due soon" : "due");
}

// ---------------------------------------------------------------- start
window.addEventListener("DOMContentLoaded", () => {
  $("signin-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    $("signin-error").textContent = "";
    $("connect").disabled = true;
    try {
      await signIn($("api-key").value.trim());
    } catch (err) {
      $("signin-error").textContent = err.status === 401 || err.status === 403
        ? "That key was not accepted." : `Could not connect: ${err.message}`;
    } finally {
      $("connect").disabled = false;
    }
  });
  $("signout").addEventListener("click", signOut);
  const remembered = sessionStorage.getItem("keypulse.apiKey");
  if (remembered) signIn(remembered).catch((e) => signOutWith(e.message));
});
