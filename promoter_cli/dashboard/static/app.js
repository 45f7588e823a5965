// lambda-promoter dashboard: plain JavaScript, no build step, nothing from the internet.
// Every call goes to this page's own server, which signs it with the user's AWS credentials and
// forwards it to the control-plane API (promoter_cli/dashboard/server.py). Live updates are polling:
// the API has no push, and a plain request every few seconds passes through the signing proxy
// without holding a connection open.
"use strict";

const POLL_MS = 2000; // promotions move in seconds
const PIPELINE_POLL_MS = 5000; // each read of a pipeline reads every environment's alias from AWS
const TOKEN = document.querySelector('meta[name="promoter-token"]').content;
const LIVE = new Set(["PENDING", "AWAITING_APPROVAL", "RUNNING", "PAUSED"]);
const STATUS_KIND = {
  PENDING: "live", AWAITING_APPROVAL: "warn", RUNNING: "live", PAUSED: "warn",
  SUCCEEDED: "good", ROLLED_BACK: "bad", ABORTED: "bad", FAILED: "bad",
};
// Which statuses the API accepts each signal in (promoter.decisions.ALLOWED_SIGNALS); the API decides.
const SIGNALS = [
  { verb: "abort", label: "Abort", allowed: "PENDING, AWAITING_APPROVAL, RUNNING or PAUSED",
    says: "The alias goes back to the stable version and the promotion ends ABORTED." },
  { verb: "pause", label: "Pause", allowed: "RUNNING",
    says: "The current traffic split holds after this step's bake; the alarms stay armed." },
  { verb: "resume", label: "Resume", allowed: "PAUSED", says: "The bake continues with the time that remained." },
  { verb: "approve", label: "Approve", allowed: "AWAITING_APPROVAL", says: "Traffic starts moving to the candidate." },
  { verb: "promote-now", label: "Promote now", allowed: "RUNNING or PAUSED",
    says: "The remaining steps are skipped: all traffic moves to the candidate." },
];

const finalDetails = new Map(); // a final promotion never changes: read once
let view = null; // {key, load, draw, every}
let timer = null;
let lastDrawn = "";
let lastSeen = {}; // what was announced: status and share per promotion id

// --- small helpers --------------------------------------------------------------------------------
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name === "onclick") node.addEventListener("click", value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const svgNS = "http://www.w3.org/2000/svg";
function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(svgNS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function percent(weight) {
  const value = Math.round((Number(weight) || 0) * 1000) / 10;
  return `${value}%`;
}

function time(value) {
  if (!value) return "—";
  const date = new Date(value);
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}

function clock(value) {
  return value ? new Date(value).toLocaleTimeString() : "—";
}

function duration(seconds) {
  seconds = Math.max(0, Math.round(seconds));
  const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
  if (h) return `${h}h ${String(m).padStart(2, "0")}m`;
  if (m) return `${m}m ${String(s).padStart(2, "0")}s`;
  return `${s}s`;
}

// A running time that ticks between polls: redrawn in place (no focus is lost).
function since(start, end) {
  const node = el("span", { "data-since": start, "data-until": end || "" });
  tickOne(node);
  return node;
}
function tickOne(node) {
  const start = Date.parse(node.dataset.since);
  const end = node.dataset.until ? Date.parse(node.dataset.until) : Date.now();
  node.textContent = Number.isNaN(start) ? "—" : duration((end - start) / 1000);
}
function tickAll() {
  document.querySelectorAll("[data-since]").forEach(tickOne);
}

function statusBadge(status) {
  return el("span", { class: `status ${STATUS_KIND[status] || "idle"}`, "data-status": status, text: status });
}

function shareBar(weight, label) {
  const fill = el("div", { class: "fill" });
  fill.style.width = percent(Math.min(1, Math.max(0, Number(weight) || 0))); // CSSOM: allowed by the CSP
  return el("div", { class: "share", "data-share": String(weight) },
    el("div", { class: "bar", "aria-hidden": "true" }, fill),
    el("span", { class: "share-text", text: `${percent(weight)}${label ? " " + label : ""}` }));
}

// When it started and ended, by the event history's clock: the times every event carries. (The
// sandbox run faster with --time-scale stamps created_at and the steps on its own fast clock.)
function span(p) {
  const events = p.events || [];
  const start = events.length ? events[0].at : p.created_at;
  const end = LIVE.has(p.status) ? null : events.length ? events[events.length - 1].at : p.ended_at;
  return { start, end };
}

function stepText(p) {
  const steps = p.steps || [];
  if (!steps.length) return "—";
  if (p.current_step === null || p.current_step === undefined) return `0 of ${steps.length}`;
  return `${p.current_step + 1} of ${steps.length}`;
}

function announce(text) {
  const box = document.getElementById("announcer");
  box.textContent = text;
}

function noteChanges(p) {
  const before = lastSeen[p.id];
  const share = percent(p.current_weight);
  if (before && before.status !== p.status) announce(`Promotion ${p.id} is now ${p.status}.`);
  else if (before && before.share !== share) announce(`Promotion ${p.id}: ${share} of traffic on the candidate.`);
  lastSeen[p.id] = { status: p.status, share };
}

// --- the API, through this page's server ------------------------------------------------------------
async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") {
    headers["Content-Type"] = "application/json";
    headers["X-Promoter-Token"] = TOKEN;
  }
  const response = await fetch(`/api${path}`, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin", cache: "no-store",
  });
  let data = null;
  const text = await response.text();
  try { data = text ? JSON.parse(text) : null; } catch { data = { message: text }; }
  return { status: response.status, ok: response.ok, body: data };
}

