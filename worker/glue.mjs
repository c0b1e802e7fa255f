// glue.mjs is the Worker's entry: a thin trampoline that starts one
// long-lived Go program per isolate and forwards every runtime event to it.
// It holds no chat logic; every decision is made in Go (worker/*.go, room/).
import "../build/wasm_exec.js"; // syumai/workers' patched wasm_exec.js: run(instance, context)
import wasm from "../build/app.wasm";

let go; // the running Go program
let context; // what Go sees as globalThis.context: its exports and our helpers

// gochat returns the Go program's exports, starting Go on first use and again
// if it ever exited. go.run runs main until it blocks, so the exports exist as
// soon as it returns. State lives in attachments and storage, so a restart
// loses nothing.
function gochat() {
  if (go === undefined || go.exited) {
    context = { binding: {}, broadcast };
    go = new Go();
    go.run(new WebAssembly.Instance(wasm, go.importObject), context);
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

export default {
  fetch(request, env, ctx) {
    return gochat().fetch(request, env, ctx);
  },
};

// ChatRoom is the Durable Object. Go keys its rooms by the object's id and is
// handed the object's ctx with each event.
export class ChatRoom {
  constructor(ctx, env) {
    this.ctx = ctx;
    this.env = env;
    this.key = gochat().roomInit(ctx, env);
  }
  fetch(request) {
    return gochat().roomFetch(this.key, this.ctx, this.env, request);
  }
  webSocketMessage(ws, message) {
    // Go can read no property of a JS string, so the size comes along: Go
    // refuses an oversized frame before copying it into its memory.
    const size = typeof message === "string" ? message.length : message.byteLength;
    gochat().roomMessage(this.key, this.ctx, this.env, ws, message, size);
  }
  webSocketClose(ws, code, reason, wasClean) {
    gochat().roomClose(this.key, this.ctx, this.env, ws, code, reason, wasClean);
  }
  webSocketError(ws, error) {
    gochat().roomError(this.key, this.ctx, this.env, ws, error);
  }
  alarm() {
    gochat().roomAlarm(this.key, this.ctx, this.env);
  }
}
