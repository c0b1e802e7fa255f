// js-room.mjs is the benchmark's baseline: the chat room as a plain
// JavaScript Durable Object, written the way the seed's TypeScript demo would
// be on the WebSocket Hibernation API, and speaking the same protocol as the
// Go room (seed frames, message ids persisted in ctx.storage.sql before the
// broadcast, presence and history on join, resume with "since"). It exists
// only to be measured against; bench/wrangler.toml serves it beside the Go
// room and it is never deployed.
import { DurableObject } from "cloudflare:workers";

// Limits, named as in the Go room and issue 3.
const MAX_TEXT_CHARS = 4096;
const MAX_FRAME_BYTES = 1 << 20;
const MAX_USER_ID_CHARS = 64;
const KEEP_MESSAGES = 1000; // newest rows kept per room
const HISTORY_ON_JOIN = 50; // messages sent to a plain join
const HISTORY_ON_RESUME = 500; // at most this many after "since"

const PING = '{"type":"ping"}';
const PONG = '{"type":"pong"}';
const CONTROL = /\p{Cc}/u;

const now = () => new Date().toISOString();
const chars = (s) => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

export class JsChatRoom extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(
      "CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, user_id TEXT NOT NULL, text TEXT NOT NULL, ts TEXT NOT NULL)",
    );
    // The runtime answers a byte-identical ping itself, without waking us.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
    // A constructor may follow an eviction: sessions are rebuilt from the
    // sockets' attachments, never from memory.
    this.sessions = new Map();
    for (const ws of ctx.getWebSockets()) {
      const att = ws.deserializeAttachment();
      // getWebSockets() may include CLOSING sockets (readyState 2); CLOSED ones are skipped.
      if (att && !att.gone && ws.readyState <= 2) {
        this.sessions.set(ws, att);
      }
    }
  }

  async fetch(request) {
    if ((request.headers.get("Upgrade") || "").toLowerCase() !== "websocket") {
      return Response.json(
        { error: "upgrade_required", message: "this endpoint speaks WebSocket; send Upgrade: websocket" },
        { status: 426, headers: { upgrade: "websocket" } },
      );
    }
    const [client, server] = Object.values(new WebSocketPair());
    this.ctx.acceptWebSocket(server);
    const session = {};
    server.serializeAttachment(session);
    this.sessions.set(server, session);
    return new Response(null, { status: 101, webSocket: client });
  }

  async webSocketMessage(ws, message) {
    const session = this.session(ws);
    if (!session) return;
    if (typeof message !== "string") {
      if (message.byteLength > MAX_FRAME_BYTES) return this.drop(ws, 1009, "frame exceeds 1 MiB");
      return this.error(ws, "unsupported_frame", "binary frames are not supported; send JSON text frames");
    }
    if (message.length > MAX_FRAME_BYTES) return this.drop(ws, 1009, "frame exceeds 1 MiB");
    let data;
    try {
      data = JSON.parse(message);
    } catch {
      return this.error(ws, "invalid_json", "frame is not valid JSON");
    }
    if (data === null || typeof data !== "object" || Array.isArray(data)) {
      return this.error(ws, "invalid_json", "frame must be a JSON object");
    }
    switch (data.type) {
      case "ping":
        return this.send(ws, PONG);
      case "join":
        return this.join(ws, session, data);
      case "message":
        return this.message(ws, session, data);
      default:
        if (typeof data.type !== "string") {
          return this.error(ws, "unknown_type", 'frame has no string "type"; expected join, message or ping');
        }
        return this.error(ws, "unknown_type", `unknown type ${JSON.stringify(data.type.slice(0, 64))}; expected join, message or ping`);
    }
  }

  async webSocketClose(ws, code, reason) {
    this.leave(ws);
    // 1005 and 1006 are reserved for reporting and cannot be sent back.
    try {
      ws.close(code === 1005 || code === 1006 || code === 1015 ? 1000 : code, reason);
    } catch {}
  }

  async webSocketError(ws) {
    this.leave(ws);
    try {
      ws.close(1011, "websocket error");
    } catch {}
  }

  // session finds the socket's session; one the map lost comes back from its
  // attachment.
  session(ws) {
    let s = this.sessions.get(ws);
    if (!s) {
      s = ws.deserializeAttachment() || {};
      if (s.gone) return undefined;
      this.sessions.set(ws, s);
    }
    return s;
  }

  join(ws, session, data) {
    const bad = checkUserId(data.userId);
    if (bad) return this.error(ws, "invalid_user_id", bad);
    if (session.userId === data.userId) return; // joining again is a no-op
    if (session.userId) {
      return this.error(ws, "already_joined", `this connection already joined as ${JSON.stringify(session.userId)}`);
    }
    const since = data.since ?? undefined;
    if (since !== undefined && (!Number.isSafeInteger(since) || since < 0)) {
      return this.error(ws, "invalid_since", '"since" must be a non-negative integer message id');
    }
    this.bind(ws, session, data.userId, since);
  }

  message(ws, session, data) {
    if (!session.userId && (data.userId === undefined || checkUserId(data.userId))) {
      return this.error(ws, "not_joined", 'send {"type":"join","userId":...} first, or include a valid "userId" in the message');
    }
    if (typeof data.text !== "string" || data.text === "") {
      return this.error(ws, "invalid_message", '"text" must be a non-empty string');
    }
    const n = chars(data.text);
    if (n > MAX_TEXT_CHARS) {
      return this.error(ws, "message_too_long", `text is ${n} characters; the limit is ${MAX_TEXT_CHARS}`);
    }
    if (!session.userId) this.bind(ws, session, data.userId);
    // Persist before broadcast: nobody sees a message that is not durable.
    const timestamp = now();
    let id;
    try {
      id = this.sql
        .exec("INSERT INTO messages (user_id, text, ts) VALUES (?, ?, ?) RETURNING id", session.userId, data.text, timestamp)
        .one().id;
      this.sql.exec("DELETE FROM messages WHERE id <= ?", id - KEEP_MESSAGES);
    } catch {
      return this.error(ws, "storage_unavailable", "the message could not be stored; try again");
    }
    this.broadcast(JSON.stringify({ type: "message", id, userId: session.userId, text: data.text, timestamp }));
  }

  // bind makes the socket a member: user_joined to everyone when this is the
  // user's first connection (else to this socket only), then the roster and
  // the history to the joining socket.
  bind(ws, session, userId, since) {
    const first = !this.present(userId);
    session.userId = userId;
    ws.serializeAttachment(session);
    const joined = JSON.stringify({ type: "user_joined", userId, timestamp: now() });
    if (first) this.broadcast(joined);
    else this.send(ws, joined);
    this.send(ws, JSON.stringify({ type: "presence", users: this.roster() }));
    this.send(ws, JSON.stringify(this.history(since)));
  }

  present(userId) {
    for (const s of this.sessions.values()) if (s.userId === userId) return true;
    return false;
  }

  roster() {
    const users = new Set();
    for (const s of this.sessions.values()) if (s.userId) users.add(s.userId);
    return [...users].sort();
  }

  history(since) {
    const limit = since === undefined ? HISTORY_ON_JOIN : HISTORY_ON_RESUME;
    const rows = this.sql
      .exec(
        "SELECT id, user_id AS userId, text, ts AS timestamp FROM messages WHERE id > ? ORDER BY id DESC LIMIT ?",
        since ?? 0,
        limit + 1,
      )
      .toArray();
    const frame = { type: "history", messages: rows.slice(0, limit).reverse() };
    if (since !== undefined && rows.length > limit) frame.truncated = true;
    return frame;
  }

  // leave forgets a socket once and announces user_left when it was the
  // user's last connection.
  leave(ws) {
    const session = this.sessions.get(ws) ?? ws.deserializeAttachment();
    this.sessions.delete(ws);
    if (!session || session.gone) return;
    try {
      ws.serializeAttachment({ ...session, gone: true });
    } catch {}
    if (session.userId && !this.present(session.userId)) {
      this.broadcast(JSON.stringify({ type: "user_left", userId: session.userId, timestamp: now() }));
    }
  }

  // broadcast sends to every joined member; peers whose send throws have
  // quit, and are announced after the loop like any other leave.
  broadcast(text) {
    const quitters = [];
    for (const [ws, s] of this.sessions) {
      if (!s.userId) continue;
      try {
        ws.send(text);
      } catch {
        quitters.push(ws);
      }
    }
    for (const ws of quitters) this.drop(ws, 1001, "send failed");
  }

  send(ws, text) {
    try {
      ws.send(text);
    } catch {
      this.drop(ws, 1001, "send failed");
    }
  }

  error(ws, code, message) {
    this.send(ws, JSON.stringify({ type: "error", code, message }));
  }

  drop(ws, code, reason) {
    this.leave(ws);
    try {
      ws.close(code, reason);
    } catch {}
  }
}

function checkUserId(userId) {
  if (userId === undefined) return 'join needs a "userId"';
  if (typeof userId !== "string") return '"userId" must be a string';
  const n = chars(userId);
  if (n === 0) return "userId must not be empty";
  if (n > MAX_USER_ID_CHARS) return `userId must be at most ${MAX_USER_ID_CHARS} characters, got ${n}`;
  if (CONTROL.test(userId)) return "userId must not contain control characters";
  return undefined;
}
