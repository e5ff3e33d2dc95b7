// faceid's page: enrol from a webcam selfie, make a door, unlock by answering a challenge.
// Plain JavaScript, no dependencies; every call goes to this server's /v1 API.
"use strict";

const API = "/v1";
const KEY = "faceid-key";
// Challenge timing: the recording starts with the first cue; each next cue is asked for
// when it is due; after the last, ACTION_S to do it and TAIL_S facing the camera.
const ACTION_S = 1.8;
const TAIL_S = 0.6;
const COUNTDOWN_S = 3;

const $ = (id) => document.getElementById(id);
const state = { subject: null, subjectName: "", busy: false };

const REASONS = {
  match: "Open. Welcome",
  no_match: "Locked: this face may not open this door.",
  not_live: "Locked: the camera did not see a live head turning (a photo or a screen?).",
  face_changed: "Locked: the face changed during the clip.",
  face_lost: "Locked: the face left the picture. Stay in view.",
  challenge_expired: "Locked: too slow. Ask for a new challenge.",
  challenge_used: "Locked: that challenge was already used. Ask for a new one.",
  challenge_unknown: "Locked: the challenge is not this door's. Ask for a new one.",
  "challenge_failed:turn_left": "Locked: the turn to your left was not seen when asked.",
  "challenge_failed:turn_right": "Locked: the turn to your right was not seen when asked.",
  "challenge_failed:blink": "Locked: the blink was not seen when asked.",
  "challenge_failed:extra_turn": "Locked: a turn was seen that was not asked for.",
  challenge_timing: "Locked: an action came too early or too late. Do each one as soon as it appears.",
  clip_too_long: "Locked: the clip is longer than the challenge is old (a recording?).",
  retry_slower: "Not counted: turn more slowly, so the camera can follow. Ask for a new challenge.",
  retry_closer: "Not counted: come closer to the camera. Ask for a new challenge.",
  retry_in_view: "Not counted: your face was hardly seen. Turn about 30 degrees, no further. Ask for a new challenge.",
};

const CUES = {
  turn_left: "Turn your head to YOUR LEFT, then back",
  turn_right: "Turn your head to YOUR RIGHT, then back",
  blink: "Blink once",
};

class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || "http_" + status;
    this.details = error.details || {};
  }
}

async function call(method, path, { json, form } = {}) {
  const key = sessionStorage.getItem(KEY);
  if (!key) throw new ApiError(401, { error: { code: "no_key", message: "Paste an API key first (step 1)." } });
  const headers = { Authorization: "Bearer " + key };
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
  }
  const response = await fetch(API + path, { method, headers, body });
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

function say(id, text, kind) {
  const el = $(id);
  el.textContent = text;
  el.className = el.className.replace(/\b(good|bad)\b/g, "").trim() + (kind ? " " + kind : "");
}

function sleep(seconds) { return new Promise((resolve) => setTimeout(resolve, seconds * 1000)); }

function recorderType() {
  const types = ["video/webm;codecs=vp8", "video/webm;codecs=vp9", "video/webm", "video/mp4"];
  return types.find((t) => window.MediaRecorder && MediaRecorder.isTypeSupported(t)) || "";
}

async function openCamera() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    throw new Error("This browser cannot use a camera here (it needs HTTPS or localhost).");
  }
  const stream = await navigator.mediaDevices.getUserMedia({
    video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: "user" }, audio: false,
  });
  const preview = $("preview");
  preview.scrollIntoView({ block: "start", behavior: "instant" });
  preview.srcObject = stream;
  await preview.play().catch(() => {});
  return stream;
}

function closeCamera(stream) {
  stream.getTracks().forEach((track) => track.stop());  // stopping twice is harmless
  $("preview").srcObject = null;
}

async function countdown(seconds, cue) {
  say("cue", cue);
  for (let left = seconds; left > 0; left -= 1) {
    $("countdown").textContent = String(left);
    await sleep(1);
  }
  $("countdown").textContent = "";
}

