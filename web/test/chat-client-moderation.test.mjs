// Unit tests for moderation in worker/public/chat-client.js: moderate() and
// slowMode() requests, "moderation" and "room_settings" events (live and
// from a resume's changes), positions (lastId follows moderation events),
// 4003 closes (kicked / banned: no reconnect, connect() again rejoins), the
// muted / slow_mode refusals, and the exactly-once resend around them.
// Run with `node --test web/test/`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CLOSE_MODERATED, MODERATION_EVENTS } from "../../worker/public/chat-client.js";
import { clientHarness } from "./fakes.mjs";

const TS = "2026-11-25T10:00:00.000Z";
const UNTIL = "2026-11-25T11:00:00.000Z";

function setup(opts = {}) {
  const t = clientHarness({
    types: ["status", "message", "message_edited", "message_deleted", "moderation", "room_settings", "history", "presence", "error"],
    key: "ev",
    ...opts,
  });
  const { client, clock, of, last } = t;
  // Events without the name of the event they came as.
  const bare = (ev) => of(ev).map(({ ev: _, ...e }) => e);
  const joinOK = (messages = [], extra = {}, before = []) => {
    const ws = last();
    ws.receive({ type: "user_joined", userId: "ada", timestamp: TS });
    ws.receive({ type: "presence", users: ["ada", "bob"] });
    for (const f of before) ws.receive(f);
    ws.receive({ type: "history", messages, ...extra });
  };
  const open = (messages = [], extra = {}, before = []) => {
    client.connect();
    last().open();
    joinOK(messages, extra, before);
  };
  const reconnect = () => {
    last().drop();
    clock.advance(500);
    last().open();
  };
  const sent = (type) => last().frames().filter((f) => f.type === type);
  return { ...t, bare, joinOK, open, reconnect, sent };
}

const msg = (id, text, userId = "bob") => ({ id, userId, text, timestamp: TS });
const mod = (type, id, userId, extra = {}) => ({ type, id, userId, by: "mod", timestamp: TS, ...extra });
const settings = (n) => ({ type: "room_settings", slowModeSeconds: n });

// --- requests ---

test("moderate and slowMode send the contract's frames on an open connection", () => {
  const t = setup();
  t.open();
  assert.equal(t.client.moderate("kick", "bob", { reason: "cool off" }), true);
  assert.equal(t.client.moderate("ban", "bob", { seconds: 3600, reason: "spam" }), true);
  assert.equal(t.client.moderate("ban", "eve"), true);
  assert.equal(t.client.moderate("ban", "zed", { seconds: 0 }), true); // 0: until lifted
  assert.equal(t.client.moderate("unban", "bob", { reason: "ignored", seconds: 5 }), true);
  assert.equal(t.client.moderate("mute", "bob", { seconds: 600, reason: "" }), true);
  assert.equal(t.client.moderate("unmute", "bob"), true);
  assert.equal(t.client.slowMode(10), true);
  assert.equal(t.client.slowMode(0), true);
  assert.deepEqual(t.last().frames().slice(1), [
    { type: "kick", userId: "bob", reason: "cool off" },
    { type: "ban", userId: "bob", seconds: 3600, reason: "spam" },
    { type: "ban", userId: "eve" },
    { type: "ban", userId: "zed" },
    { type: "unban", userId: "bob" },
    { type: "mute", userId: "bob", seconds: 600 },
    { type: "unmute", userId: "bob" },
    { type: "slow_mode", seconds: 10 },
    { type: "slow_mode", seconds: 0 },
  ]);
});

