// Unit tests for the token rules of worker/public/chat-client.js: the token
// rides as a WebSocket subprotocol and never in a URL, getToken is asked
// before every connect, a 4001 (token expired) close reconnects at once with
// a fresh token, and loadOlder() pages back through the HTTP API with an
// Authorization header. Run with `node --test web/test/`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { protocolsFor, CLOSE_TOKEN_EXPIRED } from "../../worker/public/chat-client.js";
import { clientHarness, fakeFetch } from "./fakes.mjs";

const JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2ln";
const JWT2 = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEiLCJuIjoyfQ.c2ln";

function setup(opts = {}) {
  const t = clientHarness({
    types: ["status", "message", "history", "presence", "error"],
    baseUrl: "http://127.0.0.1:9999/r/general?x=1",
    ...opts,
  });
  const { last } = t;
  const joinOK = (messages = [], extra = {}) => {
    last().receive({ type: "presence", users: ["ada"] });
    last().receive({ type: "history", messages, ...extra });
  };
  return { ...t, joinOK };
}

const msg = (id, text = `m${id}`, userId = "bob") => ({ id, userId, text, timestamp: "2026-11-25T10:00:00.000Z" });
// settle lets promise callbacks (getToken, fetch) run.
const settle = () => new Promise((r) => setImmediate(r));

test("the token is offered as subprotocols gochat + bearer.<token>, never in the URL", () => {
  const t = setup({ token: JWT });
  t.client.connect();
  const ws = t.last();
  assert.deepEqual(ws.protocols, ["gochat", `bearer.${JWT}`]);
  assert.equal(ws.url, "ws://127.0.0.1:9999/api/chat/general");
  assert.equal(t.client.url, "ws://127.0.0.1:9999/api/chat/general");
  assert.ok(!ws.url.includes("token") && !ws.url.includes(JWT));
  ws.open();
  assert.equal(ws.protocol, "gochat");
  assert.deepEqual(ws.frames(), [{ type: "join", userId: "ada" }]);
  // Reconnects offer it again.
  t.joinOK([msg(1)]);
  ws.drop();
  t.clock.advance(10_000);
  assert.equal(t.sockets.length, 2);
  assert.deepEqual(t.last().protocols, ["gochat", `bearer.${JWT}`]);
  assert.ok(!t.last().url.includes(JWT));
});

test("without a token no subprotocol is offered at all", () => {
  const t = setup();
  t.client.connect();
  assert.equal(t.last().protocols, undefined);
  assert.equal(protocolsFor(undefined), undefined);
  assert.equal(protocolsFor(""), undefined);
  assert.deepEqual(protocolsFor("a.b.c"), ["gochat", "bearer.a.b.c"]);
});

test("a token that cannot be a subprotocol is a fatal invalid_token, never sent", () => {
  const t = setup({ token: "has space/and=" });
  t.client.connect();
  assert.equal(t.sockets.length, 0);
  assert.equal(t.of("error")[0].code, "invalid_token");
  assert.equal(t.of("error")[0].fatal, true);
  assert.equal(t.client.status, "closed");
});

test("getToken is asked before every connect and reconnect, and its token is used", async () => {
  let n = 0;
  const tokens = [JWT, JWT2, `${JWT}x`];
  const t = setup({ token: "unused", getToken: async () => tokens[n++] });
  t.client.connect();
  assert.equal(t.sockets.length, 0, "the socket waits for the token");
  assert.equal(t.client.status, "connecting");
  await settle();
  assert.equal(n, 1);
  assert.deepEqual(t.last().protocols, ["gochat", `bearer.${JWT}`]);
  t.last().open();
  t.joinOK([msg(1)]);
  t.last().drop();
  t.clock.advance(10_000);
  await settle();
  assert.equal(n, 2);
  assert.equal(t.sockets.length, 2);
  assert.deepEqual(t.last().protocols, ["gochat", `bearer.${JWT2}`]);
  t.last().drop(); // before the join
  t.clock.advance(10_000);
  await settle();
  assert.equal(n, 3);
  assert.deepEqual(t.last().protocols, ["gochat", `bearer.${JWT}x`]);
});

test("with getToken its answer wins over token, even an empty one (signed out)", async () => {
  const t = setup({ token: JWT, getToken: () => undefined });
  t.client.connect();
  await settle();
  assert.deepEqual(t.last().protocols, undefined, "getToken's answer wins, even when empty");
});