// Record `seconds` of `stream`; `timeline` is a list of [at_s, cue, onCue] shown as it goes.
async function record(stream, seconds, timeline) {
  const type = recorderType();
  const recorder = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
  const chunks = [];
  recorder.ondataavailable = (event) => { if (event.data.size) chunks.push(event.data); };
  const stopped = new Promise((resolve, reject) => {
    recorder.onstop = resolve;
    recorder.onerror = (event) => reject(event.error || new Error("The recording failed."));
  });
  const started = performance.now();
  const timers = [];
  let tick = null;
  try {
    recorder.start(200);
    for (const [at, cue, onCue] of timeline) {
      timers.push(setTimeout(() => { say("cue", cue); if (onCue) onCue(); }, at * 1000));
    }
    tick = setInterval(() => {
      const left = Math.max(0, seconds - (performance.now() - started) / 1000);
      $("countdown").textContent = left.toFixed(1) + " s";
    }, 100);
    await Promise.race([sleep(seconds), stopped]);
    if (recorder.state !== "inactive") recorder.stop();
    await stopped;
  } finally {
    if (recorder.state !== "inactive") recorder.stop();
    clearInterval(tick);
    timers.forEach(clearTimeout);
    $("countdown").textContent = "";
  }
  const mime = recorder.mimeType || type || "video/webm";
  return { blob: new Blob(chunks, { type: mime }), name: mime.includes("mp4") ? "clip.mp4" : "clip.webm" };
}

// While one step runs (recording, uploading), every action waits.
function busy(on) {
  state.busy = on;
  for (const id of ["enrol", "grant", "unlock"]) $(id).disabled = on || !ready(id);
  for (const form of ["subject-form", "lock-form"]) {
    $(form).querySelector("button").disabled = on;
  }
}

function ready(id) {
  if (id === "enrol") return Boolean(state.subject);
  if (id === "grant") return Boolean(state.subject && $("lock-id").value.trim());
  return Boolean($("lock-id").value.trim());
}

// Record `stream` while showing a challenge's cues, each at its time: the recording starts
// with the first cue, each next one is asked for (GET `showUrl`) when it is due.
async function recordChallenge(stream, showUrl, challenge, stepsList) {
  const type = recorderType();
  const recorder = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
  const chunks = [];
  recorder.ondataavailable = (event) => { if (event.data.size) chunks.push(event.data); };
  const stopped = new Promise((resolve, reject) => {
    recorder.onstop = resolve;
    recorder.onerror = (event) => reject(event.error || new Error("The recording failed."));
  });
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  const items = [];
  const mark = (n) => items.forEach((item, i) => {
    item.className = i < n ? "done" : i === n ? "now" : "";
    if (i === n) item.setAttribute("aria-current", "step"); else item.removeAttribute("aria-current");
  });
  stepsList.replaceChildren();
  let current = challenge;
  let asked = 0;
  const showNext = () => {
    const cue = current.cues[items.length];
    const item = document.createElement("li");
    item.textContent = CUES[cue.action] || cue.instruction;
    items.push(item);
    stepsList.append(item);
    mark(items.length - 1);
    say("cue", `${items.length} of ${current.count}: ${CUES[cue.action] || cue.instruction}`);
  };
  try {
    recorder.start(200);
    while (true) {
      while (items.length < current.cues.length && current.cues[items.length].at_s <= elapsed()) showNext();
      if (items.length >= current.count) break;
      const known = items.length < current.cues.length;
      const nextAt = known ? current.cues[items.length].at_s : asked + Math.max(current.next_cue_in_s ?? 0.2, 0.05);
      await sleep(Math.max(0, nextAt - elapsed()));
      if (!known) {
        current = await call("GET", showUrl);
        asked = elapsed();
      }
    }
    const last = current.cues[current.cues.length - 1].at_s;
    await sleep(Math.max(0, last + ACTION_S - elapsed()));
    say("cue", "Look at the camera");
    mark(items.length);
    await sleep(TAIL_S);
    if (recorder.state !== "inactive") recorder.stop();
    await stopped;
  } finally {
    if (recorder.state !== "inactive") recorder.stop();
  }
  const mime = recorder.mimeType || type || "video/webm";
  return { blob: new Blob(chunks, { type: mime }), name: mime.includes("mp4") ? "clip.mp4" : "clip.webm" };
}

// Ask for a challenge at `challengeUrl` once the person is ready, show its cues as they
// come while recording, post the clip.
async function answerChallenge(challengeUrl, postUrl, stepsList) {
  const stream = await openCamera();
  try {
    await countdown(COUNTDOWN_S, "Get ready: look at the camera, then do each action as it appears");
    const challenge = await call("POST", challengeUrl);
    const showUrl = `${challengeUrl}/${encodeURIComponent(challenge.challenge_id)}`;
    const clip = await recordChallenge(stream, showUrl, challenge, stepsList);
    closeCamera(stream);
    say("cue", "Checking…");
    const form = new FormData();
    form.append("video", clip.blob, clip.name);
    form.append("challenge_id", challenge.challenge_id);
    return await call("POST", postUrl, { form });
  } finally {
    closeCamera(stream);
  }
}

function adviceList(report) {
  const list = document.createElement("ul");
  for (const item of (report && report.advice) || []) {
    const li = document.createElement("li");
    li.textContent = item.message;
    list.append(li);
  }
  return list;
}

