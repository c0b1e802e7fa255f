// chat-page.js drives index.html: it picks the room from the path (/ is the
// lobby, /r/{room} any other), asks for a name once (kept in localStorage),
// and renders what a ChatClient reports. Every piece of user text goes into
// the page through textContent, never as HTML, and inside a bidi isolate
// (<bdi> or dir="auto"), so a right-to-left name or an U+202E cannot reorder
// the text around it.
//
// A sign-in link carries a token as #token= (best: a fragment never reaches
// a server) or ?token=. The page takes it out of the address bar at once,
// keeps it in sessionStorage for this tab, and never puts it into another
// URL: the socket gets it as a subprotocol and the HTTP API as an
// Authorization header.
//
// Your own messages have a menu (a button with aria-haspopup; arrows move,
// Escape closes) with Edit and Delete; a token whose role is moderator or
// service gets Delete on everyone's. Editing happens in place (Enter saves,
// Escape cancels); an edited message says "(edited)", with the time as its
// title. A deleted message disappears, as it is simply absent from any later
// history.
//
// Moderation: a token whose role is moderator or service gets, next to each
// user in the list, a "Moderate" button (a disclosure) that opens Kick, Mute
// and Ban (each for 10 minutes, 1 hour, 1 day or until lifted) with an
// optional reason, and in the side bar a slow mode control and the list of
// bans in force, each with Unban. Everyone sees moderation as system lines
// in the conversation ("bob was banned by mod"), a notice when they are
// kicked (with a Rejoin button: the client does not reconnect by itself),
// banned (until when; remembered in localStorage, since a browser is not told
// why a refused upgrade failed, so a reload shows it again) or muted, and
// slow mode under the composer, with a countdown after a refusal.
//
// Live signals: typing in the composer tells the others (the client
// throttles it), and who is typing shows above it ("alice is typing…") in a
// polite live region. A join with unread messages puts a "new messages"
// divider above the first of them (not on a first visit, with nothing read
// yet), and while the tab is hidden the title counts what is unread.
// Messages are marked read as they come into view (an IntersectionObserver
// on the list) while the tab is visible and focused, and up to each message
// of ours when it arrives. Under each message, where others have read up to
// ("Seen by bob"), and its reactions as chips with counts (a toggle button
// each, aria-pressed when one is yours) and a small picker (a menu button:
// arrows move, Escape closes).
import { ChatClient } from "/chat-client.js";

const NAME_KEY = "gochat.userId";
const TOKEN_KEY = "gochat.token";
const ROOM_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_CHARS = 4096; // the server's MAX_MESSAGE_CHARS; the server decides
const MAX_ERRORS = 4;
const BAN_KEY = "gochat.ban."; // + room: {userId, until, by, reason} of our ban there
const DURATIONS = [["600", "10 minutes"], ["3600", "1 hour"], ["86400", "1 day"], ["", "until lifted"]];
const SLOW_CHOICES = [[0, "Off"], [5, "5 seconds"], [10, "10 seconds"], [30, "30 seconds"], [60, "1 minute"], [300, "5 minutes"]];
const MOD_ACTIONS = new Set(["kick", "ban", "unban", "mute", "unmute", "slow_mode"]);
const PICKER = [["👍", "thumbs up"], ["❤️", "heart"], ["😂", "laughing"], ["🎉", "party"], ["😮", "surprised"], ["😢", "sad"]];
const SEEN_NAMES = 3; // "Seen by a, b, c"; more is "Seen by 5 people"

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
  send: $("send-button"),
  modTools: $("mod-tools"),
  slowForm: $("slow-form"),
  slowSelect: $("slow-select"),
  bans: $("bans"),
  modNotice: $("mod-notice"),
  slowMode: $("slow-mode"),
  announcer: $("announcer"),
  typing: $("typing"),
};

// takeToken moves a token from the address bar (#token= or ?token=) into
// sessionStorage, leaving the rest of the URL as it was, and returns the
// token of this tab, if any.
function takeToken() {
  const url = new URL(location.href);
  const hash = new URLSearchParams(url.hash.slice(1));
  const fromHash = hash.get("token");
  const fromQuery = url.searchParams.get("token");
  if (hash.has("token") || url.searchParams.has("token")) {
    if (url.searchParams.has("token")) url.searchParams.delete("token");
    if (hash.has("token")) {
      hash.delete("token");
      const rest = hash.toString();
      url.hash = rest ? `#${rest}` : "";
    }
    history.replaceState(history.state, "", `${url.pathname}${url.search}${url.hash}`);
  }
  const fresh = fromHash || fromQuery;
  if (fresh) {
    try { sessionStorage.setItem(TOKEN_KEY, fresh); } catch { /* storage off: this page view only */ }
    return fresh;
  }
  try { return sessionStorage.getItem(TOKEN_KEY) || undefined; } catch { return undefined; }
}

let token = takeToken();
let client = null;
let userId = (token && tokenUser(token)) || readName();
let role = token ? tokenClaims(token)?.role : undefined;

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