test("a 4001 close reconnects at once with a fresh token and resumes without a gap", async () => {
  let n = 0;
  const t = setup({ getToken: async () => `tok${++n}` });
  t.client.connect();
  await settle();
  t.last().open();
  t.joinOK([msg(1), msg(2)]);
  t.client.send("typed just before");
  const first = t.last();
  first.drop(CLOSE_TOKEN_EXPIRED, "token expired");

  assert.equal(t.client.status, "reconnecting");
  const st = t.of("status").at(-1);
  assert.equal(st.delayMs, 0);
  assert.equal(st.reason, "token_expired");
  assert.equal(t.sockets.length, 1, "waiting only for getToken, not for a backoff timer");
  await settle(); // no clock advance at all
  assert.equal(t.sockets.length, 2);
  assert.equal(n, 2);
  assert.deepEqual(t.last().protocols, ["gochat", "bearer.tok2"]);
  t.last().open();
  assert.deepEqual(t.last().frames(), [{ type: "join", userId: "ada", since: 2 }]);
  t.joinOK([msg(3)]);
  assert.equal(t.client.status, "open");
  const [, resumed] = t.of("history");
  assert.equal(resumed.resumed, true);
  assert.deepEqual(resumed.messages.map((m) => m.id), [3]);
  // The unconfirmed text goes out again on the new socket.
  assert.deepEqual(t.last().frames().slice(1), [{ type: "message", text: "typed just before" }]);
  assert.equal(t.of("error").length, 0, "nothing for the user to see");
});

test("4001 again before a join is answered backs off instead of spinning", async () => {
  let n = 0;
  const t = setup({ getToken: async () => `tok${++n}` });
  t.client.connect();
  await settle();
  t.last().open();
  t.joinOK();
  t.last().drop(CLOSE_TOKEN_EXPIRED, "token expired");
  await settle();
  assert.equal(t.sockets.length, 2);
  t.last().open();
  t.last().drop(CLOSE_TOKEN_EXPIRED, "token expired"); // the fresh token is stale too
  await settle();
  assert.equal(t.sockets.length, 2, "the second one waits for the backoff");
  assert.ok(t.of("status").at(-1).delayMs > 0);
  t.clock.advance(10_000);
  await settle();
  assert.equal(t.sockets.length, 3);
  // A successful join makes the next 4001 free again.
  t.last().open();
  t.joinOK();
  t.last().drop(CLOSE_TOKEN_EXPIRED, "token expired");
  await settle();
  assert.equal(t.sockets.length, 4);
});

test("a 4001 without getToken is a fatal token_expired error: closed, not retried", () => {
  const t = setup({ token: JWT });
  t.client.connect();
  t.last().open();
  t.joinOK([msg(1)]);
  t.last().drop(CLOSE_TOKEN_EXPIRED, "token expired");
  const [err] = t.of("error");
  assert.equal(err.code, "token_expired");
  assert.equal(err.fatal, true);
  assert.match(err.message, /session expired/);
  assert.equal(t.client.status, "closed");
  t.clock.advance(60_000);
  assert.equal(t.sockets.length, 1);
  assert.deepEqual(t.clock.pending(), []);
});

test("a failing getToken is reported and retried with backoff", async () => {
  let fail = true;
  const t = setup({ getToken: async () => { if (fail) throw new Error("offline"); return JWT; } });
  t.client.connect();
  await settle();
  assert.equal(t.sockets.length, 0);
  assert.equal(t.of("error")[0].code, "token_unavailable");
  assert.match(t.of("error")[0].message, /offline/);
  assert.equal(t.client.status, "reconnecting");
  fail = false;
  t.clock.advance(10_000);
  await settle();
  assert.equal(t.sockets.length, 1);
  assert.deepEqual(t.last().protocols, ["gochat", `bearer.${JWT}`]);
});

test("a getToken that hangs is abandoned by the join timeout; one answered after close opens nothing", async () => {
  const resolvers = [];
  const t = setup({ joinTimeoutMs: 1000, getToken: () => new Promise((r) => resolvers.push(r)) });
  t.client.connect();
  t.clock.advance(1000);
  assert.equal(t.client.status, "reconnecting");
  resolvers[0](JWT); // too late: that attempt was abandoned
  await settle();
  assert.equal(t.sockets.length, 0);
  t.clock.advance(500); // the first backoff
  assert.equal(resolvers.length, 2);
  t.client.close();
  resolvers[1](JWT);
  await settle();
  assert.equal(t.sockets.length, 0);
});

// --- loadOlder ---

