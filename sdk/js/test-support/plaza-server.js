// Starts a real Plaza server (python -m server.cli serve) on 127.0.0.1 for the SDK's tests, and
// stops it. Fast start: no recommender, no asset generation. Kept out of test/ so that
// `node --test` does not run it as a test file.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
export const PYTHON = process.env.PLAZA_PYTHON || join(REPO, '.venv', 'bin', 'python');
// Where `python -m server.cli` runs (and whose worlds/ it serves): this checkout unless set.
export const SERVER_DIR = process.env.PLAZA_SERVER_DIR || REPO;
const LOG_KEEP = 20_000;

/** @returns {Promise<number>} a TCP port that was free a moment ago */
export function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (s.address());
      s.close(() => ok(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Server processes still running: killed when this process exits or is interrupted, so a
// failed, timed-out or interrupted test run never leaves a server behind.
const live = new Set();
const killAll = () => {
  for (const p of live) { try { p.kill('SIGKILL'); } catch { /* gone */ } }
  live.clear();
};
process.on('exit', killAll);
for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]]) {
  process.once(sig, () => { killAll(); process.exit(code); });
}

/**
 * A Plaza server process; `await server.stop()` always (it also dies with this process).
 */
export class PlazaServer {
  constructor(port, dataDir) {
    this.port = port;
    this.dataDir = dataDir;
    this.url = `http://127.0.0.1:${port}`;
    this.wsUrl = `ws://127.0.0.1:${port}/ws`;
    this.proc = null;
    this.log = '';
  }

  static async start(opts = {}) {
    const dataDir = mkdtempSync(join(tmpdir(), 'plaza-sdk-test-'));
    for (let attempt = 1; ; attempt++) {
      const server = new PlazaServer(await freePort(), dataDir);
      try {
        await server.launch(opts.timeoutMs);
        return server;
      } catch (e) {
        // The port was free when chosen, but another process may have bound it since: another one.
        if (attempt < 5 && /address already in use/i.test(server.log)) {
          await server.kill();
          continue;
        }
        await server.stop();
        throw e;
      }
    }
  }

  /** Start the process and wait until GET /api/health answers 200. */
  async launch(timeoutMs = 30_000) {
    const args = [
      '-m', 'server.cli', 'serve', '--host', '127.0.0.1', '--port', String(this.port),
      '--worlds', join(SERVER_DIR, 'worlds'), '--data', this.dataDir, '--no-recommender', '--no-generate',
    ];
    const proc = spawn(PYTHON, args, { cwd: SERVER_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    live.add(proc);
    proc.once('exit', () => live.delete(proc));
    const keep = (d) => { this.log = (this.log + d).slice(-LOG_KEEP); };
    proc.stdout.on('data', keep);
    proc.stderr.on('data', keep);
    let spawnError = null;
    proc.once('error', (e) => { spawnError = e; });
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (spawnError) throw new Error(`could not run ${PYTHON}: ${spawnError.message} (set PLAZA_PYTHON)`);
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(`plaza server exited (${proc.exitCode ?? proc.signalCode}):\n${this.log}`);
      }
      try {
        const r = await fetch(`${this.url}/api/health`, { signal: AbortSignal.timeout(1000) });
        if (r.ok) return this;
      } catch { /* not up yet */ }
      await sleep(100);
    }
    throw new Error(`plaza server did not answer /api/health within ${timeoutMs} ms:\n${this.log}`);
  }

  /** SIGINT (graceful: clients get a close), then SIGKILL after `graceMs`. */
  async kill(graceMs = 5000) {
    const proc = this.proc;
    if (!proc) return;
    this.proc = null;
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGINT');
    const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  /** Stop and start again on the same port with the same data. */
  async restart() {
    await this.kill();
    await this.launch();
  }

  /** Kill the process and remove its data directory. */
  async stop() {
    await this.kill();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