test("moderate and slowMode check their arguments", () => {
  const t = setup();
  t.open();
  for (const bad of ["delete", "Kick", "", undefined, "toString", "__proto__"]) {
    assert.throws(() => t.client.moderate(bad, "bob"), TypeError, String(bad));
  }
  for (const bad of ["", null, 5, undefined]) assert.throws(() => t.client.moderate("kick", bad), TypeError);
  for (const bad of [-1, 1.5, "60", NaN, Infinity]) {
    assert.throws(() => t.client.moderate("ban", "bob", { seconds: bad }), TypeError, String(bad));
    assert.throws(() => t.client.slowMode(bad), TypeError, String(bad));
  }
  assert.throws(() => t.client.slowMode(), TypeError);
  assert.throws(() => t.client.moderate("kick", "bob", { reason: 5 }), TypeError);
  assert.equal(t.last().frames().length, 1, "only the join went out");
  assert.deepEqual(Object.keys(MODERATION_EVENTS), ["kick", "ban", "unban", "mute", "unmute"]);
});

test("moderation needs an open connection: refused, reported with what it was, never queued", () => {
  const t = setup();
  t.client.connect();
  t.last().open();
  assert.equal(t.client.moderate("ban", "bob", { seconds: 60 }), false);
  assert.equal(t.client.slowMode(5), false);
  assert.deepEqual(t.of("error").map(({ code, action, userId, seconds }) => ({ code, action, userId, seconds })), [
    { code: "not_connected", action: "ban", userId: "bob", seconds: 60 },
    { code: "not_connected", action: "slow_mode", userId: undefined, seconds: 5 },
  ]);
  assert.match(t.of("error")[0].message, /this ban was not sent/);
  assert.equal(t.client.queued, 0);
  t.joinOK();
  assert.equal(t.last().frames().length, 1);
  t.client.close();
  assert.equal(t.client.moderate("kick", "bob"), false);
  assert.equal(t.of("error").at(-1).code, "client_closed");
});

// --- events ---

test("moderation frames are 'moderation' events, once per position; lastId follows them", () => {
  const t = setup();
  t.open([msg(1, "hi")]);
  t.last().receive({ ...mod("user_muted", 2, "bob", { reason: "calm", until: UNTIL }), extra: 1 });
  t.last().receive(mod("user_muted", 2, "bob", { reason: "calm", until: UNTIL })); // duplicate
  t.last().receive(mod("user_banned", 3, "eve", { until: null }));
  t.last().receive(mod("user_unmuted", 4, "bob"));
  t.last().receive(mod("user_kicked", 5, "bob", { reason: "bye" }));
  t.last().receive(mod("user_unbanned", 6, "eve"));
  t.last().receive({ type: "user_left", userId: "bob", timestamp: TS });
  t.last().receive({ type: "user_banned", id: 7 }); // no userId: not an event
  assert.deepEqual(t.bare("moderation").map(({ type, ...e }) => e), [
    { action: "mute", id: 2, userId: "bob", by: "mod", timestamp: TS, reason: "calm", until: UNTIL },
    { action: "ban", id: 3, userId: "eve", by: "mod", timestamp: TS, until: null },
    { action: "unmute", id: 4, userId: "bob", by: "mod", timestamp: TS },
    { action: "kick", id: 5, userId: "bob", by: "mod", timestamp: TS, reason: "bye" },
    { action: "unban", id: 6, userId: "eve", by: "mod", timestamp: TS },
  ]);
  assert.deepEqual(t.of("moderation").map((e) => e.type), ["user_muted", "user_banned", "user_unmuted", "user_kicked", "user_unbanned"]);
  assert.equal(t.client.lastId, 6);
  assert.equal(t.client.oldestId, 1, "a moderation event is not a message to page back from");
  assert.deepEqual(t.client.users, ["ada"]);
  t.reconnect();
  assert.deepEqual(t.last().frames(), [{ type: "join", userId: "ada", since: 6 }]);
});