function pageServer(all, { status = 200, error } = {}) {
  return fakeFetch((url) => {
    if (status !== 200) return { status, body: { error, message: "nope" } };
    const before = Number(url.searchParams.get("before"));
    const limit = Number(url.searchParams.get("limit"));
    const older = all.filter((m) => m.id < before);
    const page = older.slice(-limit);
    return { body: { room: "general", messages: page, ...(older.length > page.length ? { truncated: true } : {}) } };
  });
}

test("loadOlder pages back from the lowest id with the token in Authorization, never in the URL", async () => {
  const all = Array.from({ length: 7 }, (_, i) => msg(i + 1));
  const f = pageServer(all);
  const t = setup({ token: JWT, fetch: f.fetch, olderPageSize: 3 });
  t.client.connect();
  t.last().open();
  t.joinOK(all.slice(5), { truncated: true }); // ids 6 and 7
  assert.equal(t.client.oldestId, 6);

  const p1 = await t.client.loadOlder();
  assert.deepEqual(p1.messages.map((m) => m.id), [3, 4, 5]);
  assert.equal(p1.hasMore, true);
  assert.equal(f.calls.length, 1);
  const u = new URL(f.calls[0].url);
  assert.equal(u.origin + u.pathname, "http://127.0.0.1:9999/api/rooms/general/messages");
  assert.equal(u.searchParams.get("before"), "6");
  assert.equal(u.searchParams.get("limit"), "3");
  assert.equal(u.searchParams.has("token"), false);
  assert.ok(!f.calls[0].url.includes(JWT));
  assert.equal(f.calls[0].init.headers.Authorization, `Bearer ${JWT}`);

  const p2 = await t.client.loadOlder();
  assert.equal(new URL(f.calls[1].url).searchParams.get("before"), "3");
  assert.deepEqual(p2.messages.map((m) => m.id), [1, 2]);
  assert.equal(p2.hasMore, false);
  assert.equal(t.client.oldestId, 1);
  // The live stream is untouched: lastId stays the newest.
  assert.equal(t.client.lastId, 7);
});

test("loadOlder keeps only unseen older messages, oldest first, and shares a call in flight", async () => {
  let release;
  const gate = new Promise((r) => { release = r; });
  const f = fakeFetch(async () => {
    await gate;
    // Out of order, a duplicate, and ids that are not older.
    return { body: { messages: [msg(4), msg(2), msg(4), msg(9), msg(3)], truncated: true } };
  });
  const t = setup({ fetch: f.fetch });
  t.client.connect();
  t.last().open();
  t.joinOK([msg(5), msg(9)], { truncated: true });
  const a = t.client.loadOlder();
  const b = t.client.loadOlder();
  assert.equal(a, b);
  release();
  const page = await a;
  assert.equal(f.calls.length, 1);
  assert.deepEqual(page.messages.map((m) => m.id), [2, 3, 4]);
  assert.equal(f.calls[0].init.headers.Authorization, undefined, "no token, no header");
  assert.equal(t.client.oldestId, 2);
});

test("loadOlder with getToken uses a fresh token; a refusal rejects with status and code", async () => {
  let n = 0;
  const f = pageServer([], { status: 401, error: "token_expired" });
  const t = setup({ fetch: f.fetch, getToken: async () => `tok${++n}` });
  t.client.connect();
  await settle();
  t.last().open();
  t.joinOK([msg(10)], { truncated: true });
  await assert.rejects(t.client.loadOlder(), (err) => err.status === 401 && err.code === "token_expired");
  assert.equal(f.calls[0].init.headers.Authorization, "Bearer tok2");
  assert.equal(t.client.oldestId, 10, "a failed page moves nothing");
});

test("loadOlder before any message: nothing older in an empty room, nothing to ask yet before the join", async () => {
  const f = pageServer([]);
  const t = setup({ fetch: f.fetch });
  t.client.connect();
  assert.deepEqual(await t.client.loadOlder(), { messages: [], hasMore: true });
  t.last().open();
  t.joinOK([]);
  assert.deepEqual(await t.client.loadOlder(), { messages: [], hasMore: false });
  assert.equal(f.calls.length, 0);
});

test("a wss room derives an https API origin", async () => {
  const f = pageServer([msg(1)]);
  const t = setup({ url: "wss://chat.example/api/chat/general", fetch: f.fetch });
  t.client.connect();
  t.last().open();
  t.joinOK([msg(2)], { truncated: true });
  await t.client.loadOlder();
  assert.equal(new URL(f.calls[0].url).origin, "https://chat.example");
});