function refusalText(answer) {
  const body = answer.body || {};
  const parts = [`${body.message || body.error || "refused"} (HTTP ${answer.status})`];
  if (body.field) parts.push(`field: ${body.field}`);
  if (body.current_status) parts.push(`current status: ${body.current_status}`);
  if (body.active_promotion) parts.push(`active promotion: ${body.active_promotion}`);
  if (body.started_by) parts.push(`started by: ${body.started_by}`);
  return parts.join("\n");
}

async function read(path) {
  const answer = await api("GET", path);
  if (!answer.ok) throw new Error(refusalText(answer));
  return answer.body;
}

// --- page: promotions --------------------------------------------------------------------------------
async function promotionDetails(item) {
  if (finalDetails.has(item.id)) return finalDetails.get(item.id);
  const details = await read(`/promotions/${encodeURIComponent(item.id)}`);
  if (!LIVE.has(details.status)) finalDetails.set(item.id, details);
  return details;
}

async function loadPromotions() {
  const page = await read("/promotions?limit=50");
  const items = page.items || [];
  // The list's summary has no steps: each row's details give "step n of m" (final ones are cached).
  const details = await Promise.all(items.map((item) => promotionDetails(item).catch(() => item)));
  const live = details.filter((p) => LIVE.has(p.status));
  const recent = details.filter((p) => !LIVE.has(p.status));
  return { live, recent, more: Boolean(page.next_token) };
}

function promotionRows(list) {
  return list.map((p) => {
    noteChanges(p);
    return el("tr", { "data-promotion": p.id },
      el("td", {}, el("a", { href: `#/promotions/${encodeURIComponent(p.id)}`, "data-key": `row-${p.id}` },
        `${p.function}:${p.alias}`), el("br"), el("span", { class: "muted mono", text: p.id })),
      el("td", {}, statusBadge(p.status)),
      el("td", {}, shareBar(p.current_weight, `on v${p.candidate_version ?? "?"}`),
        el("span", { class: "muted", text: `stable v${p.stable_version}` })),
      el("td", { text: stepText(p) }),
      el("td", {}, el("span", { text: p.created_by }), el("br"), el("span", { class: "muted", text: time(span(p).start) })),
      el("td", {}, since(span(p).start, span(p).end)));
  });
}