// pathForRoom never carries the token: the next page view finds it in
// sessionStorage.
function pathForRoom(room) {
  return room === "lobby" ? "/" : `/r/${room}`;
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

function setStatus({ status, attempt, reason }) {
  ui.status.dataset.status = status;
  let text = STATUS_TEXT[status] ?? status;
  if (status === "reconnecting" && attempt > 1) text = `Reconnecting… (try ${attempt})`;
  if (status === "closed" && reason === "kicked") text = "Removed";
  if (status === "closed" && reason === "banned") text = "Banned";
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
  try {
    const res = await fetch(url, { headers: token ? { Authorization: `Bearer ${token}` } : {}, cache: "no-store" });
    if (c !== client || (res.status !== 401 && res.status !== 403)) return;
    const body = await res.json().catch(() => ({}));
    showError({ code: "forbidden", message: body.message || `the server answered ${res.status}` });
  } catch { /* offline: the status already says so */ }
}

// tokenClaims is the payload of a JWT, read without verifying it (the
// server does), or null.
function tokenClaims(jwt) {
  try {
    const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = new TextDecoder().decode(Uint8Array.from(atob(part), (ch) => ch.charCodeAt(0)));
    const claims = JSON.parse(json);
    return claims && typeof claims === "object" ? claims : null;
  } catch {
    return null;
  }
}

// tokenUser is the "sub" of a JWT: with a token the user is who the token says.
function tokenUser(jwt) {
  const sub = tokenClaims(jwt)?.sub;
  return typeof sub === "string" && sub ? sub : null;
}

// canModerate says whether the token's role may delete anyone's message.
// It only decides which buttons show: the server checks every request.
const canModerate = () => role === "moderator" || role === "service";

// bdi wraps user text in a bidi isolate.
function bdi(text) {
  const el = document.createElement("bdi");
  el.textContent = text;
  return el;
}

// clip shortens text to at most n user-perceived characters (grapheme
// clusters), so an emoji ZWJ sequence or a flag is never cut in half.
const graphemes = typeof Intl !== "undefined" && Intl.Segmenter
  ? (t) => Array.from(new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(t), (s) => s.segment)
  : (t) => Array.from(t);
function clip(text, n) {
  if (text.length <= n) return text;
  const g = graphemes(text);
  return g.length > n ? `${g.slice(0, n).join("")}…` : text;
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
  author.append(bdi(m.userId));
  if (own) author.append(" (you)");
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
  text.dir = "auto";
  text.textContent = m.text;
  li.append(meta, text);
  if (m.editedAt) markEdited(li, m.editedAt);
  if (own || canModerate()) meta.append(actionsMenu(li, { edit: own }));
  li.append(reactionBar(li));
  renderReactions(li, m.reactions ?? []);
  readObserver?.observe(li);
  return li;
}

// markEdited adds (or updates) the "(edited)" mark, with the time as its title.
function markEdited(li, editedAt) {
  let mark = li.querySelector(".meta .edited");
  if (!mark) {
    mark = document.createElement("time");
    mark.className = "edited";
    mark.textContent = "(edited)";
    const actions = li.querySelector(".meta .actions");
    if (actions) actions.before(mark);
    else li.querySelector(".meta").append(mark);
  }
  const d = localTime(editedAt);
  if (d) mark.dateTime = d.toISOString();
  mark.title = d ? `Edited ${d.toLocaleString()}` : "Edited";
}

const findMessage = (id) => ui.messages.querySelector(`:scope > .msg[data-id="${Number(id)}"]`);

// --- reactions ---

// reactionBar is the row under a message: its chips, then the picker.
function reactionBar(li) {
  const bar = document.createElement("div");
  bar.className = "reactions";
  bar.setAttribute("role", "group");
  bar.setAttribute("aria-label", "Reactions");
  bar.append(reactionPicker(li));
  return bar;
}

// renderReactions shows reactions ([{emoji, count, users, mine}]) as chips,
// updating the ones already there in place so that a focused chip keeps
// the focus.
function renderReactions(li, reactions) {
  const bar = li.querySelector(":scope > .reactions");
  if (!bar) return;
  const picker = bar.querySelector(":scope > .picker");
  const old = new Map([...bar.querySelectorAll(":scope > .chip")].map((b) => [b.dataset.emoji, b]));
  const chips = reactions.filter((r) => r.count > 0).map((r) => {
    let b = old.get(r.emoji);
    old.delete(r.emoji);
    if (!b) {
      b = document.createElement("button");
      b.type = "button";
      b.className = "chip";
      b.dataset.emoji = r.emoji;
      const emoji = document.createElement("span");
      emoji.className = "emoji";
      emoji.textContent = r.emoji;
      const count = document.createElement("span");
      count.className = "count";
      b.append(emoji, count);
      b.addEventListener("click", () => client?.react(Number(li.dataset.id), r.emoji));
    }
    b.querySelector(".count").textContent = String(r.count);
    b.setAttribute("aria-pressed", String(r.mine === true));
    const others = r.count - r.users.length;
    const who = [...r.users.map((u) => (u === userId ? "you" : u)), ...(others > 0 ? [`${others} more`] : [])].join(", ");
    b.title = who;
    b.setAttribute("aria-label", `${r.emoji} ${r.count}: ${who}`);
    return b;
  });
  const focused = [...old.values()].some((b) => b.contains(document.activeElement));
  for (const b of old.values()) b.remove();
  // In the order the reactions came in, moving no chip already in place.
  for (let i = 0; i < chips.length; i++) {
    if (bar.children[i] !== chips[i]) bar.insertBefore(chips[i], bar.children[i]);
  }
  bar.dataset.count = String(chips.length);
  if (focused) picker.querySelector(".menu-button").focus();
}


// reactionPicker is a menu button whose menu holds a few common emoji.
function reactionPicker(li) {
  const { box, menu, item } = menuButton({
    boxClass: "picker", buttonClass: "add-reaction", text: "☺+", label: "Add reaction",
    menuClass: "emoji-menu", idPrefix: "reaction-menu", horizontal: true,
  });
  for (const [emoji, name] of PICKER) {
    const b = item(emoji, () => client?.react(Number(li.dataset.id), emoji));
    b.title = name;
    b.setAttribute("aria-label", `React with ${name}`);
    b.dataset.emoji = emoji;
    menu.append(b);
  }
  return box;
}

function onReaction({ messageId, reactions }) {
  const li = findMessage(messageId);
  if (li && reactions) renderReactions(li, reactions);
}

// --- typing, reads and the unread count ---

// renderTyping says who is typing, names in bidi isolates.
function renderTyping(users) {
  const el = ui.typing;
  if (users.length === 0) el.replaceChildren();
  else if (users.length === 1) el.replaceChildren(bdi(users[0]), " is typing…");
  else if (users.length === 2) el.replaceChildren(bdi(users[0]), " and ", bdi(users[1]), " are typing…");
  else el.replaceChildren("several people are typing…");
}

let readUpTo = 0; // the highest message id we have read (the room's lastRead, or seen here)
let offscreenUnread = 0; // unread messages from the join that are not in the list
let unreadCapped = false;
let dividerDue = false; // a fresh history came; its read_state places the divider
let othersRead = new Map(); // userId -> the highest message id they read
let visibleIds = new Set(); // message ids in view
let baseTitle = "gochat";

// Messages count as seen when at least half of one (or half the list's
// height, for a long one) is in view.
const readObserver = typeof IntersectionObserver === "function" ? new IntersectionObserver((entries) => {
  for (const e of entries) {
    const id = Number(e.target.dataset.id);
    const half = e.intersectionRatio >= 0.5 || (e.rootBounds && e.intersectionRect.height >= e.rootBounds.height / 2);
    if (e.isIntersecting && half && e.target.isConnected) visibleIds.add(id);
    else visibleIds.delete(id);
  }
  markVisibleRead();
}, { root: ui.messages, threshold: [0, 0.25, 0.5, 0.75, 1] }) : null;

const looking = () => document.visibilityState === "visible" && document.hasFocus();

// markVisibleRead marks read up to the newest message in view, while the
// tab is visible and focused.
function markVisibleRead() {
  if (!client || client.status !== "open" || !looking() || visibleIds.size === 0) return;
  const id = Math.max(...visibleIds);
  if (id > readUpTo) {
    readUpTo = id;
    client.markRead(id);
  }
  updateTitle();
}

// unreadCount is how many messages of others we have not read: those in the
// list above our read position, and those of the join not in the list.
// It says "1000+" while the room's capped count is part of it.
function unreadCount() {
  let n = 0;
  let first = Infinity;
  for (const li of ui.messages.querySelectorAll(":scope > .msg")) {
    const id = Number(li.dataset.id);
    first = Math.min(first, id);
    if (id > readUpTo && !li.classList.contains("own")) n++;
  }
  const offscreen = first > readUpTo && offscreenUnread > 0;
  if (offscreen) n += offscreenUnread;
  return n > 0 ? `${n}${offscreen && unreadCapped ? "+" : ""}` : "";
}

function updateTitle() {
  const n = document.visibilityState === "hidden" ? unreadCount() : "";
  document.title = n ? `(${n}) ${baseTitle}` : baseTitle;
}

function onReadState({ lastRead, unread, capped }) {
  readUpTo = Math.max(readUpTo, lastRead);
  if (dividerDue) {
    dividerDue = false;
    const shown = [...ui.messages.querySelectorAll(":scope > .msg")].filter((li) => Number(li.dataset.id) > lastRead);
    offscreenUnread = Math.max(0, unread - shown.length);
    unreadCapped = capped === true;
    // lastRead 0 is a first visit: the room counts every message as
    // unread, but nothing is new since last time, so there is no divider
    // (and the list stays at the bottom rather than jump to the top).
    if (unread > 0 && shown.length && lastRead > 0) {
      const li = document.createElement("li");
      li.className = "unread-divider";
      li.id = "unread-divider";
      li.textContent = `${unread}${capped ? "+" : ""} new message${unread === 1 ? "" : "s"}`;
      shown[0].before(li);
      const list = ui.messages;
      if (list.scrollHeight > list.clientHeight) li.scrollIntoView({ block: "start" });
    }
  }
  updateTitle();
  markVisibleRead();
}

function onRead({ userId: who, id }) {
  if (who === userId) {
    // Read in another tab of ours.
    readUpTo = Math.max(readUpTo, id);
    updateTitle();
    return;
  }
  othersRead.set(who, Math.max(othersRead.get(who) ?? 0, id));
  renderSeen();
}

// renderSeen puts "Seen by ..." under the newest message each other user
// has read up to.
function renderSeen() {
  for (const el of ui.messages.querySelectorAll(":scope > .msg > .seen")) el.remove();
  const items = [...ui.messages.querySelectorAll(":scope > .msg")];
  if (!items.length) return;
  const at = new Map(); // li -> users
  for (const [who, id] of [...othersRead].sort(([a], [b]) => (a < b ? -1 : 1))) {
    let target = null;
    for (const li of items) if (Number(li.dataset.id) <= id) target = li;
    if (!target) continue;
    if (!at.has(target)) at.set(target, []);
    at.get(target).push(who);
  }
  for (const [li, users] of at) {
    const p = document.createElement("p");
    p.className = "seen";
    if (users.length > SEEN_NAMES) p.append(`Seen by ${users.length} people`);
    else {
      p.append("Seen by ");
      users.forEach((u, i) => p.append(...(i ? [", "] : []), bdi(u)));
    }
    p.title = users.join(", ");
    li.append(p);
  }
}

// loadReads asks the room how far the users present have read.
async function loadReads() {
  const c = client;
  if (!c) return;
  try {
    const res = await fetch(new URL(`/api/rooms/${c.room}`, location.href), {
      headers: token ? { Authorization: `Bearer ${token}` } : {}, cache: "no-store", credentials: "omit",
    });
    if (c !== client || !res.ok) return;
    const body = await res.json();
    if (!body?.reads || typeof body.reads !== "object") return;
    for (const [who, id] of Object.entries(body.reads)) {
      if (who === userId || !Number.isSafeInteger(id)) continue;
      othersRead.set(who, Math.max(othersRead.get(who) ?? 0, id));
    }
    renderSeen();
  } catch { /* offline: the events still come */ }
}

document.addEventListener("visibilitychange", () => {
  updateTitle();
  markVisibleRead();
});
window.addEventListener("focus", markVisibleRead);

// --- the message menu (WAI-ARIA menu button) ---

function actionsMenu(li, { edit }) {
  const { box, menu, item } = menuButton({
    boxClass: "actions", text: "⋯", label: "Message actions", idPrefix: "message-menu",
  });
  // The focus goes back to the button, then wherever the action takes it.
  if (edit) menu.append(item("Edit", () => startEdit(li)));
  menu.append(item("Delete", () => deleteMessage(li), "danger"));
  return box;
}

let menus = 0;

// menuButton makes a menu button (aria-haspopup) and its menu, with the
// keyboard of a menu: arrows open it from the button and move within it
// (left and right too when horizontal), Home and End, Escape closes it and
// refocuses the button, Tab closes it. item(text, action, cls) makes a menu
// item that closes the menu, then acts.
function menuButton({ boxClass, buttonClass, text, label, menuClass, idPrefix, horizontal = false }) {
  const box = document.createElement("div");
  box.className = boxClass;
  const button = document.createElement("button");
  button.type = "button";
  button.className = buttonClass ? `menu-button ${buttonClass}` : "menu-button";
  button.textContent = text;
  button.setAttribute("aria-label", label);
  button.setAttribute("aria-haspopup", "menu");
  button.setAttribute("aria-expanded", "false");
  const menu = document.createElement("div");
  menu.className = menuClass ? `menu ${menuClass}` : "menu";
  menu.id = `${idPrefix}-${++menus}`;
  menu.setAttribute("role", "menu");
  menu.setAttribute("aria-label", label);
  if (horizontal) menu.setAttribute("aria-orientation", "horizontal");
  menu.hidden = true;
  button.setAttribute("aria-controls", menu.id);
  box.append(button, menu);
  const item = (label, action, cls) => {
    const b = document.createElement("button");
    b.type = "button";
    b.setAttribute("role", "menuitem");
    b.tabIndex = -1;
    b.textContent = label;
    if (cls) b.className = cls;
    b.addEventListener("click", () => {
      closeMenu(box, true);
      action();
    });
    return b;
  };
  button.addEventListener("click", () => {
    if (menu.hidden) openMenu(box, 0);
    else closeMenu(box, true);
  });
  button.addEventListener("keydown", (ev) => {
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      openMenu(box, ev.key === "ArrowDown" ? 0 : -1);
    } else if (ev.key === "Escape" && !menu.hidden) {
      ev.preventDefault();
      closeMenu(box, true);
    }
  });
  const next = horizontal ? ["ArrowDown", "ArrowRight"] : ["ArrowDown"];
  const previous = horizontal ? ["ArrowUp", "ArrowLeft"] : ["ArrowUp"];
  menu.addEventListener("keydown", (ev) => {
    const items = [...menu.querySelectorAll('[role="menuitem"]')];
    const at = items.indexOf(document.activeElement);
    const go = (i) => {
      ev.preventDefault();
      items[(i + items.length) % items.length].focus();
    };
    if (next.includes(ev.key)) go(at + 1);
    else if (previous.includes(ev.key)) go(at - 1);
    else if (ev.key === "Home") go(0);
    else if (ev.key === "End") go(-1);
    else if (ev.key === "Escape") {
      ev.preventDefault();
      ev.stopPropagation();
      closeMenu(box, true);
    } else if (ev.key === "Tab") closeMenu(box, false);
  });
  return { box, button, menu, item };
}