test("a resume's changes carry the moderation missed: in the history event, then emitted in order", () => {
  const t = setup();
  t.open([msg(1, "one")]);
  t.reconnect();
  t.joinOK([msg(3, "three")], {
    changes: [
      mod("user_muted", 2, "ada", { until: UNTIL, reason: "r" }),
      { type: "message_deleted", id: 4, messageId: 1, by: "mod", timestamp: TS },
      mod("user_banned", 5, "bob", { until: null }),
    ],
  });
  const h = t.of("history").at(-1);
  assert.deepEqual(h.changes.map((c) => [c.type, c.id]), [["user_muted", 2], ["message_deleted", 4], ["user_banned", 5]]);
  const order = t.events.slice(t.events.indexOf(h)).map((e) => `${e.ev}:${e.id ?? e.status ?? ""}`);
  assert.deepEqual(order, ["history:", "moderation:2", "message_deleted:4", "moderation:5", "status:open"]);
  assert.equal(t.of("moderation")[0].until, UNTIL);
  assert.equal(t.client.lastId, 5);
  // Positions 2..5 are all accounted for: a lost text would be resent.
  t.client.send("lost");
  t.reconnect();
  t.joinOK([], { changes: [mod("user_unmuted", 6, "ada")] });
  assert.deepEqual(t.sent("message").map((f) => f.text), ["lost"], "moderation events fill the positions: no hole");
  assert.equal(t.of("error").length, 0);
});

test("room_settings: an event with the previous value; a join without one means slow mode is off", () => {
  const t = setup();
  assert.equal(t.client.slowModeSeconds, 0);
  t.open([], {}, [settings(10)]); // a joiner gets it after presence, before history
  assert.equal(t.client.slowModeSeconds, 10);
  assert.deepEqual(t.bare("room_settings"), [{ slowModeSeconds: 10, previous: 0 }]);
  t.last().receive(settings(30));
  assert.deepEqual(t.bare("room_settings").at(-1), { slowModeSeconds: 30, previous: 10 });
  t.reconnect();
  t.joinOK([], {}, [settings(30)]);
  assert.equal(t.of("room_settings").length, 3, "the room said so: told again, unchanged");
  t.reconnect();
  t.joinOK(); // turned off while we were away: no room_settings on the join
  assert.equal(t.client.slowModeSeconds, 0);
  assert.deepEqual(t.bare("room_settings").at(-1), { slowModeSeconds: 0, previous: 30 });
  const n = t.of("room_settings").length;
  t.reconnect();
  t.joinOK();
  assert.equal(t.of("room_settings").length, n, "off and still off: nothing to tell");
  t.last().receive({ slowModeSeconds: -3 });
  assert.equal(t.client.slowModeSeconds, 0);
});

// --- answers ---

test("a moderation's refusal answers it, with action and userId; its event settles it", () => {
  const t = setup({ userId: "mod" });
  t.open();
  t.client.moderate("kick", "bob");
  t.client.moderate("unmute", "carl");
  t.client.send("hello");
  t.client.slowMode(99999999);
  // The kick went through: its echo settles it, so not_found is the unmute's.
  t.last().receive(mod("user_kicked", 1, "bob"));
  t.last().receive({ type: "error", code: "not_found", message: "carl is not muted" });
  t.last().receive({ type: "message", ...msg(2, "hello", "mod") });
  t.last().receive({ type: "error", code: "invalid_seconds", message: "too long" });
  const errs = t.of("error").map(({ code, action, userId, seconds, text }) => ({ code, action, userId, seconds, text }));
  assert.deepEqual(errs, [
    { code: "not_found", action: "unmute", userId: "carl", seconds: undefined, text: undefined },
    { code: "invalid_seconds", action: "slow_mode", userId: undefined, seconds: 99999999, text: undefined },
  ]);
  // A member is refused: forbidden goes to the moderation, not to a message already echoed.
  t.client.moderate("ban", "bob", { seconds: 600, reason: "x" });
  t.last().receive({ type: "error", code: "forbidden", message: "ban is for moderators" });
  assert.deepEqual(
    (({ code, action, userId, seconds, reason }) => ({ code, action, userId, seconds, reason }))(t.of("error").at(-1)),
    { code: "forbidden", action: "ban", userId: "bob", seconds: 600, reason: "x" });
});

