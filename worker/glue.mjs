// glue.mjs is the Worker's entry: a thin trampoline that starts one
// long-lived Go program per isolate and forwards every runtime event to it.
// It holds no chat logic; every decision is made in Go (worker/*.go, room/).
import "../build/wasm_exec.js"; // syumai/workers' patched wasm_exec.js: run(instance, context)
import wasm from "../build/app.wasm";

let go; // the running Go program
let wasmExports; // its instance's exports: the hot path calls Go directly
let context; // what Go sees as globalThis.context: our helpers and the event's values
let generation = 0; // counts Go programs started in this isolate
let area; // frameArea: the address and a view of the standing frame buffer Go lends
let current; // the ChatRoom whose event Go is handling: the one its imports act on
let failed; // the fan-out indexes whose send threw in the last broadcast

// gochat starts the Go program on first use, and again if it ever exited.
// go.run runs main until it blocks, so the exports can be called as soon as
// it returns. State lives in attachments and storage, so a restart loses
// nothing.
function gochat() {
  if (go === undefined || go.exited) {
    context = {
      sqlValue,
      sockets,
      select,
      ensureAlarm,
      setFanout,
      sendText,
      attachText,
      failedSends,
      accept,
      closeText,
      forward,
      statements: [],
      event: newEvent(),
    };
    go = new Go();
    // Go's hot path calls these as Wasm imports (//go:wasmimport gochat …):
    // a direct call, with no JS values to convert on either side.
    go.importObject.gochat = { execText, fanout };
    const instance = new WebAssembly.Instance(wasm, go.importObject);
    go.run(instance, context);
    wasmExports = instance.exports;
    area = { ptr: wasmExports.frameArea(), size: wasmExports.frameAreaSize(), view: undefined };
    generation++;
  }
}

// newEvent is context.event: the current event's values, by name, as Go reads
// them (worker/js.go names the same fields). Each export reads only those it
// needs; clearEvent empties them all when the export returns, so that no
// request or socket is kept alive past its event.
function newEvent() {
  return {
    request: undefined, // fetch, roomFetch: the Request
    env: undefined, // fetch, roomInit: the Worker's env
    ctx: undefined, // roomInit: the object's DurableObjectState
    socket: undefined, // roomMessage, roomClose, roomError: the WebSocket
    accepted: undefined, // roomFetch: the server end accept() just accepted
    answer: undefined, // fetch, roomFetch: the Response Go answers with
  };
}
function clearEvent() {
  const e = context.event;
  e.request = e.env = e.ctx = e.socket = e.accepted = e.answer = undefined;
  lastText = undefined;
}

// The kinds of frame roomMessage gets besides a text frame's byte count;
// worker/room.go spells them the same way.
const kindOversize = -1; // a text frame not copied: it is over Go's limit
const kindBinary = -2; // a binary frame, whose bytes Go never needs
const kindNone = -3; // no body at all (roomFetch)

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// memory is a view of Go's linear memory. Growing the memory detaches the old
// buffer (its views then have length 0), so the view is renewed only then.
let memoryView;
function memory() {
  if (memoryView === undefined || memoryView.byteLength === 0) memoryView = new Uint8Array(wasmExports.mem.buffer);
  return memoryView;
}

// areaView is the standing frame buffer as a view, renewed like memory's.
function areaView() {
  if (area.view === undefined || area.view.byteLength === 0) {
    area.view = new Uint8Array(wasmExports.mem.buffer, area.ptr, area.size);
  }
  return area.view;
}

// Go hands over text it made (a frame) as an address and a length in its
// memory, and takes a frame in the same way: that spares a JS string object
// per frame, and the bookkeeping Go does for each JS object it holds.
// Within one call into Go, the same bytes are often handed over twice (a
// message's insert and its broadcast), so the last text is kept until the
// call returns (clearEvent). That is safe because Go never writes into a
// buffer it handed over, and keeps the last one alive so that no new text
// can be made at its address (goText in worker/room.go).
let lastText;
function goText(ptr, len) {
  if (lastText !== undefined && lastText.ptr === ptr && lastText.len === len) return lastText.text;
  const text = decoder.decode(memory().subarray(ptr, ptr + len));
  lastText = { ptr, len, text };
  return text;
}