let openBox = null;

function openMenu(box, focusIndex) {
  if (openBox && openBox !== box) closeMenu(openBox, false);
  const button = box.querySelector(".menu-button");
  const menu = box.querySelector(".menu");
  menu.hidden = false;
  button.setAttribute("aria-expanded", "true");
  openBox = box;
  const items = menu.querySelectorAll('[role="menuitem"]');
  items[(focusIndex + items.length) % items.length]?.focus();
  menu.scrollIntoView({ block: "nearest" });
}

function closeMenu(box, refocus) {
  const menu = box.querySelector(".menu");
  if (menu.hidden) return;
  menu.hidden = true;
  box.querySelector(".menu-button").setAttribute("aria-expanded", "false");
  if (openBox === box) openBox = null;
  if (refocus) box.querySelector(".menu-button").focus();
}

// A press anywhere outside the open menu closes it.
document.addEventListener("pointerdown", (ev) => {
  if (openBox && !openBox.contains(ev.target)) closeMenu(openBox, false);
});

// --- editing and deleting ---

function startEdit(li) {
  if (li.querySelector(".edit-form")) {
    li.querySelector(".edit-form textarea").focus();
    return;
  }
  const p = li.querySelector(".text");
  const form = document.createElement("form");
  form.className = "edit-form";
  const box = document.createElement("textarea");
  box.setAttribute("aria-label", "Edit message");
  box.dir = "auto";
  box.rows = Math.min(8, p.textContent.split("\n").length);
  box.value = p.textContent;
  const save = document.createElement("button");
  save.type = "submit";
  save.textContent = "Save";
  const cancel = document.createElement("button");
  cancel.type = "button";
  cancel.className = "link";
  cancel.textContent = "Cancel";
  const hint = document.createElement("span");
  hint.className = "hint";
  hint.textContent = "Enter saves · Escape cancels";
  const buttons = document.createElement("div");
  buttons.className = "edit-buttons";
  buttons.append(save, cancel, hint);
  form.append(box, buttons);
  p.hidden = true;
  p.after(form);
  box.focus();
  box.setSelectionRange(box.value.length, box.value.length);

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    if (li.dataset.pending === "edit") return;
    const text = box.value;
    if (text === p.textContent) {
      finishEdit(li, true);
      return;
    }
    if (!text.trim()) {
      showError({ code: "empty_edit", message: "A message can't be empty. To remove it, use Delete." });
      return;
    }
    if (!client?.edit(Number(li.dataset.id), text)) return; // the error says why
    li.dataset.pending = "edit";
    box.readOnly = true;
    save.disabled = true;
  });
  cancel.addEventListener("click", () => finishEdit(li, true));
  box.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      form.requestSubmit();
    } else if (ev.key === "Escape") {
      ev.preventDefault();
      finishEdit(li, true);
    }
  });
}