test("muted and slow_mode refuse a message: the error carries its text, until / retryAfterMs", () => {
  const t = setup();
  t.open([msg(1, "a", "ada")]);
  t.client.edit(1, "a!");
  t.client.send("one");
  t.client.send("two");
  // An edit is never muted: the refusal is the first message's.
  t.last().receive({ type: "error", code: "muted", message: "you are muted in this room", until: UNTIL });
  t.last().receive({ type: "error", code: "slow_mode", message: "slow mode is on", retryAfterMs: 7300 });
  t.last().receive({ type: "error", code: "muted", message: "muted", until: null });
  const errs = t.of("error").map(({ code, text, until, retryAfterMs, action }) => ({ code, text, until, retryAfterMs, action }));
  assert.deepEqual(errs, [
    { code: "muted", text: "one", until: UNTIL, retryAfterMs: undefined, action: undefined },
    { code: "slow_mode", text: "two", until: undefined, retryAfterMs: 7300, action: undefined },
    { code: "muted", text: undefined, until: null, retryAfterMs: undefined, action: undefined },
  ]);
  assert.ok(!("until" in t.of("error")[1]), "no until key unless the room sent one");
});

test("a text refused as muted or slow_mode is never sent again, even across a drop", () => {
  const t = setup();
  t.open([msg(1, "x")]);
  t.client.send("muted text");
  t.client.send("slow text");
  t.client.send("lost text");
  t.last().receive({ type: "error", code: "muted", message: "m", until: UNTIL });
  t.last().receive({ type: "error", code: "slow_mode", message: "s", retryAfterMs: 1000 });
  t.reconnect();
  t.joinOK([]);
  assert.deepEqual(t.sent("message").map((f) => f.text), ["lost text"]);
  assert.equal(t.of("error").filter((e) => e.code === "unconfirmed").length, 0);
});

test("moderation in flight at a drop: done when the resume's changes show it, else sent again; slow mode by the settings", () => {
  const t = setup({ userId: "mod" });
  t.open([msg(1, "x")]);
  t.client.moderate("ban", "bob", { seconds: 3600 }); // applied
  t.client.moderate("mute", "eve", { seconds: 600 }); // lost
  t.client.moderate("unban", "zed"); // done by someone else: ours is still lost
  t.client.slowMode(10); // applied: the join says 10
  t.client.slowMode(0); // lost... but then 10 is what the join says
  t.reconnect();
  t.joinOK([], { changes: [mod("user_banned", 2, "bob", { until: UNTIL }), { ...mod("user_unbanned", 3, "zed"), by: "other" }] }, [settings(10)]);
  assert.deepEqual(t.last().frames().slice(1), [
    { type: "mute", userId: "eve", seconds: 600 },
    { type: "unban", userId: "zed" },
    { type: "slow_mode", seconds: 0 },
  ]);
  assert.equal(t.of("error").length, 0);
  t.last().receive(mod("user_muted", 4, "eve", { by: "mod", until: UNTIL }));
  t.last().receive({ type: "error", code: "not_found", message: "zed is not banned" });
  t.last().receive(settings(0));
  assert.deepEqual(t.of("error").map((e) => [e.code, e.action, e.userId]), [["not_found", "unban", "zed"]]);

  // A truncated history cannot tell: reported, not resent.
  t.client.moderate("kick", "bob", { reason: "r" });
  t.reconnect();
  t.joinOK([msg(900, "z")], { truncated: true });
  const err = t.of("error").at(-1);
  assert.equal(err.code, "unconfirmed");
  assert.deepEqual(err.actions, [{ action: "kick", userId: "bob", reason: "r" }]);
  assert.deepEqual(t.last().frames().slice(1), []);
});

// --- removed from the room ---

