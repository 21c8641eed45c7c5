// Processes for the end-to-end run: the hub, tauri-driver (one per desk), temporary folders.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from './webdriver.mjs';

export const TOKEN = 'e2e-token';
const children = [];

export function tempDir(name) {
  return mkdtempSync(join(process.env.E2E_TMP ?? tmpdir(), `lifeline-${name}-`));
}

function track(child) {
  children.push(child);
  return child;
}

/** Kills everything started here (hubs, drivers and the apps they started). */
export function stopAll() {
  for (const c of children.reverse()) {
    try {
      process.kill(-c.pid, 'SIGKILL');
    } catch {
      try {
        c.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

/** Starts the hub on a free port; resolves with its URL. */
export async function startHub(binary, extraArgs = []) {
  const dir = tempDir('hub');
  const child = track(
    spawn(binary, ['--db', join(dir, 'hub.sqlite'), '--listen', '127.0.0.1:0', '--token', TOKEN, ...extraArgs], {
      stdio: ['ignore', 'pipe', 'inherit'],
      detached: true,
    }),
  );
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/[0-9.:]+)/);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`hub exited (${code}) before listening`)));
  });
  return { url, child };
}

function waitForPort(port, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = createConnection({ host: '127.0.0.1', port }, () => {
        socket.end();
        resolve();
      });
      socket.on('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`nothing listens on ${port}`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

/**
 * Starts tauri-driver for one desk. The app inherits the driver's environment: each desk
 * gets its own HOME and XDG folders, so WebKit and Mesa caches stay in the test's folder.
 * Given `home`, the desk reuses that one (and the caches an earlier launch left there).
 */
export async function startDriver(port, nativePort, name, home = tempDir(`home-${name}`)) {
  for (const d of ['data', 'config', 'cache']) mkdirSync(join(home, d), { recursive: true });
  const env = {
    ...process.env,
    HOME: home,
    XDG_DATA_HOME: join(home, 'data'),
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_CACHE_HOME: join(home, 'cache'),
    // No accessibility bus in a test session.
    NO_AT_BRIDGE: '1',
  };
  track(
    spawn(process.env.TAURI_DRIVER ?? 'tauri-driver', ['--port', String(port), '--native-port', String(nativePort)], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env,
      detached: true,
    }),
  );
  await waitForPort(port);
  await sleep(200);
  return { port, dataDir: join(home, 'desk') };
}

export async function hubFetch(hub, path, method = 'GET', body) {
  const res = await fetch(`${hub}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

/** Posts a help request at the hub (what the hotline side does). */
export async function intake(hub, request) {
  const r = await hubFetch(hub, '/v1/requests', 'POST', request);
  if (r.status !== 201 && r.status !== 200) throw new Error(`intake failed: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}

/** A real notification server (dunst) on the session bus, and a recorder of Notify calls. */
export async function startNotifications(logFile) {
  const { spawnSync } = await import('node:child_process');
  const { openSync } = await import('node:fs');
  track(spawn('dunst', [], { stdio: 'ignore', detached: true }));
  const owned = () =>
    spawnSync('gdbus', ['call', '--session', '--dest', 'org.freedesktop.DBus', '--object-path', '/org/freedesktop/DBus', '--method', 'org.freedesktop.DBus.NameHasOwner', 'org.freedesktop.Notifications'], { encoding: 'utf8' }).stdout?.includes('true');
  const deadline = Date.now() + 15_000;
  while (!owned()) {
    if (Date.now() > deadline) throw new Error('dunst did not take org.freedesktop.Notifications');
    await sleep(100);
  }
  const out = openSync(logFile, 'w');
  track(
    spawn('dbus-monitor', ['--session', "type='method_call',interface='org.freedesktop.Notifications',member='Notify'"], {
      stdio: ['ignore', out, 'inherit'],
      detached: true,
    }),
  );
  await sleep(500);
}

/** The Notify calls recorded so far whose text contains `needle`. */
export async function notifyCalls(logFile, needle) {
  const { readFileSync } = await import('node:fs');
  const log = readFileSync(logFile, 'utf8');
  return log.split('member=Notify').slice(1).filter((block) => block.includes(needle)).length;
}

/** What dunst has shown (its history), to confirm receipt, not just the call. */
export async function dunstHistory() {
  const { spawnSync } = await import('node:child_process');
  return spawnSync('dunstctl', ['history'], { encoding: 'utf8' }).stdout ?? '';
}
