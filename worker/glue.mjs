// glue.mjs is the Worker's entry: a thin trampoline that starts one
// long-lived Go program per isolate and forwards every runtime event to it.
// It holds no chat logic; every decision is made in Go (worker/*.go, room/).
import "../build/wasm_exec.js"; // syumai/workers' patched wasm_exec.js: run(instance, context)
import wasm from "../build/app.wasm";

let go; // the running Go program
let wasmExports; // its instance's exports: the hot path calls Go directly
let context; // what Go sees as globalThis.context: its exports and our helpers
let generation = 0; // counts Go programs started in this isolate

// gochat returns the Go program's exports, starting Go on first use and again
// if it ever exited. go.run runs main until it blocks, so the exports exist as
// soon as it returns. State lives in attachments and storage, so a restart
// loses nothing.
function gochat() {
  if (go === undefined || go.exited) {
    context = { binding: {}, broadcast, sqlValue, sqlText, sockets, ensureAlarm, event: [undefined, undefined] };
    go = new Go();
    const instance = new WebAssembly.Instance(wasm, go.importObject);
    go.run(instance, context);
    wasmExports = instance.exports;
    generation++;
  }
  return context.binding;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// Go hands over text it made (a frame) as an address and a length in its
// memory, and takes a frame in the same way: that spares a JS string object
// per frame, and the bookkeeping Go does for each JS object it holds.
// Within one call into Go, the same bytes are often handed over twice (a
// message's insert and its broadcast), so the last text is kept until the
// call returns: Go changes no bytes it handed over during the call.
let lastText;
function goText(ptr, len) {
  if (lastText !== undefined && lastText.ptr === ptr && lastText.len === len) return lastText.text;
  const text = decoder.decode(new Uint8Array(wasmExports.mem.buffer, ptr, len));
  lastText = { ptr, len, text };
  return text;
}

// broadcast sends one text, at ptr/len in Go's memory, to many sockets: one
// call from Go per fan-out instead of one per socket. It returns the indexes
// whose send threw.
function broadcast(ptr, len, sockets) {
  const text = goText(ptr, len);
  let failed;
  for (let i = 0; i < sockets.length; i++) {
    try {
      sockets[i].send(text);
    } catch {
      (failed ??= []).push(i);
    }
  }
  return failed;
}

// sockets returns the object's open and closing sockets, with all their
// attachments in one JSON array (null where a socket has none): a wake costs
// Go one call instead of several per socket.
function sockets(ctx) {
  const open = ctx.getWebSockets().filter((ws) => ws.readyState === 1 || ws.readyState === 2);
  return [open, JSON.stringify(open.map((ws) => ws.deserializeAttachment() ?? null))];
}

// ensureAlarm sets the object's alarm at `at` (ms) unless one is set no later.
// It reads first, without making the event wait: a write would hold the
// event's outgoing frames until it is durable.
function ensureAlarm(ctx, at) {
  ctx.storage.getAlarm().then((current) => {
    if (current === null || current > at) return ctx.storage.setAlarm(at);
  }).catch((err) => console.error("gochat: ensureAlarm:", err));
}

// sqlValue runs one SQL statement and returns the first column of its first
// row (or undefined): one call from Go instead of one each for the cursor, the
// row and the column.
function sqlValue(sql, query, ...bindings) {
  for (const row of sql.exec(query, ...bindings).raw()) return row[0];
}

// sqlText is sqlValue with one binding: text at ptr/len in Go's memory.
function sqlText(sql, query, ptr, len) {
  return sqlValue(sql, query, goText(ptr, len));
}

export default {
  fetch(request, env, ctx) {
    return gochat().fetch(request, env, ctx);
  },
};

// ChatRoom is the Durable Object. Go keys its rooms by a number it hands out
// when the object registers, and keeps the object's ctx and env with it. Go
// answers null (0 on the hot path) for a key it no longer holds (it drops a
// room whose last socket closed, and forgets everything if it was restarted);
// the object then registers again and repeats the call.
export class ChatRoom {
  constructor(ctx, env) {
    this.ctx = ctx;
    this.env = env;
    this.key = gochat().roomInit(ctx, env);
    this.generation = generation;
  }
  register() {
    this.key = gochat().roomInit(this.ctx, this.env);
    this.generation = generation;
  }
  call(name, ...args) {
    const exports = gochat();
    try {
      if (this.generation === generation) {
        const result = exports[name](this.key, ...args);
        if (result !== null) return result;
      }
      this.register();
      return exports[name](this.key, ...args);
    } finally {
      lastText = undefined;
    }
  }
  fetch(request) {
    return this.call("roomFetch", request);
  }
  // webSocketMessage is the hot path. It calls Go's exported roomMessage
  // directly (go:wasmexport) instead of through a js.FuncOf, whose dispatch
  // costs several calls between Go and JS per event. A text frame is written
  // as UTF-8 straight into a buffer Go lends (frameBuffer answers 0 when the
  // frame is over Go's limit, and then it is not copied at all); the socket
  // waits for Go in context.event. The socket's tag comes along (Room.find).
  webSocketMessage(ws, message) {
    const size = typeof message === "string" ? message.length : message.byteLength;
    const tag = ws.gochatTag ?? 0;
    for (let attempt = 0; attempt < 2; attempt++) {
      gochat();
      if (this.generation !== generation) this.register();
      let kind = -2; // binary
      if (typeof message === "string") {
        // At most 3 UTF-8 bytes per UTF-16 unit.
        const ptr = wasmExports.frameBuffer(this.key, size * 3);
        kind = -1; // over the limit: not copied
        if (ptr !== 0) {
          kind = encoder.encodeInto(message, new Uint8Array(wasmExports.mem.buffer, ptr, size * 3)).written;
        }
      }
      context.event[0] = ws;
      lastText = undefined;
      const known = wasmExports.roomMessage(this.key, size, tag, kind);
      context.event[0] = lastText = undefined;
      if (known) return;
      this.register();
    }
  }
  webSocketClose(ws, code, reason, wasClean) {
    this.call("roomClose", ws, code, reason, wasClean);
  }
  webSocketError(ws, error) {
    this.call("roomError", ws, error);
  }
  alarm() {
    this.call("roomAlarm");
  }
}
