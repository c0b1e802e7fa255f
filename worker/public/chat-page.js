// chat-page.js drives index.html: it picks the room from the path (/ is the
// lobby, /r/{room} any other), asks for a name once (kept in localStorage),
// and renders what a ChatClient reports. Every piece of user text goes into
// the page through textContent, never as HTML.
import { ChatClient } from "/chat-client.js";

const NAME_KEY = "gochat.userId";
const ROOM_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_CHARS = 4096; // the server's MAX_MESSAGE_CHARS; the server decides
const MAX_ERRORS = 4;

const $ = (id) => document.getElementById(id);
const ui = {
  status: $("status"),
  roomTitle: $("room-title"),
  nameForm: $("name-form"),
  nameInput: $("name-input"),
  chat: $("chat"),
  roomForm: $("room-form"),
  roomInput: $("room-input"),
  people: $("people"),
  peopleCount: $("people-count"),
  me: $("me"),
  changeName: $("change-name"),
  messages: $("messages"),
  errors: $("errors"),
  compose: $("compose"),
  input: $("message-input"),
  counter: $("counter"),
};

const token = new URLSearchParams(location.search).get("token") || undefined;
let client = null;
let userId = (token && tokenUser(token)) || readName();

// roomFromPath maps / to the lobby and /r/{room} to room; anything else is
// reported and treated as the lobby.
function roomFromPath(pathname) {
  if (pathname === "/" || pathname === "") return "lobby";
  const m = /^\/r\/([^/]+)\/?$/.exec(pathname);
  let name = null;
  if (m) {
    try { name = decodeURIComponent(m[1]); } catch { name = null; }
  }
  if (name !== null && ROOM_NAME.test(name)) return name;
  showError({ code: "invalid_room", message: "Room names are 1–64 letters, digits, _ or -. Showing the lobby instead." });
  return "lobby";
}

function pathForRoom(room) {
  const path = room === "lobby" ? "/" : `/r/${room}`;
  return token ? `${path}?token=${encodeURIComponent(token)}` : path;
}

function readName() {
  try { return localStorage.getItem(NAME_KEY) || null; } catch { return null; }
}

function saveName(name) {
  try { localStorage.setItem(NAME_KEY, name); } catch { /* private mode: keep it for this tab only */ }
}

// --- rendering ---

const STATUS_TEXT = {
  idle: "Not connected",
  connecting: "Connecting…",
  open: "Connected",
  reconnecting: "Reconnecting…",
  closed: "Disconnected",
};

function setStatus({ status, attempt, delayMs }) {
  ui.status.dataset.status = status;
  let text = STATUS_TEXT[status] ?? status;
  if (status === "reconnecting" && attempt > 1) text = `Reconnecting… (try ${attempt})`;
  ui.status.textContent = text;
  if (status === "reconnecting" && attempt === 3) diagnose();
}

// diagnose asks the room's HTTP endpoint why connecting keeps failing: a
// browser is not told the status of a refused WebSocket upgrade, but a 401 or
// 403 here (no token, a bad or expired one) has the same cause.
async function diagnose() {
  const c = client;
  if (!c) return;
  const url = new URL(`/api/rooms/${c.room}`, location.href);
  if (token) url.searchParams.set("token", token);
  try {
    const res = await fetch(url);
    if (c !== client || (res.status !== 401 && res.status !== 403)) return;
    const body = await res.json().catch(() => ({}));
    showError({ code: "forbidden", message: body.message || `the server answered ${res.status}` });
  } catch { /* offline: the status already says so */ }
}

// tokenUser is the "sub" of a JWT, read without verifying it (the server
// does): with a token the user is who the token says.
function tokenUser(jwt) {
  try {
    const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = new TextDecoder().decode(Uint8Array.from(atob(part), (ch) => ch.charCodeAt(0)));
    const sub = JSON.parse(json).sub;
    return typeof sub === "string" && sub ? sub : null;
  } catch {
    return null;
  }
}

function localTime(ts) {
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return null;
  return d;
}

function messageItem(m) {
  const li = document.createElement("li");
  li.className = "msg";
  li.dataset.id = String(m.id);
  const own = m.userId === userId;
  if (own) li.classList.add("own");

  const meta = document.createElement("div");
  meta.className = "meta";
  const author = document.createElement("span");
  author.className = "author";
  author.textContent = own ? `${m.userId} (you)` : m.userId;
  meta.append(author);
  const d = localTime(m.timestamp);
  if (d) {
    const time = document.createElement("time");
    time.dateTime = d.toISOString();
    time.title = d.toLocaleString();
    time.textContent = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    meta.append(time);
  }
  const text = document.createElement("p");
  text.className = "text";
  text.textContent = m.text;
  li.append(meta, text);
  return li;
}

function notice(text) {
  const li = document.createElement("li");
  li.className = "notice";
  li.textContent = text;
  return li;
}

// append adds items and keeps the view pinned to the bottom if it was there.
function append(...items) {
  const list = ui.messages;
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.append(...items);
  if (atBottom) list.scrollTop = list.scrollHeight;
}

function renderPeople(users, count) {
  const items = users.map((u) => {
    const li = document.createElement("li");
    li.textContent = u;
    if (u === userId) li.classList.add("own");
    return li;
  });
  if (count !== undefined) {
    // A large room sends only how many are here.
    const li = document.createElement("li");
    li.textContent = `${count} people; the list is not shown in large rooms`;
    items.push(li);
  }
  ui.people.replaceChildren(...items);
  ui.peopleCount.textContent = `(${count ?? users.length})`;
}

