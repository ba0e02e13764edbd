// The live view's page: one self-contained HTML file (no external resources), fed by
// server-sent events from /events (see live_view.cpp for the events).
#pragma once

namespace taskdist {

inline constexpr const char* kLivePage = R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>taskdist live</title>
<style>
body { font: 14px system-ui, sans-serif; background: #16181d; color: #e8e8e8; margin: 16px; }
h1 { font-size: 18px; margin: 0 0 8px; } h1 small { color: #9aa; font-weight: normal; }
#panels { display: flex; gap: 24px; flex-wrap: wrap; align-items: flex-start; }
.panel { background: #1f2229; border-radius: 8px; padding: 12px; flex: 1 1 420px; max-width: 640px; }
.panel h2 { font-size: 16px; margin: 0 0 6px; display: flex; justify-content: space-between; }
.clock { font-variant-numeric: tabular-nums; font-size: 28px; color: #ffd54f; }
canvas.image { width: 100%; background: #000; image-rendering: auto; display: block; }
.bar { height: 10px; background: #333; border-radius: 5px; margin: 8px 0 4px; overflow: hidden; }
.bar div { height: 100%; width: 0; background: #4a90d9; transition: width .2s; }
.status { color: #bbb; font-variant-numeric: tabular-nums; }
.strip { display: flex; gap: 2px; overflow-x: auto; margin-top: 6px; }
.strip img { height: 40px; flex: none; border: 1px solid #333; }
svg.timeline { width: 100%; background: #15171c; margin-top: 8px; border-radius: 4px; }
svg text { fill: #bbb; font-size: 11px; }
table.phases { margin-top: 8px; border-collapse: collapse; font-variant-numeric: tabular-nums; }
table.phases td { padding: 2px 10px 2px 0; } table.phases td.v { text-align: right; }
#race { font-size: 26px; margin: 12px 0; color: #ffd54f; min-height: 1em; }
a.save { color: #8ab4f8; font-size: 12px; }
.legend span { display: inline-block; margin-right: 12px; font-size: 12px; }
.legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; border-radius: 2px; }
</style></head>
<body data-state="waiting">
<h1>taskdist <small id="subtitle">waiting for a render…</small></h1>
<div id="race"></div>
<div id="panels"></div>
<div class="legend"><span><i style="background:#4a90d9"></i>rendering</span><span><i style="background:#5cb85c"></i>done</span><span><i style="background:#d9534f"></i>failed (retried)</span><span><i style="background:#8a8f98"></i>stopped copy</span></div>
<script>
"use strict";
const colours = { running: "#4a90d9", ok: "#5cb85c", failed: "#d9534f", stopped: "#8a8f98" };
let panels = {};
const el = (tag, attrs = {}, parent) => {
  const e = document.createElementNS(tag === "svg" || tag === "rect" || tag === "text" || tag === "title"
      ? "http://www.w3.org/2000/svg" : "http://www.w3.org/1999/xhtml", tag);
  for (const [k, v] of Object.entries(attrs)) k === "text" ? e.textContent = v : e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
};
const fmt = s => s.toFixed(s < 10 ? 2 : 1) + " s";

function startPanel(ev) {
  const box = el("div", { class: "panel", id: "panel-" + ev.panel, style: "order: " + ev.panel },
                 document.getElementById("panels"));
  const head = el("h2", {}, box);
  el("span", { text: `${ev.title} — ${ev.scene} ${ev.width}x${ev.height}` +
                     `${ev.frames ? ", " + ev.frames + " frames" : ""}, ${ev.slots.length} slot${ev.slots.length == 1 ? "" : "s"}` }, head);
  const clock = el("span", { class: "clock", id: "clock-" + ev.panel, text: "0.00 s" }, head);
  const canvas = el("canvas", { class: "image", width: ev.width, height: ev.height, id: "image-" + ev.panel }, box);
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#000"; ctx.fillRect(0, 0, ev.width, ev.height);
  const bar = el("div", { class: "bar" }, box); const fill = el("div", {}, bar);
  const status = el("div", { class: "status", id: "status-" + ev.panel, text: "starting…" }, box);
  // An animation: the newest finished frame above, every finished frame in a strip below.
  const strip = ev.frames ? el("div", { class: "strip", id: "strip-" + ev.panel }, box) : null;
  const svg = el("svg", { class: "timeline", id: "timeline-" + ev.panel }, box);
  panels[ev.panel] = { ev, box, clock, canvas, ctx, fill, status, svg, strip, tasks: {}, rowsOk: 0, rowsDone: 0,
                       rowsTotal: ev.height * Math.max(1, ev.frames), framesDone: 0, newest: -1,
                       elapsed: 0, at: performance.now(), done: false };
  document.getElementById("subtitle").textContent = "rendering " + ev.scene;
  document.body.dataset.state = "running";
}

function drawTimeline(p) {
  const slots = p.ev.slots, rowH = 16, left = 150, width = 600;
  const now = p.done ? p.total : p.elapsed + (performance.now() - p.at) / 1000;
  let span = Math.max(now, 0.5);
  for (const t of Object.values(p.tasks)) span = Math.max(span, t.end_s > 0 ? t.end_s : 0);
  const svg = p.svg; svg.innerHTML = "";
  svg.setAttribute("viewBox", `0 0 ${left + width + 10} ${slots.length * rowH + 18}`);
  slots.forEach((name, i) => el("text", { x: 4, y: i * rowH + 12, text: name }, svg));
  for (const t of Object.values(p.tasks)) {
    const end = t.end_s >= 0 ? t.end_s : now;
    const r = el("rect", { x: left + width * t.start_s / span, y: t.slot * rowH + 2, rx: 2,
                           width: Math.max(1, width * (end - t.start_s) / span), height: rowH - 4,
                           fill: colours[t.state] || "#555" }, svg);
    el("title", { text: `${taskRows(p, t)} on ${t.where}` +
                        `${t.copy ? " (copy)" : ""}, try ${t.attempt}: ${t.state}` +
                        `${t.outcome && t.outcome !== "ok" ? " — " + t.outcome : ""}` }, r);
  }
  el("text", { x: left, y: slots.length * rowH + 14, text: "0 s" }, svg);
  el("text", { x: left + width - 40, y: slots.length * rowH + 14, text: fmt(span) }, svg);
}

// What a task renders: rows of the image, or (an animation) frames, or rows of one frame.
function taskRows(p, t) {
  const h = p.ev.height, last = t.first_row + t.rows;
  if (!p.ev.frames) return `rows ${t.first_row + 1}-${last}`;
  const f = Math.floor(t.first_row / h), n = p.ev.frame_numbers;
  if (t.first_row % h === 0 && t.rows % h === 0) {
    return t.rows === h ? `frame ${n[f]}` : `frames ${n[f]}-${n[last / h - 1]}`;
  }
  return `frame ${n[f]} rows ${t.first_row - f * h + 1}-${last - f * h}`;
}

// Rows traced (bands in flight included), never less than the rows of finished bands.
function showProgress(p, rowsDone, eta) {
  p.rowsDone = Math.max(rowsDone, p.rowsOk);
  const share = p.rowsDone / p.rowsTotal;
  p.fill.style.width = (100 * share).toFixed(1) + "%";
  p.status.textContent = `${(100 * share).toFixed(0)}%` +
      (p.ev.frames ? ` · ${p.framesDone} of ${p.ev.frames} frames written` : "") +
      (eta >= 0 ? ` · about ${fmt(eta)} left` : share >= 1 ? " · writing the image" : "");
}

// A frame is written: the newest one fills the image, and it joins the strip in its place.
function showFrame(p, ev) {
  p.framesDone += 1;
  const url = `/frame/${ev.panel}/${ev.index}`;
  if (ev.index >= p.newest) { p.newest = ev.index; showImage(p, url, 0); }
  const img = el("img", { class: "frame", src: url, "data-index": ev.index,
                          title: `frame ${ev.number}, clock ${ev.clock.toFixed(4)}${ev.reused ? " (from an earlier run)" : ""}` });
  const after = [...p.strip.children].find(c => Number(c.dataset.index) > ev.index);
  p.strip.insertBefore(img, after || null);
  showProgress(p, p.rowsDone, -1);
}

function showImage(p, url, y, then) {
  const img = new Image();
  img.onload = () => { p.ctx.drawImage(img, 0, y); if (then) then(); };
  img.src = url;
}

function endPanel(p, ev) {
  p.done = true; p.total = ev.total_s;
  if (Object.values(panels).every(q => q.done)) document.getElementById("subtitle").textContent = "finished " + p.ev.scene;
  p.clock.textContent = fmt(ev.total_s);
  if (!ev.ok) { p.status.textContent = "stopped: " + ev.message; drawTimeline(p); return; }
  p.fill.style.width = "100%";
  p.status.textContent = "done in " + fmt(ev.total_s);
  const t = el("table", { class: "phases", id: "phases-" + ev.panel }, p.box);
  for (const [name, v] of [["first sequential part", ev.seq1_s], ["parallel part", ev.parallel_s],
                           ["second sequential part", ev.seq2_s], ["total", ev.total_s]]) {
    const tr = el("tr", {}, t); el("td", { text: name }, tr); el("td", { class: "v", text: v.toFixed(3) + " s" }, tr);
  }
  drawTimeline(p);
  if (p.ev.frames) p.status.textContent += ` · ${p.framesDone} frames`;
  showImage(p, `/image/${ev.panel}?t=${Date.now()}`, 0, () => {
    el("a", { class: "save", id: "save-" + ev.panel, download: `panel-${ev.panel}.png`,
              href: p.canvas.toDataURL("image/png"), text: "save this image" }, p.box);
    p.shown = true; checkComplete();
  });
}

let closing = false;
function checkComplete() {
  const all = Object.values(panels);
  if (all.length && all.every(p => p.shown)) document.body.dataset.state = closing ? "complete" : "shown";
}

// ?freeze=0.5: stop following once a panel is half done (a snapshot of a render in progress).
const freeze = parseFloat(new URLSearchParams(location.search).get("freeze") || "NaN");
const source = new EventSource("/events");
source.onmessage = (m) => {
  const ev = JSON.parse(m.data), p = panels[ev.panel];
  switch (ev.type) {
    case "reset":
      panels = {}; document.getElementById("panels").innerHTML = "";
      document.getElementById("race").textContent = ev.title || "";
      break;
    case "start": startPanel(ev); break;
    case "task":
      if (!p) break;
      p.tasks[ev.id] = ev;
      if (ev.state === "ok") { p.rowsOk += ev.rows; showProgress(p, p.rowsDone, -1); }
      drawTimeline(p);
      break;
    case "band":  // an animation shows whole frames as they are written, not bands
      if (p && !p.ev.frames) showImage(p, `/band/${ev.panel}/${ev.first_row}`, ev.first_row);
      break;
    case "frame": if (p && p.strip) showFrame(p, ev); break;
    case "progress":
      if (!p) break;
      p.elapsed = ev.elapsed_s; p.at = performance.now(); p.clock.textContent = fmt(ev.elapsed_s);
      showProgress(p, ev.rows_done, ev.eta_s);
      if (ev.rows_done / ev.rows_total >= freeze) {
        source.close();
        for (const q of Object.values(panels)) {
          q.total = q.elapsed + (performance.now() - q.at) / 1000; q.done = true;
          q.clock.textContent = fmt(q.total); drawTimeline(q);
        }
        document.body.dataset.state = "frozen";
      }
      break;
    case "end": if (p) endPanel(p, ev); break;
    case "race":
      document.getElementById("race").textContent =
          `${ev.scene}: one ${ev.solo_label} ${fmt(ev.solo_s)} · ${ev.team_label} ${fmt(ev.team_s)} · speedup ${ev.speedup.toFixed(2)}x`;
      break;
    case "closing": closing = true; source.close(); checkComplete(); break;
  }
};
setInterval(() => {
  for (const p of Object.values(panels)) {
    if (p.done) continue;
    p.clock.textContent = fmt(p.elapsed + (performance.now() - p.at) / 1000);
    drawTimeline(p);
  }
}, 100);
</script></body></html>
)HTML";

}  // namespace taskdist