test("kicked: a 4003 close is fatal (no reconnect), reported with who and why; connect() rejoins and resumes", () => {
  const t = setup();
  t.open([msg(1, "hi")]);
  t.client.send("in flight");
  t.last().receive(mod("user_kicked", 2, "ada", { reason: "cool off" }));
  t.last().drop(CLOSE_MODERATED, "kicked");
  const err = t.bare("error").at(-1);
  assert.deepEqual(err, {
    code: "kicked", fatal: true, by: "mod", reason: "cool off", timestamp: TS,
    message: "you were removed from this room by mod: cool off",
  });
  assert.deepEqual(t.bare("status").at(-1), { status: "closed", reason: "kicked" });
  assert.equal(t.client.status, "closed");
  assert.equal(t.client.removed, "kicked");
  assert.deepEqual(t.clock.pending(), [], "no timer: no reconnect");
  t.clock.advance(60_000);
  assert.equal(t.sockets.length, 1);
  // Sending while removed is refused, with the text.
  assert.equal(t.client.send("hello?"), false);
  assert.deepEqual((({ code, text }) => ({ code, text }))(t.of("error").at(-1)), { code: "kicked", text: "hello?" });

  // connect() again: a new socket that resumes, and the text in flight is checked.
  t.client.connect();
  assert.equal(t.client.status, "connecting");
  assert.equal(t.client.removed, null);
  assert.equal(t.sockets.length, 2);
  t.last().open();
  assert.deepEqual(t.last().frames(), [{ type: "join", userId: "ada", since: 2 }]);
  t.joinOK([]);
  assert.equal(t.client.status, "open");
  assert.equal(t.of("history").at(-1).resumed, true);
  assert.deepEqual(t.sent("message").map((f) => f.text), ["in flight"]);
});

test("banned: a 4003 'banned' close is fatal, with until from the announcement", () => {
  const t = setup();
  t.open([]);
  t.last().receive(mod("user_banned", 1, "ada", { until: UNTIL, reason: "spam" }));
  t.last().drop(CLOSE_MODERATED, "banned");
  const err = t.of("error").at(-1);
  assert.equal(err.code, "banned");
  assert.equal(err.fatal, true);
  assert.equal(err.until, UNTIL);
  assert.equal(err.by, "mod");
  assert.equal(err.reason, "spam");
  assert.equal(t.client.removed, "banned");
  assert.equal(t.of("status").at(-1).reason, "banned");
  assert.deepEqual(t.clock.pending(), []);
  // A ban until lifted.
  const u = setup();
  u.open([]);
  u.last().receive(mod("user_banned", 1, "ada", { until: null }));
  u.last().drop(CLOSE_MODERATED, "banned");
  assert.equal(u.of("error").at(-1).until, null);
  assert.match(u.of("error").at(-1).message, /banned from this room until a moderator lifts the ban/);
  // A 4003 without an announcement (another room's? none needed): still fatal.
  const v = setup();
  v.open([]);
  v.last().receive(mod("user_kicked", 1, "bob"));
  v.last().drop(CLOSE_MODERATED, "kicked");
  assert.deepEqual((({ code, by, message }) => ({ code, by, message }))(v.of("error").at(-1)),
    { code: "kicked", by: undefined, message: "you were removed from this room" });
});

test("open mode: a banned user's join gets error banned and a 4003; reported once, no reconnect", () => {
  const t = setup();
  t.client.connect();
  t.last().open();
  t.last().receive({ type: "error", code: "banned", message: "you are banned from this room", until: UNTIL });
  const ws = t.last();
  ws.drop(CLOSE_MODERATED, "banned"); // detached already: nothing more happens
  const errs = t.of("error");
  assert.equal(errs.length, 1);
  assert.deepEqual((({ code, fatal, until }) => ({ code, fatal, until }))(errs[0]), { code: "banned", fatal: true, until: UNTIL });
  assert.equal(t.client.status, "closed");
  assert.deepEqual(t.clock.pending(), []);
  assert.equal(t.sockets.length, 1);
  // close() after that is still clean.
  t.client.close();
  assert.equal(t.client.status, "closed");
  assert.throws(() => t.client.connect(), /connect after close/);
});

test("a kick of someone else, or an old announcement, does not make our next close fatal", () => {
  const t = setup();
  t.open([]);
  t.last().receive(mod("user_kicked", 1, "bob"));
  t.last().drop(1006);
  assert.equal(t.client.status, "reconnecting");
  assert.equal(t.of("error").length, 0);
  t.clock.advance(500);
  t.last().open();
  t.joinOK([]);
  assert.equal(t.client.status, "open");
});
