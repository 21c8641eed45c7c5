// Trust: TLS, the encrypted store, redacted exports, the keyring, sign-in, capabilities.
import { cpSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Session } from '../webdriver.mjs';
import { CA_FILE, PASSWORD, admin, hubFetch, startDriver, tempDir } from '../harness.mjs';
import { DESK, HUB, OUT, assert, queueTotal, ctx } from '../common.mjs';

export const TESTS = [
  async function a_desk_refuses_a_plain_http_hub_off_this_computer() {
    // Refused before anything is sent: the address is never contacted.
    const driver = await startDriver(4448, 4449, 'c');
    const c = await Session.create(4448, DESK, ['--data-dir', driver.dataDir, '--hub', 'http://hub.example.org:7070', '--sign-in', 'Li', '--desk', 'desk-c', '--lang', 'en']);
    try {
      await c.waitFor('the health bar says why it does not sync', async () => {
        const text = await c.textContent('[data-testid="hub-error"]');
        return text && text.includes('refusing plain http://');
      }, 20_000);
      const state = await c.execute('return document.querySelector(\'[data-testid="health"]\').dataset.state');
      assert(state === 'offline', `the desk shows itself offline: ${state}`);
    } finally {
      await c.close();
    }
  },

  async function the_desks_data_is_encrypted_and_private_on_disk() {
    // Desk A holds the 40 requests and more: names, phones, descriptions.
    const dir = ctx.dataDirA;
    const files = readdirSync(dir).filter((f) => statSync(join(dir, f)).isFile());
    assert(files.includes('desk.sqlite') && files.includes('desk.index.sqlite'), `the store and its index: ${files}`);
    const header = readFileSync(join(dir, 'desk.sqlite')).subarray(0, 16).toString('latin1');
    assert(header !== 'SQLite format 3\u0000', 'the store is not a plaintext SQLite file');
    for (const f of files) {
      const bytes = readFileSync(join(dir, f));
      for (const planted of ['测试人员', '+8613800138000', 'Robbed near the hotel', '曼谷机场']) {
        assert(!bytes.includes(Buffer.from(planted)), `${f} holds ${planted} in plaintext`);
      }
      if (process.platform !== 'win32') {
        const mode = statSync(join(dir, f)).mode & 0o777;
        assert((mode & 0o077) === 0, `${f} is readable by others (${mode.toString(8)})`);
      }
    }
    assert((statSync(dir).mode & 0o077) === 0, 'the data folder is private');
  },

  async function an_export_from_the_desk_carries_no_personal_data() {
    const s = ctx.a;
    const planted = ['测试人员', '+8613800138000', 'Robbed near the hotel', '曼谷机场'];
    for (const format of ['csv', 'geojson']) {
      await s.clickCss(`[data-testid="export-${format}"]`);
      await s.waitFor(`the ${format} export is written`, async () => ((await s.execute('const e = document.querySelector(\'[data-testid="export-done"]\'); return e ? e.dataset.path : ""')) ?? '').endsWith(`.${format}`), 15_000);
      const path = await s.execute('return document.querySelector(\'[data-testid="export-done"]\').dataset.path');
      const text = readFileSync(path, 'utf8');
      for (const p of planted) assert(!text.includes(p), `the ${format} export holds ${p}`);
      assert((statSync(path).mode & 0o077) === 0, `the ${format} export is readable by others`);
      if (format === 'csv') {
        const [header, ...rows] = text.trim().split('\n');
        const cols = header.split(',');
        assert(cols[0] === 'id' && rows.length >= 40, `a header and the requests shown: ${rows.length} rows`);
        const lat = cols.indexOf('lat');
        const precise = rows.map((r) => r.split(',')[lat]).filter((v) => /\.\d{3,}/.test(v));
        assert(precise.length === 0, `positions are rounded to about 1 km: ${precise.slice(0, 3)}`);
      } else {
        const features = JSON.parse(text).features;
        assert(features.length >= 40 && features.every((f) => f.properties.citizen.name === '[redacted]'), 'every feature, the name redacted');
      }
    }
  },

  async function a_desk_whose_key_is_missing_blocks_and_touches_nothing() {
    // A copy of desk A's data in another folder: the keyring has no key for it.
    const copy = join(tempDir('orphan'), 'desk');
    cpSync(ctx.dataDirA, copy, { recursive: true });
    // Every file, in the folders below too (the map packs).
    const digest = () =>
      readdirSync(copy, { recursive: true })
        .map(String)
        .filter((f) => statSync(join(copy, f)).isFile())
        .sort()
        .map((f) => `${f}:${createHash('sha256').update(readFileSync(join(copy, f))).digest('hex')}`)
        .join(' ');
    const before = digest();
    const driver = await startDriver(4452, 4453, 'orphan');
    const c = await Session.create(4452, DESK, ['--data-dir', copy, '--lang', 'en']);
    try {
      await c.waitFor('the desk says its key is missing', async () => (await c.execute('const b = document.querySelector(\'[data-testid="startup-blocked"]\'); return b ? b.dataset.code : null;')) === 'key_lost', 20_000);
      const message = await c.textContent('[data-testid="startup-message"]');
      assert(message.includes('recovery key') && message.includes('Do not delete'), `it says what to do: ${message}`);
      // (No WebDriver screenshot here: WebKitWebDriver waits for a new frame, and this static
      // page draws none.)
    } finally {
      await c.close();
    }
    assert(digest() === before, 'the files of a desk with a missing key are left exactly as they were');
    void driver;
  },

  async function a_new_desk_asks_to_sign_in_and_keeps_the_session_in_the_keyring() {
    const driver = await startDriver(4454, 4455, 'd');
    const args = (extra) => ['--data-dir', driver.dataDir, '--hub-ca', CA_FILE, '--desk', 'desk-d', '--lang', 'en', ...extra];
    const signInShown = async (s) => (await s.findAll('[data-testid="sign-in"]')).length === 1;
    let d = await Session.create(4454, DESK, args(['--lock-after', '0']));
    try {
      await d.waitFor('the first run asks to sign in', () => signInShown(d), 20_000);
      await d.waitFor('the map behind is drawn', () => d.execute('return document.body.dataset.mapReady === "1"'), 60_000);
      writeFileSync(join(OUT, 'sign-in-en.png'), await d.screenshot());
      await d.type(await d.find('#sign-in-hub'), ctx.hub.url);
      await d.type(await d.find('#sign-in-officer'), 'Zhao');
      await d.type(await d.find('#sign-in-password'), 'not the password');
      await d.clickCss('[data-testid="sign-in-submit"]');
      await d.waitFor('a wrong password is refused, in words', async () => ((await d.textContent('[data-testid="sign-in-error"]')) ?? '').includes('password is wrong'), 20_000);
      await d.type(await d.find('#sign-in-password'), PASSWORD);
      await d.clickCss('[data-testid="sign-in-submit"]');
      await d.waitFor('signed in: the dialog closes and the desk names Zhao', async () => !(await signInShown(d)) && (await d.textContent('[data-testid="officer"]')) === 'Zhao', 20_000);
      await d.waitFor('the queue fills from the hub', async () => (await queueTotal(d)) >= 40, 30_000);
    } finally {
      await d.close();
    }
    const settings = JSON.parse(readFileSync(join(driver.dataDir, 'settings.json'), 'utf8'));
    assert(settings.hub_url === ctx.hub.url && settings.officer_id === 'Zhao', `the settings name the hub and the officer: ${JSON.stringify(settings)}`);
    for (const f of readdirSync(driver.dataDir).filter((f) => statSync(join(driver.dataDir, f)).isFile())) {
      const bytes = readFileSync(join(driver.dataDir, f));
      assert(!bytes.includes(Buffer.from('llh_')) && !bytes.includes(Buffer.from(PASSWORD)), `${f} holds a token or the password`);
    }

    // Started again: the session comes from the keyring, nobody is asked.
    d = await Session.create(4454, DESK, args(['--lock-after', '4']));
    try {
      await d.waitFor('signed in from the kept session', async () => (await d.textContent('[data-testid="officer"]')) === 'Zhao', 20_000);
      assert(!(await signInShown(d)), 'a desk with a kept session does not ask to sign in');
      await d.waitFor('the queue is there', async () => (await queueTotal(d)) >= 40, 30_000);

      // Idle for four seconds: the window locks and nothing personal is on screen or served.
      await d.waitFor('the window locks when idle', async () => (await d.findAll('[data-testid="locked"]')).length === 1, 20_000);
      const onScreen = await d.execute('return document.body.innerText');
      assert(!onScreen.includes('测试人员') && !onScreen.includes('E2E-0') && !onScreen.includes('Robbed'), `the locked window shows no citizen's data: ${onScreen}`);
      const refused = await d.executeAsync(
        `const done = arguments[arguments.length - 1];
         window.__TAURI_INTERNALS__.invoke('request_detail', { id: 'E2E-001' }).then(() => done('served'), (e) => done(e.code));`,
      );
      assert(refused === 'desk_locked', `the backend refuses a citizen's data while locked: ${refused}`);
      await d.type(await d.find('#unlock-password'), 'a guess');
      await d.clickCss('[data-testid="unlock-submit"]');
      await d.waitFor('a wrong password does not unlock', async () => (await d.findAll('[data-testid="unlock-error"]')).length === 1, 10_000);
      await d.type(await d.find('#unlock-password'), PASSWORD);
      await d.clickCss('[data-testid="unlock-submit"]');
      await d.waitFor('the password unlocks it (checked offline)', async () => (await d.findAll('[data-testid="queue-row"]')).length > 3, 15_000);

      // The hub revokes the session: the desk keeps working from its data, queues the
      // officer's edit, and asks to sign in again; the edit goes once someone has.
      const listed = admin(HUB, ctx.hub.db, ['sessions', 'list', '--officer', 'Zhao']);
      const line = listed.split('\n').find((l) => l.includes('desk-d') && l.includes('live'));
      assert(line, `the hub lists desk D's session: ${listed}`);
      admin(HUB, ctx.hub.db, ['sessions', 'revoke', line.split(/\s+/)[0]]);
      // Earlier tests added requests above it in the queue: find it by its id.
      await d.type(await d.find('#search'), 'E2E-039');
      await d.waitFor('the search finds E2E-039', async () => (await d.findAll('[data-testid="queue-row"][data-id="E2E-039"]')).length === 1, 15_000);
      await d.clickCss('[data-testid="queue-row"][data-id="E2E-039"]');
      await d.waitFor('E2E-039 is open', async () => (await d.findAll('[data-testid="act-acknowledge"]')).length === 1, 10_000);
      await d.clickCss('[data-testid="act-acknowledge"]');
      await d.waitFor('the desk says the session ended and keeps the edit', async () => {
        const button = (await d.textContent('[data-testid="sign-in-button"]')) ?? '';
        return button.includes('Session ended') && (await d.textContent('[data-testid="outbox-pending"]')).includes('1');
      }, 30_000);
      assert((await hubFetch(ctx.hub, '/v1/requests/E2E-039')).json.status === 'new', 'nothing reached the hub under the revoked session');
      await d.clickCss('[data-testid="sign-in-button"]');
      await d.waitFor('the sign-in dialog opens', () => signInShown(d), 10_000);
      await d.type(await d.find('#sign-in-password'), PASSWORD);
      await d.clickCss('[data-testid="sign-in-submit"]');
      await d.waitFor('after signing in again the edit reaches the hub', async () => (await hubFetch(ctx.hub, '/v1/requests/E2E-039')).json.status === 'acknowledged', 30_000);
    } catch (e) {
      writeFileSync(join(OUT, 'desk-d-failed.png'), await d.screenshot());
      throw e;
    } finally {
      await d.close();
    }
  },

  async function a_command_outside_the_capability_is_refused() {
    const s = ctx.a;
    const result = await s.executeAsync(
      `const done = arguments[arguments.length - 1];
       const ipc = window.__TAURI_INTERNALS__;
       Promise.allSettled([
         ipc.invoke('app_info'),
         ipc.invoke('plugin:notification|notify', { options: { title: 'from the web view' } }),
         ipc.invoke('plugin:notification|is_permission_granted'),
       ]).then(r => done(r.map(x => x.status === 'fulfilled' ? 'ok' : String(x.reason))));`,
    );
    assert(result[0] === 'ok', `a granted command works: ${result[0]}`);
    for (const refused of result.slice(1)) {
      assert(/not allowed|denied|forbidden/i.test(refused), `a command missing from the capability is refused: ${refused}`);
    }
  },
];