// fanout (a Wasm import) sends the text at ptr/len to the current object's
// fan-out list, which Go set with setFanout, but its entry at skip (-1:
// none), and returns how many sends threw.
function fanout(ptr, len, skip) {
  const text = goText(ptr, len);
  const sockets = current.gochatFanout;
  failed = undefined;
  for (let i = 0; i < sockets.length; i++) {
    if (i === skip) continue;
    try {
      sockets[i].send(text);
    } catch {
      (failed ??= []).push(i);
    }
  }
  return failed === undefined ? 0 : failed.length;
}

// setFanout keeps the list of sockets Go broadcasts to for the current object,
// until Go sets another (it does when the membership changes).
function setFanout(sockets) {
  current.gochatFanout = sockets;
}

// sendText sends the text at ptr/len to one socket; attachText stores it as
// the socket's attachment.
function sendText(ws, ptr, len) {
  ws.send(goText(ptr, len));
}
function attachText(ws, ptr, len) {
  ws.serializeAttachment(goText(ptr, len));
}

// closeText closes one socket with code and the reason at ptr/len.
function closeText(ws, code, ptr, len) {
  ws.close(code, goText(ptr, len));
}

// accept makes a WebSocket pair for an upgrade Go decided to take, accepts
// its server end with the hibernation API, leaves that end in
// context.event.accepted for Go, and returns the 101 that hands over the
// client end, selecting the subprotocol Go chose, if any.
function accept(ctx, protocol) {
  const pair = new WebSocketPair();
  ctx.acceptWebSocket(pair[1]);
  context.event.accepted = pair[1];
  const headers = protocol === undefined ? undefined : { "Sec-WebSocket-Protocol": protocol };
  return new Response(null, { status: 101, webSocket: pair[0], headers });
}

// forward sends request on to the room's object with the headers Go made
// (without the client's identity headers, with the verified ones), to the
// stub of the object named by the text at namePtr/nameLen. It returns the
// stub's Promise untouched. When Go passes a limiter, the platform's
// rate-limiting binding is asked first about key, and Go's denied Response
// is the answer if it refuses.
function forward(request, headers, ns, namePtr, nameLen, limiter, key, denied) {
  const stub = ns.get(ns.idFromName(goText(namePtr, nameLen)));
  const copy = new Request(request, { headers });
  if (limiter === undefined) return stub.fetch(copy);
  return limiter.limit({ key }).then(({ success }) => (success ? stub.fetch(copy) : denied));
}

// failedSends tells which sends of the last fan-out threw.
function failedSends() {
  return failed;
}

// sockets returns the object's open and closing sockets, and one string:
// their states, a letter each ("o" open, "c" closing), then all their
// attachments (Go's JSON text, or null) in one JSON array. A wake costs Go
// one call instead of several per socket, and one string to read.
function sockets(ctx) {
  const all = ctx.getWebSockets().filter((ws) => ws.readyState === 1 || ws.readyState === 2);
  let json = "[";
  let states = "";
  for (let i = 0; i < all.length; i++) {
    json += (i ? "," : "") + (all[i].deserializeAttachment() ?? "null");
    states += all[i].readyState === 1 ? "o" : "c";
  }
  return [all, states + json + "]"];
}