// finishEdit closes the editor, if open; refocus puts the focus back on the
// message's menu button.
function finishEdit(li, refocus) {
  const form = li.querySelector(".edit-form");
  delete li.dataset.pending;
  if (!form) return;
  const hadFocus = form.contains(document.activeElement);
  form.remove();
  li.querySelector(".text").hidden = false;
  if (refocus || hadFocus) li.querySelector(".menu-button")?.focus();
}

function deleteMessage(li) {
  if (!client?.delete(Number(li.dataset.id))) return;
  li.dataset.pending = "delete";
  li.classList.add("deleting");
}

function onEdited({ messageId, text, editedAt }) {
  const li = findMessage(messageId);
  if (!li) return;
  li.querySelector(".text").textContent = text;
  markEdited(li, editedAt);
  if (li.dataset.pending === "edit") finishEdit(li, false);
}

function onDeleted({ messageId, by }) {
  const li = findMessage(messageId);
  if (!li) return;
  const editing = li.querySelector(".edit-form") && li.dataset.pending !== "edit";
  const hadFocus = li.contains(document.activeElement);
  if (openBox && li.contains(openBox)) openBox = null;
  li.remove();
  if (editing) {
    // The name goes in a bidi isolate (U+2068 ... U+2069), as a text node.
    const who = by && by !== userId ? ` by \u2068${by}\u2069` : "";
    showError({ code: "deleted_while_editing", message: `The message you were editing was deleted${who}.` });
  }
  if (hadFocus) ui.input.focus();
  if (olderState === "start") setOlder("start"); // "No messages yet" may be back
}

// onActionError puts the message back as it was when the room refused an
// edit or a delete.
function onActionError(err) {
  if (err.action === "react" || err.action === "read") return; // nothing to put back
  const li = findMessage(err.messageId);
  if (!li) return;
  if (err.action === "delete") {
    delete li.dataset.pending;
    li.classList.remove("deleting");
    return;
  }
  const form = li.querySelector(".edit-form");
  if (!form) return;
  if (err.code === "not_found" || err.code === "forbidden" || err.code === "invalid_id") {
    finishEdit(li, true); // no edit will ever work
    return;
  }
  // Fixable (too long, blocked, too fast): the text stays in the editor.
  delete li.dataset.pending;
  form.querySelector("textarea").readOnly = false;
  form.querySelector('button[type="submit"]').disabled = false;
  form.querySelector("textarea").focus();
}

// notice is a line in the list; who, if given, is a user name put first
// in a bidi isolate.
function notice(text, who) {
  const li = document.createElement("li");
  li.className = "notice";
  if (who !== undefined) li.append(bdi(who), " ");
  li.append(text);
  return li;
}

// append adds items and keeps the view pinned to the bottom if it was there.
function append(...items) {
  const list = ui.messages;
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.append(...items);
  if (atBottom) list.scrollTop = list.scrollHeight;
}

// The people list keeps each user's item while they stay, so that an open
// moderation panel (and the focus in it) survives others joining and leaving.
let peopleItems = new Map(); // userId -> li

function renderPeople(users, count) {
  const items = users.map((u) => {
    let li = peopleItems.get(u);
    if (!li) peopleItems.set(u, (li = personItem(u)));
    return li;
  });
  const keep = new Set(items);
  let lostFocus = false;
  for (const [u, li] of peopleItems) {
    if (keep.has(li)) continue;
    peopleItems.delete(u);
  }
  for (const li of [...ui.people.children]) {
    if (keep.has(li)) continue;
    if (li.contains(document.activeElement)) lostFocus = true;
    li.remove();
  }
  if (count !== undefined) {
    // A large room sends only how many are here.
    const li = document.createElement("li");
    li.textContent = `${count} people; the list is not shown in large rooms`;
    items.push(li);
  }
  // Insert in order, moving no item that is already in place.
  items.forEach((li, i) => {
    const at = ui.people.children[i];
    if (at !== li) ui.people.insertBefore(li, at ?? null);
  });
  ui.peopleCount.textContent = `(${count ?? users.length})`;
  if (lostFocus) ui.input.focus();
}

