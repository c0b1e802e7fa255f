// glue.mjs is the Worker's entry: a thin trampoline that starts one
// long-lived Go program per isolate and forwards every runtime event to it.
// It holds no chat logic; every decision is made in Go (worker/*.go, room/).
import "../build/wasm_exec.js"; // syumai/workers' patched wasm_exec.js: run(instance, context)
import wasm from "../build/app.wasm";

let go; // the running Go program
let context; // what Go sees as globalThis.context: its exports and our helpers
let generation = 0; // counts Go programs started in this isolate

// gochat returns the Go program's exports, starting Go on first use and again
// if it ever exited. go.run runs main until it blocks, so the exports exist as
// soon as it returns. State lives in attachments and storage, so a restart
// loses nothing.
function gochat() {
  if (go === undefined || go.exited) {
    context = { binding: {}, broadcast, sqlValue };
    go = new Go();
    go.run(new WebAssembly.Instance(wasm, go.importObject), context);
    generation++;
  }
  return context.binding;
}

// broadcast sends one string to many sockets: one call from Go per fan-out
// instead of one per socket. It returns the indexes whose send threw.
function broadcast(text, sockets) {
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

// sqlValue runs one SQL statement and returns the first column of its first
// row (or undefined): one call from Go instead of one each for the cursor, the
// row and the column.
function sqlValue(sql, query, ...bindings) {
  for (const row of sql.exec(query, ...bindings).raw()) return row[0];
}

export default {
  fetch(request, env, ctx) {
    return gochat().fetch(request, env, ctx);
  },
};

// ChatRoom is the Durable Object. Go keys its rooms by a number it hands out
// when the object registers, and keeps the object's ctx and env with it. Go
// answers null for a key it no longer holds (it drops a room whose last socket
// closed, and forgets everything if it was restarted); the object then
// registers again and repeats the call.
export class ChatRoom {
  constructor(ctx, env) {
    this.ctx = ctx;
    this.env = env;
    this.key = gochat().roomInit(ctx, env);
    this.generation = generation;
  }
  call(name, ...args) {
    const exports = gochat();
    if (this.generation === generation) {
      const result = exports[name](this.key, ...args);
      if (result !== null) return result;
    }
    this.key = exports.roomInit(this.ctx, this.env);
    this.generation = generation;
    return exports[name](this.key, ...args);
  }
  fetch(request) {
    return this.call("roomFetch", request);
  }
  webSocketMessage(ws, message) {
    // Go can read no property of a JS string, so the size comes along: Go
    // refuses an oversized frame before copying it into its memory.
    const size = typeof message === "string" ? message.length : message.byteLength;
    this.call("roomMessage", ws, message, size);
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