function promotionTable(section, caption, list, empty) {
  if (!list.length) return el("p", { class: "muted", "data-section": section, text: empty });
  return el("table", { "data-section": section },
    el("caption", { class: "visually-hidden", text: caption }),
    el("thead", {}, el("tr", {}, ["Target", "Status", "Candidate's traffic share", "Step", "Started by, when",
      "Running time"].map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, promotionRows(list)));
}

function drawPromotions(data) {
  return [
    el("h1", { text: "Promotions" }),
    el("h2", { text: `Live (${data.live.length})` }),
    promotionTable("live", "Live promotions", data.live, "No promotion is live."),
    el("h2", { text: "Recent" }),
    promotionTable("recent", "Recent promotions, newest first", data.recent, "No promotion has ended yet."),
    data.more ? el("p", { class: "muted", text: "Showing the 50 newest; `promoter list` pages through the rest." }) : null,
  ];
}

// --- page: one promotion --------------------------------------------------------------------------
function stepsTimeline(p) {
  const now = Date.now();
  const shift = latestEvent(p, (e) => e.type === "shifted"); // the current step's, on the history's clock
  return el("ol", { class: "timeline", "aria-label": "Traffic steps" }, (p.steps || []).map((step) => {
    const done = Boolean(step.ended_at);
    const current = !done && step.index === p.current_step && LIVE.has(p.status);
    const stopped = !done && !current && Boolean(step.started_at) && !LIVE.has(p.status);
    const kind = done ? "done" : current ? "current" : stopped ? "stopped" : "planned";
    const label = `Step ${step.index + 1}: ${percent(step.weight)} to the candidate, bake ${duration(step.bake_seconds)}`;
    const parts = [el("strong", { text: label })];
    if (done) {
      const checked = latestEvent(p, (e) => e.type === "checked" && e.message.startsWith(`step ${step.index + 1}:`));
      parts.push(` — done ${clock(checked ? checked.at : step.ended_at)}`);
    } else if (current && shift) {
      const baked = Math.min(step.bake_seconds, bakedSince(p, shift, now));
      const state = p.status === "PAUSED" ? "paused" : "baking";
      parts.push(` — ${state}, about ${duration(baked)} of ${duration(step.bake_seconds)}`);
      if (step.bake_seconds > 0) {
        parts.push(el("progress", { max: String(step.bake_seconds), value: String(Math.max(0, baked)),
          "aria-label": `bake of step ${step.index + 1}` }));
      }
    } else {
      parts.push(stopped ? ` — stopped during its bake (${p.status})` : LIVE.has(p.status) ? " — planned" : " — not reached");
    }
    return el("li", { class: kind, "data-step": String(step.index) }, el("span", { class: "visually-hidden", text: `${kind}: ` }), parts);
  }));
}

// Seconds the current step has baked: from its shift, with the clock stopped between a pause and
// its resume (a pause stops the bake; resume continues with what remained).
function bakedSince(p, shift, now) {
  let baked = 0, runningSince = Date.parse(shift.at);
  for (const event of (p.events || []).filter((e) => Date.parse(e.at) >= Date.parse(shift.at))) {
    if (event.type === "paused" && runningSince !== null) {
      baked += Date.parse(event.at) - runningSince;
      runningSince = null;
    } else if (event.type === "resumed" && runningSince === null) {
      runningSince = Date.parse(event.at);
    }
  }
  if (runningSince !== null) baked += now - runningSince;
  return Math.max(0, baked / 1000);
}

// The candidate's share over time, from the history: each shift's weight, back to 0% on a rollback.
function trafficSeries(p) {
  const { start, end } = span(p);
  const points = [{ at: Date.parse(start), weight: 0 }];
  for (const event of p.events || []) {
    if (event.weight !== null && event.weight !== undefined && event.type === "shifted") {
      points.push({ at: Date.parse(event.at), weight: event.weight });
    } else if (event.type === "rolled_back" || event.type === "promote_now") {
      points.push({ at: Date.parse(event.at), weight: event.type === "rolled_back" ? 0 : 1 });
    }
  }
  const last = end ? Date.parse(end) : Date.now();
  points.push({ at: Math.max(last, points[points.length - 1].at), weight: Number(p.current_weight) || 0 });
  return points;
}

function trafficChart(p) {
  const points = trafficSeries(p);
  const W = 640, H = 180, L = 44, R = 12, T = 12, B = 28;
  const t0 = points[0].at, t1 = Math.max(points[points.length - 1].at, t0 + 1000);
  const x = (t) => L + ((t - t0) / (t1 - t0)) * (W - L - R);
  const y = (w) => T + (1 - w) * (H - T - B);
  let path = `M ${x(points[0].at)} ${y(points[0].weight)}`;
  for (let i = 1; i < points.length; i++) {
    path += ` H ${x(points[i].at)} V ${y(points[i].weight)}`; // a share holds until the next change
  }
  const changes = points.slice(1, -1).map((pt) => `${percent(pt.weight)} at ${clock(pt.at)}`);
  const summary = `Candidate's traffic share over ${duration((t1 - t0) / 1000)}: ` +
    (changes.length ? changes.join(", ") : "no change yet") + `; now ${percent(p.current_weight)}.`;
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": summary });
  chart.append(svg("title", {}, summary));
  for (const w of [0, 0.25, 0.5, 0.75, 1]) {
    chart.append(svg("line", { class: w === 0 ? "axis" : "grid", x1: L, x2: W - R, y1: y(w), y2: y(w) }));
    chart.append(svg("text", { x: L - 6, y: y(w) + 4, "text-anchor": "end" }, percent(w)));
  }
  chart.append(svg("line", { class: "axis", x1: L, x2: L, y1: T, y2: H - B }));
  chart.append(svg("text", { x: L, y: H - 8 }, clock(t0)));
  chart.append(svg("text", { x: W - R, y: H - 8, "text-anchor": "end" }, LIVE.has(p.status) ? "now" : clock(t1)));
  chart.append(svg("path", { class: "area", d: `${path} V ${y(0)} H ${x(t0)} Z` }));
  chart.append(svg("path", { class: "line", d: path }));
  return el("figure", { class: "chart" }, chart, el("figcaption", { class: "muted", text: summary }));
}

function latestEvent(p, test) {
  const found = (p.events || []).filter(test);
  return found.length ? found[found.length - 1] : null;
}

// The record names the alarms; GET /promotions/{id}/gates asks CloudWatch for their state now.
async function loadPromotion(id) {
  const path = `/promotions/${encodeURIComponent(id)}`;
  const p = await read(path);
  if (!(p.alarms || []).length) return p;
  // Only the states: read_at changes on every poll and would redraw the page each time.
  const gates = await read(`${path}/gates`).then((g) => ({ alarms: g.alarms }), (failure) => ({ error: failure.message }));
  return { ...p, gates };
}

const ALARM_KIND = { OK: "good", ALARM: "bad", INSUFFICIENT_DATA: "warn", MISSING: "bad" };

function alarmState(p, name) {
  if (!p.gates) return el("span", { class: "muted", text: "not read yet" });
  if (p.gates.error) return el("span", { class: "muted", text: `could not read: ${p.gates.error}` });
  const found = (p.gates.alarms || []).find((alarm) => alarm.name === name);
  const state = found ? found.state : "MISSING";
  return el("span", { class: `status ${ALARM_KIND[state] || "idle"}`, "data-alarm-state": state, text: state });
}

function gatesSection(p) {
  const check = latestEvent(p, (e) => ["checked", "watched", "rolled_back"].includes(e.type));
  const rows = (p.alarms || []).map((name) => el("tr", { "data-alarm": name },
    el("td", { class: "mono", text: name }),
    el("td", {}, alarmState(p, name))));
  return [
    el("h2", { text: "Gates" }),
    el("dl", { class: "facts" },
      el("dt", { text: "Alarms" }), el("dd", { text: (p.alarms || []).length ? `${p.alarms.length}` : "none" }),
      el("dt", { text: "INSUFFICIENT_DATA" }), el("dd", { text: p.insufficient_data === "pass" ? "passes" : "fails the gate" }),
      el("dt", { text: "Approval" }), el("dd", { text: p.approval ? (p.approval_by_other ? "required, by someone else" : "required") : "not required" }),
      el("dt", { text: "Last gate check" }), el("dd", { text: check ? `${clock(check.at)}: ${check.message}` : "none yet" })),
    rows.length ? el("table", { "data-section": "alarms" }, el("thead", {}, el("tr", {}, el("th", { text: "Alarm" }), el("th", { text: "State" }))),
      el("tbody", {}, rows)) : null,
  ];
}

function hooksSection(p) {
  const hooks = p.hooks || {};
  const rows = [["pre_traffic", "before any traffic"], ["post_traffic", "at 100%"]].map(([phase, when]) => {
    const ran = latestEvent(p, (e) => e.type === `hook.${phase}`);
    const fn = hooks[phase];
    let result = fn ? "not run yet" : "—";
    if (ran) result = /: passed$/.test(ran.message) ? `passed (${clock(ran.at)})` : `failed: ${ran.message}`;
    return el("tr", { "data-hook": phase }, el("td", { text: `${phase} (${when})` }), el("td", { class: "mono", text: fn || "none" }),
      el("td", { text: result }));
  });
  return [el("h2", { text: "Hooks" }), el("table", { "data-section": "hooks" },
    el("thead", {}, el("tr", {}, ["Phase", "Function", "Result"].map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, rows))];
}

function dataTable(section, headers, rows) {
  return el("table", { "data-section": section },
    el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, rows));
}

function num(value, digits = 4) {
  return value === null || value === undefined ? "—" : String(Number(Number(value).toPrecision(digits)));
}

// The judge's verdict per judged step, and the latest judgement's evidence per metric (as `promoter status`).
function analysisSection(p) {
  const analysis = p.analysis;
  if (!analysis) return null;
  const steps = Object.entries(analysis.steps || {}).sort(([a], [b]) => Number(a) - Number(b));
  const parts = [el("h2", { text: "Canary analysis" }),
    steps.length ? dataTable("analysis", ["Step", "Verdict", "Action", "Score", "Extensions", "Reason"],
      steps.map(([index, j]) => el("tr", { "data-judged-step": index },
        el("td", { text: String(Number(index) + 1) }), el("td", { text: j.verdict }), el("td", { text: j.action }),
        el("td", { text: num(j.score, 3) }), el("td", { text: String(j.extensions ?? 0) }), el("td", { text: j.reason || "" }))))
      : el("p", { class: "muted", text: "no step judged yet" })];
  const last = analysis.last;
  if (last) {
    parts.push(el("p", { text: `Latest judgement${last.step === null || last.step === undefined ? "" : ` (step ${last.step + 1})`}: ` +
      `${last.verdict}, score ${num(last.score, 3)}, ${last.candidate_invocations} candidate / ${last.stable_invocations} ` +
      `stable invocations over ${last.periods} periods` }),
    dataTable("evidence", ["Metric", "Test", "Stable", "Candidate", "p-value", "Effect", "Verdict"],
      (last.metrics || []).map((m) => el("tr", { "data-metric": m.name },
        el("td", { text: m.name }), el("td", { text: m.test }), el("td", { text: num(m.stable) }),
        el("td", { text: num(m.candidate) }), el("td", { text: num(m.p_value, 3) }), el("td", { text: num(m.effect, 3) }),
        el("td", { text: `${m.verdict}${m.failed ? " (fails)" : ""}` })))));
  }
  return parts;
}

function fastGateSection(p) {
  const gate = p.fast_gate;
  if (!gate) return null;
  const state = p.fast_gate_state;
  const trip = state && state.trip;
  let filter = "not put yet (Prepare puts it)";
  if (state) filter = `${state.filter_name} on ${state.log_group}${state.removed ? ", removed" : ", watching"}`;
  return [el("h2", { text: "Fast gate" }), el("dl", { class: "facts", "data-section": "fast-gate" },
    el("dt", { text: "Rolls back past" }),
    el("dd", { text: `${gate.max_errors} errors of the candidate in ${gate.window_seconds} s${gate.pattern ? `, also "${gate.pattern}"` : ""}` }),
    el("dt", { text: "Subscription filter" }), el("dd", { text: filter }),
    el("dt", { text: "Tripped" }),
    el("dd", { text: trip ? `${trip.errors} errors in ${trip.window_seconds} s (first ${clock(trip.first_error_at)}), alias back at ${clock(trip.at)}` : "no" }))];
}

function eventsSection(p) {
  const events = p.events || [];
  return [el("h2", { text: `History (${events.length} events)` }), el("table", { "data-section": "history" },
    el("thead", {}, el("tr", {}, ["Time", "Actor", "Event", "Status", "Share", "Message"].map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, events.map((e) => el("tr", {},
      el("td", { class: "nowrap", text: clock(e.at) }), el("td", { class: "mono", text: e.actor }), el("td", { text: e.type }),
      el("td", { text: e.status || "" }), el("td", { text: e.weight === null || e.weight === undefined ? "" : percent(e.weight) }),
      el("td", { text: e.message })))))];
}

function actionsSection(p) {
  const live = LIVE.has(p.status);
  return [
    el("h2", { text: "Steer" }),
    el("div", { class: "actions", role: "group", "aria-label": "Signals" }, SIGNALS.map((s) => el("button", {
      type: "button", "data-key": `signal-${s.verb}`, "data-signal": s.verb, disabled: !live,
      class: s.verb === "abort" ? "danger" : null, "aria-describedby": `hint-${s.verb}`,
      onclick: () => confirmSignal(p, s),
    }, s.label))),
    el("ul", { class: "hint" }, SIGNALS.map((s) => el("li", { id: `hint-${s.verb}`, text: `${s.label}: allowed when ${s.allowed}.` }))),
    live ? null : el("p", { class: "hint", text: `The promotion has ended (${p.status}): nothing more to steer.` }),
  ];
}

function drawPromotion(p) {
  noteChanges(p);
  return [
    el("p", {}, el("a", { href: "#/promotions", text: "← All promotions" })),
    el("h1", {}, `${p.function}:${p.alias} `, statusBadge(p.status)),
    el("dl", { class: "facts" },
      el("dt", { text: "Promotion" }), el("dd", { class: "mono", text: p.id }),
      el("dt", { text: "Versions" }), el("dd", { text: `stable ${p.stable_version} → candidate ${p.candidate_version ?? "(being carried)"}` }),
      el("dt", { text: "Traffic on the candidate" }), el("dd", { id: "traffic" }, shareBar(p.current_weight, "")),
      el("dt", { text: "Step" }), el("dd", { text: stepText(p) }),
      el("dt", { text: "Started" }), el("dd", { text: `${time(span(p).start)} by ${p.created_by}` }),
      el("dt", { text: "Running time" }), el("dd", {}, since(span(p).start, span(p).end)),
      p.reason ? [el("dt", { text: "Reason" }), el("dd", { text: p.reason })] : null,
      p.outcome_reason ? [el("dt", { text: "Outcome" }), el("dd", { text: p.outcome_reason })] : null,
      p.origin ? [el("dt", { text: "Pipeline" }), el("dd", { text: `${p.origin.pipeline} → ${p.origin.environment}` })] : null),
    actionsSection(p),
    el("h2", { text: "Steps" }), stepsTimeline(p),
    el("h2", { text: "Traffic share over time" }), trafficChart(p),
    gatesSection(p), fastGateSection(p), analysisSection(p), hooksSection(p), eventsSection(p),
  ];
}

// --- the confirmation dialog ---------------------------------------------------------------------------
function confirmSignal(p, signal) {
  const dialog = document.getElementById("confirm");
  const reason = document.getElementById("confirm-reason");
  const error = document.getElementById("confirm-error");
  const ok = document.getElementById("confirm-ok");
  document.getElementById("confirm-title").textContent = `${signal.label} promotion ${p.id}?`;
  document.getElementById("confirm-text").textContent = `${p.function}:${p.alias}, now ${p.status}. ${signal.says}`;
  ok.textContent = signal.label;
  reason.value = "";
  error.hidden = true;
  error.textContent = "";
  ok.onclick = async () => {
    if (!reason.value.trim()) {
      error.textContent = "Give a reason: it goes into the promotion's history.";
      error.hidden = false;
      reason.focus();
      return;
    }
    ok.disabled = true;
    try {
      const answer = await api("POST", `/promotions/${encodeURIComponent(p.id)}/${signal.verb}`, { reason: reason.value.trim() });
      if (!answer.ok) { // the API's refusal, as it said it
        error.textContent = refusalText(answer);
        error.hidden = false;
        return;
      }
      dialog.close();
      announce(`${signal.label}: accepted; the promotion was ${answer.body?.status ?? p.status} when it took the signal.`);
      refresh();
    } catch (failure) {
      error.textContent = `The dashboard's server did not answer: ${failure.message}`;
      error.hidden = false;
    } finally {
      ok.disabled = false;
    }
  };
  document.getElementById("confirm-cancel").onclick = () => dialog.close();
  // The page may have redrawn while the dialog was open: give focus back to the new button.
  dialog.onclose = () => document.querySelector(`[data-key="signal-${signal.verb}"]`)?.focus();
  dialog.showModal();
  reason.focus();
}

// --- page: pipelines --------------------------------------------------------------------------------
async function loadPipelines() {
  const page = await read("/pipelines");
  const names = (page.items || []).map((item) => item.name);
  return Promise.all(names.map((name) => read(`/pipelines/${encodeURIComponent(name)}`)));
}

function routingText(env) {
  const extra = Object.entries(env.weights || {});
  if (!env.version) return "—";
  if (!extra.length) return `settled: all traffic on version ${env.version}`;
  const rest = 1 - extra.reduce((sum, [, w]) => sum + w, 0);
  return [`version ${env.version}: ${percent(rest)}`, ...extra.map(([v, w]) => `version ${v}: ${percent(w)}`)].join(", ");
}

function promotionLink(summary) {
  if (!summary) return el("span", { class: "muted", text: "none" });
  return el("span", {}, el("a", { href: `#/promotions/${encodeURIComponent(summary.id)}`, text: summary.id }), " ",
    statusBadge(summary.status), ` ${percent(summary.current_weight)} on v${summary.candidate_version ?? "?"}`);
}

function driftText(env) {
  if (env.drift === null || env.drift === undefined) return "unknown: no promotion on it yet";
  return env.drift ? `DRIFT: ${env.drift_reason || "the alias is not where lambda-promoter left it"}` : "none";
}

function environmentCard(env) {
  return el("section", { class: "env", "aria-label": `environment ${env.name}`, "data-env": env.name },
    el("h3", {}, env.name, env.protected ? el("span", { class: "muted", text: " (protected)" }) : null),
    env.error ? el("p", { class: "banner", text: `could not be read: ${env.error}` }) : null,
    el("dl", { class: "facts" },
      el("dt", { text: "Target" }), el("dd", { class: "mono", text: `${env.function}:${env.alias}` }),
      env.role_arn ? [el("dt", { text: "Role" }), el("dd", { class: "mono", text: env.role_arn })] : null,
      el("dt", { text: "Version" }), el("dd", { text: env.version ?? "—" }),
      el("dt", { text: "CodeSha256" }), el("dd", { class: "mono", text: env.code_sha256 ?? "—" }),
      el("dt", { text: "Routing" }), el("dd", { text: routingText(env) }),
      el("dt", { text: "Active" }), el("dd", {}, promotionLink(env.active_promotion)),
      el("dt", { text: "Last" }), el("dd", {}, promotionLink(env.last_promotion)),
      el("dt", { text: "Drift" }), el("dd", { class: env.drift ? "refusal" : null, text: driftText(env) }),
      env.frozen_until ? [el("dt", { text: "Frozen until" }), el("dd", { text: time(env.frozen_until) })] : null));
}

function drawPipelines(pipelines) {
  if (!pipelines.length) {
    return [el("h1", { text: "Pipelines" }), el("p", { class: "muted", text: "No pipeline yet (promoter pipeline apply FILE)." })];
  }
  return [el("h1", { text: "Pipelines" }), pipelines.map((pipeline) => el("section", { "data-pipeline": pipeline.name },
    el("h2", { text: pipeline.name }),
    pipeline.description ? el("p", { class: "muted", text: pipeline.description }) : null,
    el("div", { class: "envs" }, (pipeline.state || []).map(environmentCard))))];
}

// --- routing and polling ---------------------------------------------------------------------------
function route() {
  const hash = location.hash.replace(/^#/, "") || "/promotions";
  const one = hash.match(/^\/promotions\/(.+)$/);
  if (one) {
    const id = decodeURIComponent(one[1]);
    return { key: hash, nav: "promotions", title: `Promotion ${id}`, every: POLL_MS,
      load: () => loadPromotion(id), draw: drawPromotion };
  }
  if (hash.startsWith("/pipelines")) {
    return { key: hash, nav: "pipelines", title: "Pipelines", every: PIPELINE_POLL_MS, load: loadPipelines, draw: drawPipelines };
  }
  return { key: "/promotions", nav: "promotions", title: "Promotions", every: POLL_MS, load: loadPromotions, draw: drawPromotions };
}

// Redraw only when the answer changed, and give focus back to the element that had it.
function draw(data) {
  const main = document.getElementById("main");
  const focused = document.activeElement && main.contains(document.activeElement) ? document.activeElement.dataset.key : null;
  main.replaceChildren(...[view.draw(data)].flat(3).filter(Boolean));
  if (focused) main.querySelector(`[data-key="${CSS.escape(focused)}"]`)?.focus();
}

async function refresh() {
  clearTimeout(timer);
  const current = view;
  const freshness = document.getElementById("freshness");
  try {
    const data = await current.load();
    if (current !== view) return; // the user went elsewhere meanwhile
    const drawn = JSON.stringify(data);
    if (drawn !== lastDrawn || !document.getElementById("main").dataset.drawn) {
      lastDrawn = drawn;
      draw(data);
      document.getElementById("main").dataset.drawn = current.key;
    }
    freshness.textContent = `updated ${new Date().toLocaleTimeString()}, every ${current.every / 1000} s`;
    freshness.classList.remove("error");
  } catch (failure) {
    if (current !== view) return;
    if (!freshness.classList.contains("error")) announce(`The page is not updating: ${failure.message}`);
    freshness.textContent = `not updated: ${failure.message}`;
    freshness.classList.add("error");
    if (!document.getElementById("main").dataset.drawn) {
      document.getElementById("main").replaceChildren(el("h1", { text: current.title }),
        el("p", { class: "banner", role: "alert", text: failure.message }));
    }
  }
  tickAll();
  if (current === view) timer = setTimeout(refresh, document.hidden ? current.every * 5 : current.every);
}

function navigate() {
  view = route();
  lastDrawn = "";
  const main = document.getElementById("main");
  delete main.dataset.drawn;
  document.title = `${view.title} · lambda-promoter`;
  document.querySelectorAll("[data-nav]").forEach((a) => {
    if (a.dataset.nav === view.nav) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  });
  main.replaceChildren(el("h1", { text: view.title }), el("p", { class: "muted", text: "Loading…" }));
  main.focus({ preventScroll: true });
  refresh();
}

window.addEventListener("hashchange", navigate);
setInterval(tickAll, 1000);
navigate();