function personItem(u) {
  const li = document.createElement("li");
  li.dataset.user = u;
  const name = document.createElement("span");
  name.className = "name";
  name.append(bdi(u));
  li.append(name);
  if (u === userId) li.classList.add("own");
  else if (canModerate()) li.append(...moderationControls(u));
  markMuted(li);
  return li;
}

// --- moderation controls (moderator and service tokens only) ---

let panels = 0;

function durationSelect(id) {
  const select = document.createElement("select");
  select.id = id;
  for (const [value, label] of DURATIONS) select.append(new Option(label, value));
  select.value = "3600";
  return select;
}

// moderationControls is a disclosure button and its panel for user u.
function moderationControls(u) {
  const n = ++panels;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "mod-button";
  button.textContent = "Moderate";
  button.setAttribute("aria-label", `Moderate ${u}`);
  button.setAttribute("aria-expanded", "false");
  const panel = document.createElement("div");
  panel.className = "mod-panel";
  panel.id = `mod-panel-${n}`;
  panel.setAttribute("role", "group");
  panel.setAttribute("aria-label", `Moderate ${u}`);
  panel.hidden = true;
  button.setAttribute("aria-controls", panel.id);

  const reasonLabel = document.createElement("label");
  reasonLabel.htmlFor = `mod-reason-${n}`;
  reasonLabel.textContent = "Reason (optional)";
  const reason = document.createElement("input");
  reason.id = `mod-reason-${n}`;
  reason.className = "mod-reason";
  reason.maxLength = 200; // the server's MaxReasonChars
  reason.autocomplete = "off";
  const act = (label, fn, cls) => {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    if (cls) b.className = cls;
    b.addEventListener("click", () => {
      if (fn(reason.value.trim()) === false) return; // the error says why
      reason.value = "";
      toggle(false, true);
    });
    return b;
  };
  const seconds = (select) => (select.value ? Number(select.value) : undefined);
  const row = (...els) => {
    const div = document.createElement("div");
    div.className = "mod-row";
    div.append(...els);
    return div;
  };
  const labelFor = (select, text) => {
    const l = document.createElement("label");
    l.htmlFor = select.id;
    l.textContent = text;
    return l;
  };
  const muteFor = durationSelect(`mod-mute-${n}`);
  const banFor = durationSelect(`mod-ban-${n}`);
  panel.append(
    row(reasonLabel, reason),
    row(act("Kick", (r) => client?.moderate("kick", u, { reason: r }))),
    row(labelFor(muteFor, "Mute for"), muteFor,
      act("Mute", (r) => client?.moderate("mute", u, { seconds: seconds(muteFor), reason: r })),
      act("Unmute", () => client?.moderate("unmute", u), "secondary")),
    row(labelFor(banFor, "Ban for"), banFor,
      act("Ban", (r) => client?.moderate("ban", u, { seconds: seconds(banFor), reason: r }), "danger")),
  );

  function toggle(open, refocus) {
    panel.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    if (open) reason.focus();
    else if (refocus) button.focus();
  }
  button.addEventListener("click", () => toggle(panel.hidden, false));
  panel.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") {
      ev.preventDefault();
      toggle(false, true);
    }
  });
  return [button, panel];
}

// What we know of who is muted (from the events seen), for a badge.
let muted = new Map(); // userId -> until (string, or null until lifted)

function markMuted(li) {
  const u = li.dataset.user;
  let badge = li.querySelector(":scope > .badge");
  if (!muted.has(u)) {
    badge?.remove();
    return;
  }
  if (!badge) {
    badge = document.createElement("span");
    badge.className = "badge";
    badge.textContent = "muted";
    li.querySelector(".name").after(badge);
  }
  const until = muted.get(u);
  badge.title = until ? `Muted until ${when(until)}` : "Muted until lifted";
}

function setMutedUser(u, until) {
  if (until === undefined) muted.delete(u);
  else muted.set(u, until);
  const li = peopleItems.get(u);
  if (li) markMuted(li);
}

// --- the bans in force (moderators: GET /api/rooms/{room}/bans, then events) ---

let bans = new Map(); // userId -> {until, by, reason}

async function loadBans() {
  const c = client;
  if (!c || !canModerate()) return;
  try {
    const res = await fetch(new URL(`/api/rooms/${c.room}/bans`, location.href), {
      headers: { Authorization: `Bearer ${token}` }, cache: "no-store", credentials: "omit",
    });
    if (c !== client || !res.ok) return;
    const body = await res.json();
    bans = new Map((body.bans ?? []).filter((b) => typeof b?.userId === "string")
      .map((b) => [b.userId, { until: b.until ?? null, by: b.by, reason: b.reason }]));
    renderBans();
  } catch { /* offline: the events still update the list */ }
}

function renderBans() {
  const now = Date.now();
  const items = [...bans].filter(([, b]) => b.until === null || Date.parse(b.until) > now)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([u, b]) => {
      const li = document.createElement("li");
      li.dataset.user = u;
      const name = document.createElement("span");
      name.className = "name";
      name.append(bdi(u));
      const until = document.createElement("span");
      until.className = "hint";
      until.textContent = b.until ? ` until ${when(b.until)}` : " until lifted";
      const unban = document.createElement("button");
      unban.type = "button";
      unban.className = "secondary";
      unban.textContent = "Unban";
      unban.setAttribute("aria-label", `Unban ${u}`);
      unban.addEventListener("click", () => {
        if (client?.moderate("unban", u)) unban.disabled = true;
      });
      li.append(name, until, unban);
      return li;
    });
  if (!items.length) {
    const li = document.createElement("li");
    li.className = "hint";
    li.textContent = "Nobody";
    items.push(li);
  }
  const hadFocus = ui.bans.contains(document.activeElement);
  ui.bans.replaceChildren(...items);
  if (hadFocus) ui.bans.querySelector("button")?.focus();
}

ui.slowForm.addEventListener("submit", (ev) => {
  ev.preventDefault();
  client?.slowMode(Number(ui.slowSelect.value));
});

function showSlowChoice(seconds) {
  const value = String(seconds);
  if (![...ui.slowSelect.options].some((o) => o.value === value)) {
    ui.slowSelect.append(new Option(`${seconds} seconds`, value));
  }
  ui.slowSelect.value = value;
}

// --- what moderation means for you ---

// when is a restriction's end for a sentence: a time today, else a date and time.
function when(iso) {
  const d = localTime(iso);
  if (!d) return String(iso);
  return d.toDateString() === new Date().toDateString()
    ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })
    : d.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
}

const byWhom = (by, reason) => `${by ? ` by \u2068${by}\u2069` : ""}${reason ? `: \u2068${reason}\u2069` : ""}`;