function showEnrolment(report, error) {
  const box = $("enrol-report");
  const head = document.createElement("p");
  if (error) {
    head.className = "bad";
    const reasons = (error.details && error.details.reasons) || [];
    head.textContent = error.code === "enrollment_rejected"
      ? "Not enrolled: " + reasons.join("; ") + "."
      : `Not enrolled: ${error.message}`;
    report = error.details && error.details.report;
  } else {
    head.className = "good";
    head.textContent = `Enrolled: ${report.templates.length} face(s) kept from ${report.frames_sampled} frames.`;
  }
  const parts = [head];
  if (report && report.advice && report.advice.length) {
    const intro = document.createElement("p");
    intro.textContent = error ? "What to change:" : "To do better next time:";
    parts.push(intro, adviceList(report));
  } else if (!error) {
    const fine = document.createElement("p");
    fine.textContent = "Good light, one face, steady.";
    parts.push(fine);
  }
  box.replaceChildren(...parts);
}

async function enrol() {
  const seconds = Number($("enrol-seconds").value);
  const path = `/subjects/${encodeURIComponent(state.subject)}`;
  let stream = null;
  try {
    stream = await openCamera();
    await countdown(COUNTDOWN_S, "Look at the camera and hold still");
    const clip = await record(stream, seconds, [[0, "Recording: look at the camera"]]);
    closeCamera(stream);
    stream = null;
    say("cue", "Checking…");
    const form = new FormData();
    form.append("video", clip.blob, clip.name);
    try {
      showEnrolment(await call("POST", path + "/enrollments", { form }));
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== "liveness_required") throw error;
      say("cue", "This service enrols live faces only: answer a challenge.");
      showEnrolment(await answerChallenge(path + "/challenges", path + "/enrollments", $("steps")));
    }
    say("cue", "");
  } catch (error) {
    if (stream) closeCamera(stream);
    say("cue", "");
    showEnrolment(null, error instanceof ApiError ? error : { message: error.message });
  }
}

async function unlock() {
  const lock = encodeURIComponent($("lock-id").value.trim());
  say("verdict", "");
  try {
    const result = await answerChallenge(`/locks/${lock}/challenges`, `/locks/${lock}/unlock`, $("steps"));
    say("cue", "");
    if (result.verdict === "unlock") {
      const name = result.subject && result.subject.name ? ", " + result.subject.name : "";
      say("verdict", `${REASONS.match}${name}.`, "good");
    } else {
      say("verdict", REASONS[result.reason] || "Locked: " + result.reason, "bad");
    }
  } catch (error) {
    say("cue", "");
    const text = error instanceof ApiError ? `${error.message} (${error.code})` : error.message;
    say("verdict", "Locked: " + text, "bad");
  }
}

function guard(button, action) {
  return async (event) => {
    if (event) event.preventDefault();
    busy(true);
    try { await action(); } finally { busy(false); }
    if (button) button.focus();
  };
}

function init() {
  if (sessionStorage.getItem(KEY)) say("key-status", "A key is set for this tab.");
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY, $("key").value.trim());
    $("key").value = "";
    say("key-status", "Key set for this tab.");
  });
  $("subject-form").addEventListener("submit", guard(null, async () => {
    const name = $("subject-name").value.trim();
    try {
      const subject = await call("POST", "/subjects", { json: { name } });
      state.subject = subject.id;
      state.subjectName = subject.name;
      $("subject-id").textContent = `${subject.name} (${subject.id})`;
    } catch (error) {
      $("subject-id").textContent = "not created: " + error.message;
    }
  }));
  $("lock-form").addEventListener("submit", guard(null, async () => {
    try {
      const lock = await call("POST", "/locks", { json: { name: $("lock-name").value.trim() } });
      $("lock-id").value = lock.id;
      say("lock-status", `Door "${lock.name}" created (liveness: ${lock.liveness}).`, "good");
    } catch (error) {
      say("lock-status", "Door not created: " + error.message, "bad");
    }
  }));
  $("lock-id").addEventListener("input", () => busy(state.busy));
  $("enrol").addEventListener("click", guard($("enrol"), enrol));
  $("grant").addEventListener("click", guard($("grant"), async () => {
    const lock = encodeURIComponent($("lock-id").value.trim());
    try {
      await call("PUT", `/locks/${lock}/grants/${encodeURIComponent(state.subject)}`);
      say("lock-status", `${state.subjectName} may open this door.`, "good");
    } catch (error) {
      say("lock-status", "Not granted: " + error.message, "bad");
    }
  }));
  $("unlock").addEventListener("click", guard($("unlock"), unlock));
  busy(false);
}

document.addEventListener("DOMContentLoaded", init);
