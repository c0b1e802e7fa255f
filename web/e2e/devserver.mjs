// devserver.mjs starts and stops `wrangler dev` for the browser tests, the
// way internal/devserver does for the Go ones: offline, on loopback, on a free
// port, in a process group of its own so that stopping it stops workerd too.
// restart() keeps the port and the --persist-to state, which is how a test
// cuts every connection without losing the rooms' storage.
import { spawn } from "node:child_process";
import { mkdtempSync, openSync, closeSync, readFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const START_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 10_000;

/** freePort returns a loopback port nobody listens on right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** waitFor polls check until it returns a truthy value or the deadline passes. */
export async function waitFor(what, check, timeoutMs = 30_000, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last.message}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export class DevServer {
  /**
   * @param {object} [o]
   * @param {string} [o.config] wrangler config, relative to the repository
   * @param {string} [o.name]   tag of the temporary directory
   * @param {Record<string, string>} [o.vars] passed as --var NAME:VALUE, e.g.
   *   {AUTH_SECRET: "..."} for a server whose rooms need a token
   */
  constructor({ config = "wrangler.toml", name = "web", vars = {} } = {}) {
    this.config = config;
    this.vars = vars;
    this.dir = mkdtempSync(path.join(os.tmpdir(), `gochat-${name}-`));
    this.state = path.join(this.dir, "state");
    this.logPath = path.join(this.dir, "wrangler.log");
    this.port = 0;
    this.child = null;
  }

  get http() { return `http://127.0.0.1:${this.port}`; }

  /** start runs wrangler dev (on the same port as before, if any) and waits for /api/health. */
  async start() {
    if (!this.port) this.port = await freePort();
    const inspector = await freePort();
    const log = openSync(this.logPath, "a");
    this.child = spawn(path.join(ROOT, "node_modules/.bin/wrangler"), [
      "dev", "--config", this.config,
      "--ip", "127.0.0.1", "--port", String(this.port),
      "--inspector-port", String(inspector),
      "--show-interactive-dev-session=false",
      "--persist-to", this.state,
      ...Object.entries(this.vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
    ], {
      cwd: ROOT,
      detached: true, // its own process group, so stop() reaches workerd
      stdio: ["ignore", log, log],
      env: {
        ...process.env,
        WRANGLER_SEND_METRICS: "false",
        WRANGLER_HIDE_BANNER: "true",
        CLOUDFLARE_CF_FETCH_ENABLED: "false",
        CI: "true",
      },
    });
    closeSync(log);
    const child = this.child;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    this.exited = exited;
    let died = false;
    exited.then(() => { died = true; });
    try {
      await waitFor(`wrangler dev on ${this.http}`, async () => {
        if (died) throw new Error(`wrangler dev exited:\n${this.logTail(30)}`);
        const res = await fetch(`${this.http}/api/health`);
        return res.status === 200;
      }, START_TIMEOUT_MS, 200);
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** stop ends the whole process group and waits for the port to close. */
  async stop() {
    const child = this.child;
    if (!child) return;
    this.child = null;
    const pgid = child.pid;
    const kill = (sig) => { try { process.kill(-pgid, sig); } catch { /* gone */ } };
    kill("SIGTERM");
    const timer = setTimeout(() => kill("SIGKILL"), STOP_TIMEOUT_MS);
    await this.exited;
    clearTimeout(timer);
    kill("SIGKILL"); // workerd may outlive wrangler by a moment
    await waitFor(`port ${this.port} to close`, () => new Promise((resolve) => {
      const s = net.connect(this.port, "127.0.0.1");
      s.once("connect", () => { s.destroy(); resolve(false); });
      s.once("error", () => resolve(true));
    }), STOP_TIMEOUT_MS);
  }

  async restart() {
    await this.stop();
    await this.start();
  }

  logTail(n = 40) {
    try {
      return readFileSync(this.logPath, "utf8").split("\n").slice(-n).join("\n");
    } catch {
      return "";
    }
  }
}