let removed = null; // {code, ...} while kicked or banned
let mutedMe = null; // {until, by, reason} while we know we are muted
let mutedTimer = null;
let banTimer = null;

// renderNotice shows the one notice that matters most: removed, else muted.
function renderNotice() {
  const box = ui.modNotice;
  const p = document.createElement("p");
  const parts = [p];
  if (removed?.code === "kicked") {
    p.textContent = `You were removed from this room${byWhom(removed.by, removed.reason)}.`;
    const rejoin = document.createElement("button");
    rejoin.type = "button";
    rejoin.textContent = "Rejoin";
    rejoin.addEventListener("click", rejoinRoom);
    parts.push(rejoin);
  } else if (removed?.code === "banned") {
    const until = removed.until ? when(removed.until) : removed.until === null ? "a moderator lifts it" : null;
    p.textContent = `You are banned${until ? ` until ${until}` : " from this room"}${byWhom(removed.by, removed.reason)}.`;
    const retry = document.createElement("button");
    retry.type = "button";
    retry.className = "secondary";
    retry.textContent = "Try again";
    retry.addEventListener("click", rejoinRoom);
    parts.push(retry);
  } else if (mutedMe) {
    const until = mutedMe.until ? when(mutedMe.until) : "a moderator lifts it";
    p.textContent = `You are muted until ${until}${byWhom(mutedMe.by, mutedMe.reason)}. You can read, but your messages are not sent.`;
  } else {
    box.hidden = true;
    box.replaceChildren();
    delete box.dataset.kind;
    return;
  }
  box.dataset.kind = removed?.code ?? "muted";
  box.replaceChildren(...parts);
  box.hidden = false;
}

function setComposer(enabled) {
  ui.input.disabled = !enabled;
  ui.send.disabled = !enabled;
}

// onRemoved shows that the room removed us; the client does not reconnect.
function onRemoved(err) {
  removed = { code: err.code, by: err.by, reason: err.reason, until: err.until };
  if (err.code === "banned") {
    saveBan(client.room, removed);
    scheduleBanEnd(removed.until);
  }
  renderNotice();
  setComposer(false);
  renderPeople([]); // not in the room any more; a rejoin brings the list back
  ui.modNotice.querySelector("button")?.focus();
}

function rejoinRoom() {
  const c = client;
  if (!c) return;
  if (removed?.code === "banned") clearTimeout(banTimer);
  // The notice stays for a ban until the room lets us in.
  if (removed?.code === "kicked") {
    removed = null;
    renderNotice();
    setComposer(true);
  }
  c.connect();
  if (!removed) ui.input.focus();
}

// scheduleBanEnd tries again once the ban ends (setTimeout holds at most ~24 days).
function scheduleBanEnd(until) {
  clearTimeout(banTimer);
  const at = until ? Date.parse(until) : NaN;
  if (Number.isNaN(at)) return;
  banTimer = setTimeout(rejoinRoom, Math.min(Math.max(0, at - Date.now()) + 1000, 2 ** 31 - 1));
}

function readBan(room) {
  try {
    const b = JSON.parse(localStorage.getItem(BAN_KEY + room) ?? "null");
    if (!b || b.userId !== userId) return null;
    if (b.until !== null && !(Date.parse(b.until) > Date.now())) return null;
    return b;
  } catch {
    return null;
  }
}

function saveBan(room, { until, by, reason }) {
  try {
    localStorage.setItem(BAN_KEY + room, JSON.stringify({ userId, until: until ?? null, by, reason }));
  } catch { /* storage off: this page view only */ }
}

function forgetBan(room) {
  try { localStorage.removeItem(BAN_KEY + room); } catch { /* storage off */ }
}

function setMutedMe(m) {
  clearTimeout(mutedTimer);
  mutedMe = m;
  if (m?.until) {
    const left = Date.parse(m.until) - Date.now();
    if (!(left > 0)) mutedMe = null;
    else mutedTimer = setTimeout(() => setMutedMe(null), Math.min(left + 500, 2 ** 31 - 1));
  }
  renderNotice();
}

// --- slow mode ---

let slowSeconds = 0;
let slowUntil = 0; // when a refused member may send again (Date.now() ms)
let slowTimer = null;

function renderSlowMode() {
  const left = Math.ceil((slowUntil - Date.now()) / 1000);
  const el = ui.slowMode;
  if (left > 0) {
    el.textContent = `Slow mode: you can send again in ${left} s.`;
    el.dataset.state = "wait";
  } else if (slowSeconds > 0) {
    const every = slowSeconds === 1 ? "second" : slowSeconds % 60 === 0 && slowSeconds >= 60
      ? `${slowSeconds / 60 === 1 ? "minute" : `${slowSeconds / 60} minutes`}`
      : `${slowSeconds} seconds`;
    el.textContent = `Slow mode: one message every ${every}${canModerate() ? " (moderators are exempt)" : ""}.`;
    el.dataset.state = "on";
  } else {
    el.textContent = "";
    delete el.dataset.state;
  }
  el.hidden = el.textContent === "";
  if (left <= 0 && slowTimer !== null) {
    clearInterval(slowTimer);
    slowTimer = null;
  }
}

function startCountdown(ms) {
  slowUntil = Date.now() + Math.max(0, Number(ms) || 0);
  announce(`Slow mode: wait ${Math.ceil(ms / 1000)} seconds before sending again.`);
  if (slowTimer === null) slowTimer = setInterval(renderSlowMode, 250);
  renderSlowMode();
}

function announce(text) {
  ui.announcer.textContent = "";
  // A change of text is what a live region announces.
  setTimeout(() => { ui.announcer.textContent = text; }, 50);
}

// --- moderation events as system lines ---

const DID = { kick: "kicked", ban: "banned", unban: "unbanned", mute: "muted", unmute: "unmuted" };

function moderationLine(e) {
  const li = document.createElement("li");
  li.className = "notice moderation";
  li.dataset.action = e.action;
  if (typeof e.id === "number") li.dataset.position = String(e.id);
  if (e.userId === userId) li.append("You were ");
  else li.append(bdi(e.userId), " was ");
  li.append(`${DID[e.action]} by `, bdi(e.by ?? "?"));
  if (e.action === "ban" || e.action === "mute") li.append(e.until ? ` until ${when(e.until)}` : " until lifted");
  if (e.reason) li.append(": ", bdi(e.reason));
  const d = localTime(e.timestamp);
  if (d) li.title = d.toLocaleString();
  return li;
}

function onModeration(e) {
  append(moderationLine(e));
  if (e.action === "mute") setMutedUser(e.userId, e.until);
  if (e.action === "unmute") setMutedUser(e.userId, undefined);
  if (e.action === "ban") {
    bans.set(e.userId, { until: e.until, by: e.by, reason: e.reason });
    if (canModerate()) renderBans();
  }
  if (e.action === "unban" && bans.delete(e.userId) && canModerate()) renderBans();
  if (e.userId !== userId) return;
  if (e.action === "mute") setMutedMe({ until: e.until, by: e.by, reason: e.reason });
  if (e.action === "unmute") setMutedMe(null);
}