// select returns list's items at the indexes Go wrote as int32s at ptr
// (undefined at -1: Go fills those in).
function select(list, ptr, n) {
  const idx = new Int32Array(memory().buffer, ptr, n);
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = list[idx[i]];
  return out;
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

// execText (a Wasm import) runs statement number stmt (Go registered its text
// in context.statements) on the current object's database, with one binding:
// text at ptr/len in Go's memory. It returns 0, or 1 when SQLite threw; the
// error is then in context.sqlError.
function execText(stmt, ptr, len) {
  try {
    sqlValue(current.ctx.storage.sql, context.statements[stmt], goText(ptr, len));
    return 0;
  } catch (err) {
    context.sqlError = String(err);
    return 1;
  }
}

export default {
  // fetch is the front worker, Go's fetch export; the request and env wait
  // in context.event, and the answer comes back in context.event.answer.
  fetch(request, env) {
    gochat();
    context.event.request = request;
    context.event.env = env;
    try {
      wasmExports.fetch();
      return context.event.answer;
    } finally {
      clearEvent();
    }
  },
};

// ChatRoom is the Durable Object. Each of its events is a Wasm export of Go's
// (//go:wasmexport), called directly, without js.FuncOf's trip through Go's
// scheduler. Go keys its rooms by a number it hands out when the object
// registers, and keeps the object's ctx and env with it. Go answers 0 for a
// key it no longer holds (it drops a room whose last socket closed, and
// forgets everything if it was restarted); the object then registers again
// and repeats the event.
export class ChatRoom {
  constructor(ctx, env) {
    this.ctx = ctx;
    this.env = env;
    this.register();
  }
  // register hands the object to Go (roomInit, a Wasm export: the object's
  // ctx and env wait for it in context.event).
  register() {
    gochat();
    context.event.ctx = this.ctx;
    context.event.env = this.env;
    try {
      this.key = wasmExports.roomInit();
    } finally {
      clearEvent();
    }
    if (this.key === 0) throw new Error("gochat: the room could not be registered");
    this.generation = generation;
  }
  // call runs one of Go's exports for this object: run(key) calls it with
  // the object's key and returns what it answered. Go answers 0 for a key it
  // no longer holds (it drops a room whose last socket closed, and forgets
  // everything if it was restarted); the object then registers again and
  // runs the export once more. The event's values are cleared after each run.
  // It returns context.event.answer, for the exports that leave one.
  call(run) {
    for (let attempt = 0; attempt < 2; attempt++) {
      gochat();
      if (this.generation !== generation) this.register();
      current = this;
      lastText = undefined;
      let known, answer;
      try {
        known = run(this.key);
        answer = context.event.answer;
      } finally {
        clearEvent();
      }
      if (known) return answer;
      this.register();
    }
  }
  // event runs the export name(key, ...numbers) with the event's socket, if
  // any, in context.event.socket, and text, if any, written into Go's
  // standing buffer (its length goes last).
  event(name, socket, numbers = [], text = undefined) {
    return this.call((key) => {
      context.event.socket = socket;
      const args = text === undefined ? numbers : [...numbers, encoder.encodeInto(text, areaView()).written];
      return wasmExports[name](key, ...args);
    });
  }
  // fetch hands the request to Go; a POST's body is read first (the only
  // asynchronous step) and goes to Go like a frame.
  fetch(request) {
    if (request.method !== "POST") return this.fetchWith(request, undefined);
    return request.text().then((body) => this.fetchWith(request, body));
  }
  fetchWith(request, body) {
    return this.call((key) => {
      context.event.request = request;
      if (body === undefined) return wasmExports.roomFetch(key, 0, kindNone);
      return wasmExports.roomFetch(key, body.length, this.writeText(key, body));
    });
  }
  // writeText writes text as UTF-8 into Go's standing frame buffer, or,
  // when it may not fit, into one frameBuffer lends (it answers 0 when the
  // text is over Go's limit, and then it is not copied at all), and returns
  // its kind for Go: the bytes written, or kindOversize.
  writeText(key, text) {
    const size = text.length;
    // At most 3 UTF-8 bytes per UTF-16 unit.
    if (size * 3 <= area.size) return encoder.encodeInto(text, areaView()).written;
    const ptr = wasmExports.frameBuffer(key, size * 3);
    if (ptr === 0) return kindOversize; // not copied
    return encoder.encodeInto(text, memory().subarray(ptr, ptr + size * 3)).written;
  }
  // webSocketMessage is the hot path. It calls Go's exported roomMessage
  // directly (go:wasmexport) instead of through a js.FuncOf, whose dispatch
  // costs several calls between Go and JS per event. A text frame is written
  // as UTF-8 straight into Go's memory (writeText); the socket waits for Go
  // in context.event.socket. The socket's tag and the event's time come
  // along.
  webSocketMessage(ws, message) {
    const size = typeof message === "string" ? message.length : message.byteLength;
    const tag = ws.gochatTag ?? 0;
    this.call((key) => {
      const kind = typeof message === "string" ? this.writeText(key, message) : kindBinary;
      context.event.socket = ws;
      return wasmExports.roomMessage(key, size, tag, kind, Date.now());
    });
  }
  // The peer's close reason (at most 123 bytes) goes to Go like a frame.
  webSocketClose(ws, code, reason, wasClean) {
    this.event("roomClose", ws, [ws.gochatTag ?? 0, code], reason ?? "");
  }
  webSocketError(ws, error) {
    this.event("roomError", ws, [ws.gochatTag ?? 0]);
  }
  alarm() {
    this.event("roomAlarm");
  }
}