const ERROR_TEXT = {
  rate_limited: (e) => `You are sending too fast${e.retryAfterMs ? `; try again in ${Math.ceil(e.retryAfterMs / 1000)} s` : ""}.`,
  message_too_long: () => `That message is too long: the limit is ${MAX_CHARS} characters.`,
  content_blocked: () => "That message was blocked.",
  forbidden: (e) => `Not allowed${e.message ? ` (${e.message})` : ""}. This chat may need a valid link with ?token=.`,
  invalid_user_id: () => "That name can't be used. Pick another one.",
  queue_full: () => "Not connected, and too many messages are waiting. This one was not sent.",
  not_sent: () => "Some messages were not sent before leaving.",
  unconfirmed: () => "The connection dropped; some messages may not have been sent.",
  storage_unavailable: () => "The room could not reach its storage. Trying again.",
};

function showError(err) {
  const box = document.createElement("div");
  box.className = "error";
  box.dataset.code = err.code;
  const p = document.createElement("p");
  p.style.margin = "0";
  const friendly = ERROR_TEXT[err.code]?.(err) ?? (err.message || err.code);
  p.textContent = friendly;
  const texts = err.text !== undefined ? [err.text] : err.texts ?? [];
  if (texts.length) {
    const what = document.createElement("span");
    what.className = "unsent";
    const shown = texts.map((t) => (t.length > 60 ? `${t.slice(0, 60)}…` : t)).join("”, “");
    what.textContent = ` Not sent: “${shown}”`;
    p.append(what);
  }
  const close = document.createElement("button");
  close.type = "button";
  close.textContent = "×";
  close.setAttribute("aria-label", "Dismiss");
  close.addEventListener("click", () => box.remove());
  box.append(p, close);
  ui.errors.append(box);
  while (ui.errors.children.length > MAX_ERRORS) ui.errors.firstElementChild.remove();
}

function updateCounter() {
  const n = [...ui.input.value].length;
  ui.counter.textContent = n > MAX_CHARS * 0.8 ? `${n} / ${MAX_CHARS}` : "";
  ui.counter.classList.toggle("over", n > MAX_CHARS);
}

// --- wiring ---

function start(room) {
  client?.close();
  client = null;
  ui.messages.replaceChildren();
  ui.errors.replaceChildren();
  renderPeople([]);
  ui.roomTitle.textContent = room === "lobby" ? "· lobby" : `· ${room}`;
  document.title = `${room} · gochat`;
  ui.roomInput.value = room;
  ui.me.textContent = userId;

  const c = new ChatClient({ room, userId, token, baseUrl: location.href });
  client = c;
  c.on("status", setStatus);
  c.on("history", ({ messages, truncated, resumed, reset }) => {
    if (!resumed || reset) ui.messages.replaceChildren();
    if (truncated && !resumed) append(notice("Older messages are not shown."));
    if (truncated && resumed) append(notice("Some messages from while you were away are not shown."));
    append(...messages.map(messageItem));
  });
  c.on("message", (m) => append(messageItem(m)));
  c.on("presence", ({ users, joined, left, count, truncated }) => {
    renderPeople(users, truncated ? count : undefined);
    if (joined && joined !== userId) append(notice(`${joined} joined`));
    if (left) append(notice(`${left} left`));
  });
  c.on("error", (err) => {
    showError(err);
    // A refused message goes back into an empty box, ready to fix and resend.
    if (typeof err.text === "string" && ui.input.value === "") {
      ui.input.value = err.text;
      updateCounter();
    }
    if (err.code === "invalid_user_id") askName();
  });
  c.connect();
}

function askName() {
  client?.close();
  client = null;
  ui.chat.hidden = true;
  ui.nameForm.hidden = false;
  ui.nameInput.value = userId ?? "";
  ui.nameInput.focus();
}

ui.nameForm.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const name = ui.nameInput.value.trim();
  if (!name) return;
  userId = name;
  saveName(name);
  ui.nameForm.hidden = true;
  ui.chat.hidden = false;
  start(roomFromPath(location.pathname));
  ui.input.focus();
});

ui.changeName.addEventListener("click", askName);
// With a token the identity is the token's: there is no name to change.
ui.changeName.hidden = Boolean(token && tokenUser(token));

ui.roomForm.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const room = ui.roomInput.value.trim();
  if (!ROOM_NAME.test(room)) {
    showError({ code: "invalid_room", message: "Room names are 1–64 letters, digits, _ or -." });
    return;
  }
  if (room === client?.room) return;
  history.pushState(null, "", pathForRoom(room));
  start(room);
  ui.input.focus();
});

window.addEventListener("popstate", () => {
  if (userId) start(roomFromPath(location.pathname));
});

ui.compose.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const text = ui.input.value;
  if (!text.trim() || !client) return;
  if (client.send(text)) {
    ui.input.value = "";
    updateCounter();
  }
});

ui.input.addEventListener("keydown", (ev) => {
  // Enter sends; Shift+Enter adds a line; Enter while composing (IME) does neither.
  if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
    ev.preventDefault();
    ui.compose.requestSubmit();
  }
});
ui.input.addEventListener("input", updateCounter);

window.addEventListener("pagehide", () => client?.close());
// A page restored from the back/forward cache had its client closed above.
window.addEventListener("pageshow", (ev) => {
  if (ev.persisted && userId) start(roomFromPath(location.pathname));
});

if (userId) {
  ui.chat.hidden = false;
  start(roomFromPath(location.pathname));
} else {
  askName();
}