function onSettings({ slowModeSeconds, previous }) {
  slowSeconds = slowModeSeconds;
  showSlowChoice(slowModeSeconds);
  renderSlowMode();
  if (client?.status === "open" && slowModeSeconds !== previous) {
    append(notice(slowModeSeconds > 0
      ? `Slow mode is on: one message every ${slowModeSeconds} s.`
      : "Slow mode is off."));
  }
}

const ERROR_TEXT = {
  rate_limited: (e) => `You are sending too fast${e.retryAfterMs ? `; try again in ${Math.ceil(e.retryAfterMs / 1000)} s` : ""}.`,
  message_too_long: () => `That message is too long: the limit is ${MAX_CHARS} characters.`,
  content_blocked: () => "That message was blocked.",
  forbidden: (e) => `Not allowed${e.message ? ` (${e.message})` : ""}. This chat may need a valid sign-in link.`,
  token_expired: () => "Your session expired. Open a new sign-in link to keep chatting.",
  invalid_token: () => "This sign-in link is not valid. Open a new one.",
  too_many_connections: () => "Too many open connections. Close some chat tabs and reload.",
  invalid_user_id: () => "That name can't be used. Pick another one.",
  queue_full: () => "Not connected, and too many messages are waiting. This one was not sent.",
  not_sent: () => "Some messages were not sent before leaving.",
  unconfirmed: (e) => `The connection dropped; some messages may not have been sent${e.actions?.length ? ", or edits and deletions made" : ""}.`,
  storage_unavailable: () => "The room could not reach its storage. Trying again.",
  kicked: () => "You were removed from this room: rejoin to send messages.",
  banned: () => "You are banned from this room: this message was not sent.",
  muted: (e) => `You are muted${e.until ? ` until ${when(e.until)}` : ""}: this message was not sent.`,
  slow_mode: (e) => `Slow mode: wait ${Math.ceil((e.retryAfterMs ?? 0) / 1000)} s before your next message.`,
};

// What went wrong with a moderation request (an error with its action).
const target = (e) => `\u2068${e.userId}\u2069`;
const MOD_ERROR_TEXT = {
  forbidden: (e) => `Not allowed${e.message ? `: ${e.message}` : ""}.`,
  not_found: (e) => (e.action === "kick" ? `${target(e)} is not in this room.`
    : e.action === "unban" ? `${target(e)} is not banned.`
    : e.action === "unmute" ? `${target(e)} is not muted.` : `Not found${e.message ? `: ${e.message}` : ""}.`),
  invalid_reason: () => "That reason can't be used: at most 200 characters.",
  invalid_seconds: () => "That duration can't be used.",
  invalid_user_id: (e) => `${target(e)} is not a valid user.`,
  not_connected: (e) => `Not connected: the ${e.action === "slow_mode" ? "slow mode change" : e.action} was not sent. Try again once the chat is connected.`,
  client_closed: (e) => `The chat is closed: the ${e.action === "slow_mode" ? "slow mode change" : e.action} was not sent.`,
};

// What went wrong with an edit or a delete (an error with an "action").
const done = (e) => (e.action === "edit" ? "edited" : "deleted");
const ACTION_ERROR_TEXT = {
  forbidden: (e) => (e.action === "edit"
    ? "You can only edit your own messages."
    : "You can't delete that message: only its author or a moderator can."),
  not_found: (e) => `That message no longer exists, so it could not be ${done(e)}.`,
  invalid_id: (e) => `That message can't be ${done(e)}.`,
  not_connected: (e) => `Not connected: the message was not ${done(e)}. Try again once the chat is connected.`,
  client_closed: (e) => `The chat is closed: the message was not ${done(e)}.`,
  message_too_long: () => `That edit is too long: the limit is ${MAX_CHARS} characters.`,
  content_blocked: () => "That edit was blocked.",
  invalid_message: () => "That edit can't be saved: it has characters a message can't have.",
};

// What went wrong with a reaction (an error with action "react").
const REACT_ERROR_TEXT = {
  invalid_reaction: () => "That reaction can't be used: pick one emoji.",
  too_many_reactions: () => "That message already has as many different reactions as it can hold.",
  not_found: () => "That message no longer exists.",
  invalid_id: () => "That message can't take reactions.",
  not_connected: () => "Not connected: the reaction was not sent. Try again once the chat is connected.",
  client_closed: () => "The chat is closed: the reaction was not sent.",
  // The room treats a reaction like a message: a mute and the rate limit refuse it too.
  muted: (e) => `You are muted${e.until ? ` until ${when(e.until)}` : ""}: your reaction was not added.`,
  rate_limited: (e) => `You are reacting too fast${e.retryAfterMs ? `; try again in ${Math.ceil(e.retryAfterMs / 1000)} s` : ""}.`,
};

