// Processes for the end-to-end run: the hub, tauri-driver (one per desk), temporary folders.
// Hubs serve HTTPS with a certificate from the local CA that `cargo xtask` made before this
// process started (E2E_CA_DIR; NODE_EXTRA_CA_CERTS makes Node's fetch trust it), and know
// their officers and intake channel from their own administration commands. Desks sign in
// as officers; the password reaches them through the environment, never an argument.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from './webdriver.mjs';

/** Every test officer's password (given to the desks as LIFELINE_HUB_PASSWORD). */
export const PASSWORD = 'e2e correct horse battery staple';
const CA_DIR = process.env.E2E_CA_DIR;
/** The CA file desks are told to trust (--hub-ca). */
export const CA_FILE = CA_DIR ? join(CA_DIR, 'ca.pem') : undefined;
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

/** Runs `lifeline-hub --db DB ARGS…` (administration), with `input` on stdin. */
export function admin(binary, db, args, input = undefined) {
  const r = spawnSync(binary, ['--db', db, ...args], { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`lifeline-hub ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/**
 * Starts a hub over HTTPS on a free port, with these officers (`{id, name, role?, posts?}`;
 * every post unless `posts` says otherwise), the drill accounts of `drill`
 * (`{scenario, officer, name}`), and an intake channel. Resolves with
 * `{url, channel, db, child}`; `channel` is the channel's secret.
 */
export async function startHub(binary, extraArgs = [], { officers = [], drill = null } = {}) {
  if (!CA_DIR) throw new Error('E2E_CA_DIR is not set (cargo xtask makes the local CA)');
  const dir = tempDir('hub');
  const db = join(dir, 'hub.sqlite');
  for (const o of officers) {
    admin(binary, db, ['officers', 'add', o.id, '--name', o.name, '--role', o.role ?? 'duty_officer', '--posts', o.posts ?? '*', '--password-stdin'], PASSWORD);
  }
  if (drill) admin(binary, db, ['drill-accounts', '--scenario', drill.scenario, '--officer', drill.officer, '--name', drill.name, '--password-stdin'], PASSWORD);
  const channel = admin(binary, db, ['channels', 'add', 'e2e-hotline']).split(/\s+/).find((w) => w.startsWith('llh_'));
  const child = track(
    spawn(binary, ['--db', db, '--listen', '127.0.0.1:0', '--tls-cert', join(CA_DIR, 'hub-cert.pem'), '--tls-key', join(CA_DIR, 'hub-key.pem'), ...extraArgs], {
      stdio: ['ignore', 'pipe', 'inherit'],
      detached: true,
    }),
  );
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (https:\/\/[0-9.:]+)/);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`hub exited (${code}) before listening`)));
  });
  return { url, channel, db, child };
}

/** Signs an officer in at `desk`; resolves with the access token. */
export async function signIn(hub, officer, desk) {
  const res = await fetch(`${hub.url}/v1/auth/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ officer, password: PASSWORD, desk }),
    signal: AbortSignal.timeout(20_000),
  });
  if (res.status !== 200) throw new Error(`sign-in of ${officer}: ${res.status} ${await res.text()}`);
  return (await res.json()).access_token;
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
    // The officer's password for --sign-in: through the environment, never an argument.
    LIFELINE_HUB_PASSWORD: PASSWORD,
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

/** A call to the hub with `token` (an officer's session, or the intake channel's secret). */
export async function hubFetch(hub, path, method = 'GET', body = undefined, token = hub.token) {
  const res = await fetch(`${hub.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

/** Posts a help request at the hub through its intake channel (what the hotline does). */
export async function intake(hub, request) {
  const r = await hubFetch(hub, '/v1/requests', 'POST', request, hub.channel);
  if (r.status !== 201 && r.status !== 200) throw new Error(`intake failed: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}

/** Whether `name` is owned on the session bus. */
function busNameOwned(name) {
  return spawnSync('gdbus', ['call', '--session', '--dest', 'org.freedesktop.DBus', '--object-path', '/org/freedesktop/DBus', '--method', 'org.freedesktop.DBus.NameHasOwner', name], { encoding: 'utf8' }).stdout?.includes('true');
}

/** A real keyring (gnome-keyring's Secret Service) on the session bus, unlocked with a test
 *  password, keeping its files in a folder of this run: the desks keep their database keys
 *  there. */
export async function startKeyring() {
  const home = tempDir('keyring');
  const child = track(
    spawn('gnome-keyring-daemon', ['--foreground', '--unlock', '--components=secrets'], {
      stdio: ['pipe', 'ignore', 'inherit'],
      detached: true,
      env: { ...process.env, HOME: home, XDG_DATA_HOME: home, XDG_RUNTIME_DIR: home },
    }),
  );
  child.stdin.end('e2e keyring password');
  const deadline = Date.now() + 15_000;
  while (!busNameOwned('org.freedesktop.secrets')) {
    if (Date.now() > deadline) throw new Error('gnome-keyring did not take org.freedesktop.secrets');
    await sleep(100);
  }
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