function showError(err) {
  const box = document.createElement("div");
  box.className = "error";
  box.dataset.code = err.code;
  if (err.action) box.dataset.action = err.action;
  const p = document.createElement("p");
  const table = MOD_ACTIONS.has(err.action) ? MOD_ERROR_TEXT : err.action === "react" ? REACT_ERROR_TEXT : ACTION_ERROR_TEXT;
  const friendly = (err.action && table[err.code]?.(err))
    ?? ERROR_TEXT[err.code]?.(err) ?? (err.message || err.code);
  p.textContent = friendly;
  const texts = err.text !== undefined ? [err.text] : err.texts ?? [];
  if (texts.length) {
    const what = document.createElement("span");
    what.className = "unsent";
    what.append(err.action === "edit" ? " Not saved: " : " Not sent: ");
    texts.forEach((t, i) => what.append(i ? ", “" : "“", bdi(clip(t, 60)), "”"));
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

// --- older messages ---

// The first row of the list says whether there is more history above:
// "more" shows a button (scrolling to the top presses it), "loading" while a
// page is on its way, "start" once the first message of the room is shown.
let olderState = "start";

function olderRow() {
  let li = ui.messages.querySelector(":scope > li.older");
  if (!li) {
    li = document.createElement("li");
    li.className = "older";
    ui.messages.prepend(li);
  }
  return li;
}

function setOlder(state) {
  olderState = state;
  const li = olderRow();
  if (state === "start") {
    li.replaceChildren(ui.messages.querySelector(".msg") ? "This is the start of the conversation." : "No messages yet.");
    li.dataset.state = "start";
    return;
  }
  const button = document.createElement("button");
  button.type = "button";
  button.className = "link";
  button.id = "load-older";
  button.textContent = state === "loading" ? "Loading older messages…" : "Load older messages";
  button.disabled = state === "loading";
  button.addEventListener("click", loadOlder);
  li.replaceChildren(button);
  li.dataset.state = state;
}

async function loadOlder() {
  const c = client;
  if (!c || olderState !== "more") return;
  setOlder("loading");
  let page;
  try {
    page = await c.loadOlder();
  } catch (err) {
    if (c !== client) return;
    setOlder("more");
    showError({ code: err.code || "older_failed", message: `Could not load older messages: ${err.message}` });
    return;
  }
  if (c !== client) return;
  const list = ui.messages;
  const shown = new Set([...list.querySelectorAll(":scope > .msg")].map((li) => li.dataset.id));
  const items = page.messages.filter((m) => !shown.has(String(m.id))).map(messageItem);
  // Insert above what is shown, keeping what the reader looks at in place.
  const fromBottom = list.scrollHeight - list.scrollTop;
  olderRow().after(...items);
  list.scrollTop = list.scrollHeight - fromBottom;
  setOlder(page.hasMore ? "more" : "start");
}

ui.messages.addEventListener("scroll", () => {
  if (olderState === "more" && ui.messages.scrollTop < 80) loadOlder();
}, { passive: true });

// --- wiring ---

function start(room) {
  client?.close();
  client = null;
  openBox = null;
  ui.messages.replaceChildren();
  olderState = "idle"; // until the first history says
  ui.errors.replaceChildren();
  peopleItems = new Map();
  ui.people.replaceChildren();
  muted = new Map();
  bans = new Map();
  renderPeople([]);
  removed = null;
  clearTimeout(banTimer);
  setMutedMe(null);
  slowSeconds = 0;
  slowUntil = 0;
  renderSlowMode();
  setComposer(true);
  ui.modTools.hidden = !canModerate();
  ui.slowSelect.replaceChildren(...SLOW_CHOICES.map(([v, label]) => new Option(label, String(v))));
  renderBans();
  ui.roomTitle.textContent = room === "lobby" ? "· lobby" : `· ${room}`;
  baseTitle = `${room} · gochat`;
  readUpTo = 0;
  offscreenUnread = 0;
  unreadCapped = false;
  dividerDue = false;
  othersRead = new Map();
  visibleIds = new Set();
  readObserver?.disconnect();
  renderTyping([]);
  updateTitle();
  ui.roomInput.value = room;
  ui.me.replaceChildren(bdi(userId));

  const c = new ChatClient({ room, userId, token, baseUrl: location.href });
  client = c;
  c.on("status", (s) => {
    setStatus(s);
    if (s.status === "open") {
      // In: whatever ban we remembered is over.
      if (removed) {
        removed = null;
        renderNotice();
        setComposer(true);
      }
      clearTimeout(banTimer);
      forgetBan(room);
      loadBans();
      loadReads();
    } else if (removed?.code === "banned" && s.status !== "closed") {
      setStatus({ status: "closed", reason: "banned" }); // still trying, still banned as far as we know
    }
  });
  c.on("moderation", onModeration);
  c.on("room_settings", onSettings);
  c.on("history", ({ messages, truncated, resumed, reset }) => {
    const fresh = !resumed || reset;
    if (fresh) {
      ui.messages.replaceChildren();
      visibleIds = new Set();
      dividerDue = true;
    }
    if (truncated && resumed && !reset) append(notice("Some messages from while you were away are not shown."));
    append(...messages.map(messageItem));
    if (fresh) setOlder(truncated ? "more" : "start");
    else if (olderState === "start") setOlder("start"); // "No messages yet" may be over
    renderSeen();
    updateTitle();
  });
  c.on("message", (m) => {
    if (m.userId === userId) {
      // Our own message: we have read what came before; the divider has
      // served. The room counts our own messages as unread until our read
      // position passes them, so it moves past this one.
      ui.messages.querySelector(":scope > .unread-divider")?.remove();
      if (m.id > readUpTo) {
        readUpTo = m.id;
        c.markRead(m.id);
      }
    }
    append(messageItem(m));
    if (olderState === "start") setOlder("start");
    updateTitle();
  });
  c.on("typing", ({ users }) => renderTyping(users));
  c.on("read", onRead);
  c.on("read_state", onReadState);
  c.on("reaction", onReaction);
  // On a resume, the changes to messages already shown arrive as these
  // events too, right after the history.
  c.on("message_edited", onEdited);
  c.on("message_deleted", onDeleted);
  c.on("presence", ({ users, joined, left, count, truncated }) => {
    renderPeople(users, truncated ? count : undefined);
    if (joined && joined !== userId) append(notice("joined", joined));
    if (left) append(notice("left", left));
  });
  c.on("error", (err) => {
    if (err.action === "read") return; // a read position the room did not take: nothing to do
    if ((err.code === "kicked" || err.code === "banned") && err.fatal) {
      onRemoved(err);
      return;
    }
    if (!err.action && (err.code === "muted" || err.code === "slow_mode" || err.code === "kicked" || err.code === "banned")) {
      if (err.code === "muted") setMutedMe({ ...(mutedMe ?? {}), until: err.until ?? null });
      if (err.code === "slow_mode") startCountdown(err.retryAfterMs);
      // The notice says why; the text goes back into the box (or, if the
      // box is in use, into an error that shows it).
      if (!restoreText(err)) showError(err);
      return;
    }
    if (err.code === "muted" && err.action === "react") setMutedMe({ ...(mutedMe ?? {}), until: err.until ?? null });
    showError(err);
    if (err.action) onActionError(err);
    // A refused message goes back into an empty box, ready to fix and resend.
    restoreText(err);
    if (err.code === "invalid_user_id" && !err.action) askName();
  });
  const ban = readBan(room);
  if (ban) {
    // Banned here when last seen: a refused upgrade would not say why, so
    // say it, and try again when the ban ends (or on request).
    removed = { code: "banned", by: ban.by, reason: ban.reason, until: ban.until };
    renderNotice();
    setComposer(false);
    setStatus({ status: "closed", reason: "banned" });
    scheduleBanEnd(ban.until);
    return;
  }
  c.connect();
}

// restoreText puts a refused message back into an empty box, ready to fix
// and resend; it reports whether it did.
function restoreText(err) {
  if (typeof err.text !== "string" || err.action || ui.input.value !== "" || ui.input.disabled) return false;
  ui.input.value = err.text;
  updateCounter();
  return true;
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

// A new sign-in link opened in this tab may differ only in its #token=,
// which does not reload the page.
window.addEventListener("hashchange", () => {
  if (!/(^#|&)token=/.test(location.hash)) return;
  token = takeToken();
  role = token ? tokenClaims(token)?.role : undefined;
  const sub = token && tokenUser(token);
  if (sub) userId = sub;
  ui.changeName.hidden = Boolean(sub);
  if (!userId) return;
  ui.nameForm.hidden = true;
  ui.chat.hidden = false;
  start(roomFromPath(location.pathname));
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
ui.input.addEventListener("input", () => {
  updateCounter();
  if (ui.input.value.trim() !== "") client?.typing();
});

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
