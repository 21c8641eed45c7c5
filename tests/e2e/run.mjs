// End-to-end tests of the real desk binary, driven through WebDriver under a virtual
// display, against a real hub on 127.0.0.1. Run by `cargo xtask ci` inside xvfb-run and a
// private D-Bus session (see xtask/src/run.rs); needs DESK_BIN and HUB_BIN.
//
// Where new tests go: a function in TESTS below; they run in order and share the desks.
import { cpSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Session, sleep } from './webdriver.mjs';
import { CA_FILE, PASSWORD, admin, dunstHistory, hubFetch, intake, notifyCalls, signIn, startDriver, startHub, startKeyring, startNotifications, stopAll, tempDir } from './harness.mjs';

const DESK = process.env.DESK_BIN;
const HUB = process.env.HUB_BIN;
const OUT = process.env.E2E_OUT ?? 'target/e2e';
mkdirSync(OUT, { recursive: true });

const XSS = '<img src=x onerror="document.body.dataset.pwned=1"><script>document.body.dataset.pwned=2</script>';

function assert(ok, message) {
  if (!ok) throw new Error(message);
}

function request(i, extra = {}) {
  const passport = i % 4 === 0;
  return {
    id: `E2E-${String(i).padStart(3, '0')}`,
    channel: i % 2 ? 'app' : 'hotline',
    category: passport ? 'lost_documents' : 'crime_victim',
    emergency: i % 7 === 0,
    citizen: { name: `测试人员${i}`, phone: '+8613800138000' },
    location: { lat: 13.70 + (i % 10) * 0.01, lon: 100.45 + Math.floor(i / 10) * 0.01, accuracy_m: 30, country: 'TH' },
    description: passport ? `护照在曼谷机场丢失 passport lost #${i}` : `Robbed near the hotel #${i}`,
    post: 'Embassy Bangkok',
    ...extra,
  };
}

/** A desk on `hub`, signed in as `officer` (its password comes from the driver's
 *  environment), trusting the local CA. */
function deskArgs(driver, hub, name, officer, extra = []) {
  return ['--data-dir', join(driver.dataDir), '--hub', hub.url, '--hub-ca', CA_FILE, '--sign-in', officer, '--desk', name, '--lang', 'zh', ...extra];
}

/** Acknowledges a request at the hub, as Zhao at another desk would. */
async function acknowledgeAtHub(hub, id) {
  ctx.zhao ??= await signIn(hub, 'Zhao', 'desk-x');
  const current = (await hubFetch(hub, `/v1/requests/${id}`)).json;
  const res = await fetch(`${hub.url}/v1/requests/${id}/actions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ctx.zhao}`, 'content-type': 'application/json', 'idempotency-key': `e2e-ack-${id}` },
    body: JSON.stringify({ action: 'acknowledge', base_version: current.version }),
  });
  assert(res.status === 200, `acknowledging ${id} at the hub: ${res.status} ${await res.text()}`);
}

async function queueTotal(s) {
  const el = await s.find('[data-testid="queue-summary"]');
  return Number(await s.attribute(el, 'data-total'));
}

const ctx = {};

const TESTS = [
  async function the_map_canvas_is_drawn() {
    const s = ctx.a;
    await s.waitFor('the map reports ready', () => s.execute('return document.body.dataset.mapReady === "1"'), 60_000);
    const canvas = await s.execute(
      `const c = document.querySelector('[data-testid="map"] canvas');
       return c ? {w: c.width, h: c.height} : null;`,
    );
    assert(canvas && canvas.w > 300 && canvas.h > 300, `map canvas has a size: ${JSON.stringify(canvas)}`);
    // Not a blank canvas: sample the WebGL drawing buffer for more than one colour.
    const png = await s.screenshot();
    writeFileSync(join(OUT, 'map-ready.png'), png);
    assert(png.length > 20_000, `the screenshot has content (${png.length} bytes)`);
  },

  async function the_queue_fills_from_the_hub() {
    for (let i = 0; i < 40; i++) await intake(ctx.hub, request(i));
    await ctx.a.waitFor('the queue shows the 40 requests', async () => (await queueTotal(ctx.a)) === 40, 30_000);
    const rows = await ctx.a.findAll('[data-testid="queue-row"]');
    assert(rows.length > 3, 'rows are drawn');
    const first = await ctx.a.text(rows[0]);
    assert(first.includes('紧急求助'), `emergencies come first: ${first}`);
  },

  async function a_search_narrows_the_queue() {
    const s = ctx.a;
    const search = await s.find('#search');
    await s.click(search);
    await s.type(search, '护照');
    await s.waitFor('the search narrows to the 10 passport requests', async () => (await queueTotal(s)) === 10, 15_000);
    // What filters the queue stays in view above it, whatever the top bar can show.
    assert(((await s.textContent('[data-testid="active-filters"]')) ?? '').includes('“护照”'), 'the search shows as an active filter');
    const texts = await s.execute('return [...document.querySelectorAll(\'[data-testid="queue-excerpt"]\')].map(e => e.textContent)');
    assert(texts.length > 0 && texts.every((t) => t.includes('护照')), `every row matches: ${texts.join(' | ')}`);
    await s.type(search, 'passport');
    await s.waitFor('English search finds the same', async () => (await queueTotal(s)) === 10, 15_000);
    // Regression: Escape emptied the box and left the queue filtered ("10 shown").
    await s.keys('\uE00C');
    await s.waitFor('Escape empties the box and the filter with it', async () => {
      const box = await s.execute('return document.getElementById("search").value');
      return box === '' && (await queueTotal(s)) === 40 && (await s.findAll('[data-testid="active-filters"]')).length === 0;
    }, 15_000);
    // The heat map has a legend of its own, with its scale.
    await s.clickCss('[data-testid="map-heat"]');
    await s.waitFor('the heat legend shows', async () => ((await s.textContent('[data-testid="heat-legend"]')) ?? '').includes('3 000'), 10_000);
    await s.execute('const b = document.querySelector(".map-mode button"); b && b.click(); return null;');
  },

  async function an_acknowledge_reaches_the_hub_and_a_second_desk_sees_it() {
    const s = ctx.a;
    await s.clickCss('[data-testid="queue-row"][data-id="E2E-000"]');
    await s.waitFor('the detail shows E2E-000', async () => (await s.text(await s.find('[data-testid="detail-title"]'))).includes('紧急求助'));
    await s.clickCss('[data-testid="act-acknowledge"]');
    await s.waitFor('the hub has it acknowledged', async () => (await hubFetch(ctx.hub, '/v1/requests/E2E-000')).json.status === 'acknowledged', 20_000);
    await s.waitFor('desk A shows it confirmed (no longer pending)', async () => {
      const items = await s.findAll('[data-testid="outbox-item"]');
      const status = await s.text(await s.find('[data-testid="detail-status"]'));
      return items.length === 0 && status === '已确认';
    }, 20_000);
    // Desk B, a second workstation: the acknowledgement arrives through sync.
    const b = ctx.b;
    await b.waitFor('desk B has the requests', async () => (await queueTotal(b)) >= 39, 30_000);
    const search = await b.find('#search');
    await b.type(search, 'E2E');
    await b.waitFor('desk B lists E2E-000', async () => (await b.findAll('[data-testid="queue-row"][data-id="E2E-000"]')).length === 1, 15_000);
    await b.clickCss('[data-testid="queue-row"][data-id="E2E-000"]');
    await b.waitFor('desk B shows it acknowledged', async () => (await b.text(await b.find('[data-testid="detail-status"]'))) === '已确认', 20_000);
    const log = await b.text(await b.find('[data-testid="case-log"]'));
    assert(log.includes('desk-a/Li'), `desk B's case log says who acknowledged (the signed-in officer): ${log}`);
  },

  // Regression: "A" once acknowledged the oldest SOS with nothing open, and letters typed
  // into a note box that had closed acknowledged it four times over.
  async function the_a_key_acknowledges_only_the_request_on_screen() {
    const s = ctx.a;
    const hubStatus = async (id) => (await hubFetch(ctx.hub, `/v1/requests/${id}`)).json.status;
    const toast = () => s.execute('const t = document.querySelector(\'[data-testid="action-toast"]\'); return t ? { kind: t.dataset.kind, id: t.dataset.request } : null;');
    // The oldest SOS nobody acknowledged: E2E-007 (E2E-000 was acknowledged above).
    assert((await hubStatus('E2E-007')) === 'new', 'E2E-007 starts unacknowledged');
    await s.execute('document.activeElement && document.activeElement.blur()');
    await sleep(2200);
    await s.keys('\uE00C'); // Escape: nothing open
    await s.waitFor('the detail is empty', async () => (await s.findAll('[data-testid="detail-title"]')).length === 0, 10_000);
    await s.keys('a');
    await s.waitFor('"A" with nothing open opens the oldest SOS', async () => {
      const t = await toast();
      return t && t.kind === 'opened' && t.id === 'E2E-007' && (await s.textContent('[data-testid="detail"]')).includes('#E2E-007');
    }, 10_000);
    await sleep(1500);
    assert((await hubStatus('E2E-007')) === 'new', 'opening is not acknowledging');
    // Typing a note, the box loses focus mid-word; the officer's fingers keep going.
    const note = await s.find('#note-input');
    await s.click(note);
    await s.type(note, 'citizen is waiting at the ');
    await s.execute('document.activeElement.blur()');
    await s.keys('a bank, call back after a while');
    // And Escape out of the search box, then straight on typing.
    const search = await s.find('#search');
    await s.click(search);
    await s.keys('\uE00C');
    await s.keys('aaaa');
    await sleep(2000);
    assert((await hubStatus('E2E-007')) === 'new', 'letters typed after a field lost focus acknowledged nothing');
    const pending = await s.findAll('[data-testid="outbox-item"]');
    assert(pending.length === 0, `nothing was queued: ${pending.length} outbox items`);
    assert((await toast())?.kind !== 'acknowledged', 'no acknowledgement was reported');
    await s.type(note, '');
    await s.execute('document.activeElement.blur()');
    // After a real pause, "A" acknowledges the request on screen, and says so.
    await sleep(2200);
    await s.keys('a');
    await s.waitFor('the toast names what was acknowledged', async () => {
      const t = await toast();
      return t && t.kind === 'acknowledged' && t.id === 'E2E-007';
    }, 10_000);
    await s.waitFor('the hub has E2E-007 acknowledged', async () => (await hubStatus('E2E-007')) === 'acknowledged', 20_000);
    await s.waitFor('once the hub has it, no undo is offered', async () => (await s.findAll('[data-testid="action-undo"]')).length === 0, 20_000);
  },

  async function switching_language_changes_the_labels() {
    const s = ctx.a;
    const tab = async () => s.text(await s.find('.tabs button'));
    assert((await tab()) === '求助队列', `starts in Chinese: ${await tab()}`);
    await s.click(await s.find('[data-testid="lang-en"]'));
    await s.waitFor('labels switch to English', async () => (await tab()) === 'Queue');
    const status = await s.text(await s.find('[data-testid="detail-status"]'));
    assert(status === 'acknowledged', `vocabulary follows: ${status}`);
    // The longer English labels must not push the hub's health or the officer off screen.
    const clipped = await s.execute(
      `return ['[data-testid="health"]', '[data-testid="lang-en"]', '[data-testid="alerts-button"]', '.officer']
         .filter((css) => { const r = document.querySelector(css).getBoundingClientRect();
                            return r.width === 0 || r.right > window.innerWidth; });`,
    );
    assert(clipped.length === 0, `top bar items cut off in English: ${clipped.join(', ')}`);
    writeFileSync(join(OUT, 'desk-en.png'), await s.screenshot());
    await s.click(await s.find('[data-testid="lang-zh"]'));
    await s.waitFor('labels switch back to Chinese', async () => (await tab()) === '求助队列');
  },

  async function citizen_text_is_shown_as_text_everywhere() {
    const s = ctx.a;
    await intake(ctx.hub, request(900, { id: 'E2E-XSS', description: XSS, citizen: { name: XSS }, location: { lat: 14.5, lon: 101.5, accuracy_m: 10 } }));
    const search = await s.find('#search');
    await s.type(search, 'E2E');
    await s.waitFor('the hostile request is listed', async () => (await s.findAll('[data-testid="queue-row"][data-id="E2E-XSS"]')).length === 1, 20_000);
    const rowText = await s.textContent('[data-testid="queue-row"][data-id="E2E-XSS"]');
    assert(rowText.includes('<img src=x'), `the queue shows the markup as text: ${rowText}`);
    await s.clickCss('[data-testid="queue-row"][data-id="E2E-XSS"]');
    await s.waitFor('the detail shows it', async () => (await s.text(await s.find('[data-testid="detail-description"]'))) === XSS);
    // The map popup: click the marker where an officer would.
    await sleep(1500);
    const point = await s.execute('return window.lifelineMapPoint(101.5, 14.5)');
    assert(point, 'the map can place the marker');
    await s.clickAt(point[0], point[1]);
    await s.waitFor('the popup opens', async () => s.execute('return document.querySelector(".maplibregl-popup") !== null'), 10_000);
    const popup = await s.execute(
      `const p = document.querySelector('.maplibregl-popup');
       return { text: p.textContent, images: p.querySelectorAll('img').length, scripts: p.querySelectorAll('script').length };`,
    );
    assert(popup.text.includes('<img src=x'), `the popup shows the markup as text: ${popup.text}`);
    const injected = await s.execute(
      `return { pwned: document.body.dataset.pwned ?? null,
                images: [...document.querySelectorAll('img')].filter(i => i.getAttribute('src') === 'x').length,
                scripts: [...document.querySelectorAll('script')].filter(x => x.textContent.includes('pwned')).length };`,
    );
    assert(injected.pwned === null && injected.images === 0 && injected.scripts === 0, `nothing ran or was injected: ${JSON.stringify(injected)}`);
    assert(popup.images === 0 && popup.scripts === 0, 'no element was created from citizen text');
    await s.type(search, '');
  },

  // Regression: a right-to-left override in citizen text made a field read as something else.
  async function bidirectional_controls_are_isolated_and_shown() {
    const s = ctx.a;
    await intake(ctx.hub, request(901, { id: 'E2E-BIDI', description: 'see photo\u202Egpj.exe please', citizen: { name: 'Zhang \u202Eilam' }, location: { lat: 14.6, lon: 101.6, accuracy_m: 10 } }));
    const search = await s.find('#search');
    await s.type(search, 'E2E-BIDI');
    await s.waitFor('the request is listed', async () => (await s.findAll('[data-testid="queue-row"][data-id="E2E-BIDI"]')).length === 1, 20_000);
    await s.clickCss('[data-testid="queue-row"][data-id="E2E-BIDI"]');
    await s.waitFor('the detail shows it', async () => ((await s.textContent('[data-testid="detail-name"]')) ?? '').startsWith('Zhang'));
    try {
      // Read once all three are on screen (the queue re-renders as the selection settles).
      const shown = await s.waitFor('the detail and the queue row are drawn', () => s.execute(
        `const q = (css) => document.querySelector(css);
         const els = [q('[data-testid="detail-name"]'), q('[data-testid="detail-description"]'), q('[data-testid="queue-excerpt"]')];
         if (els.some((e) => !e)) return null;
         return { name: els[0].textContent, description: els[1].textContent,
                  dirs: els.map((e) => e.getAttribute('dir') + '/' + getComputedStyle(e).unicodeBidi) };`,
      ), 10_000);
      assert(shown.name === 'Zhang ⟦U+202E⟧ilam', `the override is shown, not obeyed: ${shown.name}`);
      assert(shown.description === 'see photo⟦U+202E⟧gpj.exe please', `in the description too: ${shown.description}`);
      assert(shown.dirs.every((d) => d === 'auto/isolate'), `citizen text is isolated: ${shown.dirs}`);
    } finally {
      // The later tests read the whole queue.
      await s.type(search, '');
    }
  },

  async function rows_name_the_citizens_language_and_a_request_for_an_interpreter() {
    const s = ctx.a;
    await intake(ctx.hub, request(960, { id: 'E2E-LANG', description: '在警察局，需要翻译 need an interpreter', citizen: { name: 'Amira', phone: '+201001234567', language: 'ar' } }));
    await s.type(await s.find('#search'), 'E2E-LANG');
    try {
      await s.waitFor('the row is listed', async () => (await s.findAll('[data-testid="queue-row"][data-id="E2E-LANG"]')).length === 1, 20_000);
      const row = await s.execute('const r = document.querySelector(\'[data-testid="queue-row"][data-id="E2E-LANG"]\'); return { lang: r.querySelector(\'[data-testid="row-language"]\')?.textContent, interpreter: r.querySelector(\'[data-testid="row-interpreter"]\')?.textContent };');
      assert(row.lang === '阿拉伯语' && row.interpreter === '需要翻译', `the row names the language and the interpreter: ${JSON.stringify(row)}`);
    } finally {
      await s.click(await s.find('#search'));
      await s.keys('\uE00C');
    }
  },

  // Regression: a duplicate of an id that does not exist was applied locally, then refused
  // by the hub, leaving junk in the case log; the status offered a move back to "new".
  async function a_duplicate_is_checked_and_compared_before_it_is_queued() {
    const s = ctx.a;
    const open = async (id) => {
      await s.type(await s.find('#search'), id);
      await s.waitFor(`the search finds ${id}`, async () => (await s.findAll(`[data-testid="queue-row"][data-id="${id}"]`)).length === 1, 15_000);
      await s.clickCss(`[data-testid="queue-row"][data-id="${id}"]`);
      await s.waitFor(`${id} is open`, async () => (await s.findAll('[data-testid="act-duplicate"]')).length === 1, 10_000);
    };
    // An acknowledged request offers no way back to "new".
    await open('E2E-000');
    const moves = await s.execute('return [...document.querySelector(\'[data-testid="act-status"]\').options].map(o => o.value)');
    assert(!moves.includes('new') && moves.includes('resolved'), `only legal moves: ${moves}`);

    await open('E2E-002');
    await s.clickCss('[data-testid="act-duplicate"]');
    await s.waitFor('the duplicate form opens with candidates', async () => (await s.findAll('[data-testid="duplicate-candidate"]')).length > 0, 10_000);
    const search = await s.find('#duplicate-of');
    await s.type(search, '181');
    await s.keys('\uE007');
    await s.waitFor('an unknown id is said so in the form', async () => ((await s.textContent('[data-testid="duplicate-problem"]')) ?? '').includes('181'), 10_000);
    assert((await s.findAll('[data-testid="outbox-item"]')).length === 0, 'nothing was queued for an unknown id');
    const log = await s.textContent('[data-testid="case-log"]');
    assert(!log.includes('181'), `no junk in the case log: ${log}`);
    assert((await hubFetch(ctx.hub, '/v1/requests/E2E-002')).json.status === 'new', 'the hub has nothing to refuse');

    // A candidate (the same phone): compared side by side, then confirmed.
    const candidate = await s.execute('return document.querySelector(\'[data-testid="duplicate-candidate"]\').dataset.id');
    await s.clickCss(`[data-testid="duplicate-candidate"][data-id="${candidate}"]`);
    await s.waitFor('the original is shown beside it', async () => ((await s.textContent('[data-testid="duplicate-compare"]')) ?? '').includes(candidate), 10_000);
    writeFileSync(join(OUT, 'duplicate-compare-zh.png'), await s.screenshot());
    await s.clickCss('[data-testid="duplicate-confirm"]');
    await s.waitFor('the hub has it as a duplicate of the candidate', async () => {
      const r = (await hubFetch(ctx.hub, '/v1/requests/E2E-002')).json;
      return r.status === 'duplicate' && r.duplicate_of === candidate;
    }, 20_000);
    // Leave the queue unfiltered for the tests after this one.
    await s.click(await s.find('#search'));
    await s.keys('\uE00C');
    await s.waitFor('the search is cleared', async () => (await s.execute('return document.getElementById("search").value')) === '', 10_000);
  },

  // Regression: at drill rates new arrivals pushed the rows the officer was reading down,
  // about twenty rows in two seconds.
  async function arrivals_wait_behind_a_bar_while_the_officer_reads() {
    const s = ctx.a;
    const rows = () => s.execute('return [...document.querySelectorAll(\'[data-testid="queue-row"]\')].map(r => r.dataset.id)');
    await s.clickCss('[data-testid="queue-row"]:nth-child(2)');
    await s.waitFor('a request is open', async () => (await s.findAll('[data-testid="detail-title"]')).length === 1, 10_000);
    await sleep(500);
    const before = await rows();
    const totalBefore = await queueTotal(s);
    for (let i = 0; i < 5; i++) await intake(ctx.hub, request(950 + i, { id: `E2E-ARR-${i}`, emergency: i === 0 }));
    await s.waitFor('the bar counts the five arrivals', async () => (await s.execute('const b = document.querySelector(\'[data-testid="queue-arrived"]\'); return b ? Number(b.dataset.count) : 0')) === 5, 20_000);
    const during = await rows();
    assert(JSON.stringify(during) === JSON.stringify(before), `the rows under the officer's eyes stay put: ${before} → ${during}`);
    assert((await queueTotal(s)) === totalBefore, 'the queue holds still');
    const bar = await s.textContent('[data-testid="queue-arrived"]');
    assert(bar.includes('5') && bar.includes('1'), `the bar says how many and how many SOS: ${bar}`);
    await s.clickCss('[data-testid="queue-arrived"]');
    await s.waitFor('the bar brings them in', async () => (await queueTotal(s)) === totalBefore + 5 && (await s.findAll('[data-testid="queue-arrived"]')).length === 0, 15_000);
    await s.keys('\uE00C');
  },

  async function five_requests_are_triaged_from_the_keyboard_alone() {
    const s = ctx.a;
    const hubGet = async (id) => (await hubFetch(ctx.hub, `/v1/requests/${id}`)).json;
    const key = async (k) => {
      await s.keys(k);
      await sleep(250);
    };
    // Letters typed right after leaving a field are taken as typing, not shortcuts.
    const leaveField = async () => {
      await key('\uE00C');
      await sleep(2300);
    };
    await s.execute('document.activeElement && document.activeElement.blur(); return null;');
    await key('\uE00C');
    await key('/');
    await s.keys('E2E-ARR-');
    await s.waitFor('the search narrows to the five arrivals', async () => (await queueTotal(s)) === 5, 15_000);
    await s.execute('document.activeElement && document.activeElement.blur(); return null;');
    await sleep(2300);
    const done = [];
    for (let n = 0; n < 5; n++) {
      await key('j');
      const id = await s.waitFor('a row is selected', () => s.execute('const r = document.querySelector(\'[data-testid="queue-row"].selected\'); return r ? r.dataset.id : null'), 5_000);
      await s.waitFor(`${id} is on screen`, async () => ((await s.execute('const t = document.querySelector(\'[data-testid="detail-title"]\'); return t ? t.dataset.id ?? "" : null')) ?? null) !== null, 10_000);
      await key('a');
      await key('m');
      await key('2');
      if (n === 0) {
        await key('n');
        await s.keys('called the citizen, help on the way');
        await s.chord('\uE009', '\uE007');
        await s.waitFor('the note is sent', async () => (await hubGet(id)).events.some((e) => e.kind === 'note' || e.type === 'note'), 20_000);
        await leaveField();
      }
      if (n < 4) {
        await key('i');
        await s.waitFor(`${id} in progress at the hub`, async () => (await hubGet(id)).status === 'in_progress', 20_000);
        await key('r');
        await s.waitFor(`${id} resolved at the hub`, async () => (await hubGet(id)).status === 'resolved', 20_000);
      } else {
        // The last one duplicates the first: typed, compared, confirmed with Enter.
        await key('d');
        await s.waitFor('the duplicate form has the focus', () => s.execute('return document.activeElement && document.activeElement.id === "duplicate-of"'), 10_000);
        await s.keys(done[0]);
        await key('\uE007');
        await s.waitFor('the confirm button has the focus', () => s.execute('return document.activeElement && document.activeElement.dataset.testid === "duplicate-confirm"'), 10_000);
        await key('\uE007');
        await s.waitFor(`${id} a duplicate at the hub`, async () => (await hubGet(id)).duplicate_of === done[0], 20_000);
        await leaveField();
      }
      const r = await hubGet(id);
      assert(r.assignee === 'Li' && r.priority === 'high', `${id} assigned and prioritised from the keyboard: ${r.assignee} ${r.priority}`);
      done.push(id);
    }
    assert(new Set(done).size === 5, `five different requests: ${done}`);
    await key('?');
    await s.waitFor('the shortcut sheet opens', async () => (await s.findAll('[data-testid="shortcut-sheet"]')).length === 1, 5_000);
    await key('\uE00C');
    await s.click(await s.find('#search'));
    await s.keys('\uE00C');
    await s.waitFor('the search is cleared', async () => (await s.execute('return document.getElementById("search").value')) === '', 10_000);
  },

  async function an_sos_notifies_once_escalates_and_stops_when_acknowledged_elsewhere() {
    const s = ctx.a;
    const b = ctx.b;
    // Only the new SOS stays unacknowledged: the earlier ones are handled elsewhere.
    const page = (await hubFetch(ctx.hub, '/v1/requests?limit=1000')).json;
    for (const r of page.requests.filter((r) => r.emergency && r.status === 'new')) await acknowledgeAtHub(ctx.hub, r.id);
    await s.waitFor('desk A has nothing left to sound about', () => s.execute('return document.body.dataset.alarm !== "on"'), 20_000);
    const sos = {
      id: 'E2E-SOS-1',
      channel: 'app',
      category: 'medical',
      emergency: true,
      citizen: { name: '王伟', phone: '+8613800138001', id_document: 'E12345678' },
      location: { lat: -1.2921, lon: 36.8219, accuracy_m: 20, country: 'KE' },
      description: '突发胸痛，需要就医帮助',
    };
    const title = '紧急求助 · 医疗 · 内罗毕, KE';
    const posted = Date.now();
    await intake(ctx.hub, sos);
    await s.waitFor('the Notify call reaches the session bus', async () => (await notifyCalls(ctx.notifyLog, title)) >= 1, 20_000, 50);
    ctx.notifyLatencyMs = Date.now() - posted;
    // `dunstctl history` lists a notification once dunst has shown it and let it go, which
    // is after dunst's own display timeout (10 s by default): wait well past that.
    await s.waitFor('dunst received it', async () => (await dunstHistory()).includes('内罗毕'), 30_000);
    // Private by default: the notification names category, priority and city only.
    const history = await dunstHistory();
    const onTheBus = readFileSync(ctx.notifyLog, 'utf8');
    for (const [what, value] of [['identity-document number', 'E12345678'], ['name', '王伟'], ['phone', '+8613800138001'], ['phone', '8613800138001'], ['description', '胸痛']]) {
      assert(!history.includes(value) && !onTheBus.includes(value), `no ${what} of the citizen in a notification (${value})`);
    }
    await s.waitFor('the alarm sounds', () => s.execute('return document.body.dataset.alarm === "on"'), 10_000);
    // The same request posted again: nothing new, no second notification.
    await intake(ctx.hub, sos);
    await sleep(2500);
    const firstAlerts = await notifyCalls(ctx.notifyLog, `string "${title}"`);
    assert(firstAlerts === 1, `one notification for one request, not ${firstAlerts}`);
    // Unacknowledged past the (short) escalation setting: it alerts again.
    await s.waitFor('an escalation is notified', async () => (await notifyCalls(ctx.notifyLog, `未确认：${title}`)) >= 1, 20_000, 100);
    // The banner names the latest alert, in the language the officer switches to.
    const latest = async () => (await s.textContent('[data-testid="banner-latest"]')) ?? '';
    await s.waitFor('the banner names the escalation', async () => (await latest()).includes('未确认：紧急求助 · 医疗 · 内罗毕'), 10_000);
    await s.click(await s.find('[data-testid="lang-en"]'));
    await s.waitFor('the banner names it in English', async () => (await latest()).includes('min: SOS · Medical · Nairobi'), 10_000);
    await s.click(await s.find('[data-testid="lang-zh"]'));
    await s.waitFor('the banner is back in Chinese', async () => (await latest()).includes('内罗毕'), 10_000);
    // Desk B acknowledges; desk A hears it through sync and the alarm stops.
    const search = await b.find('#search');
    await b.type(search, '胸痛');
    await b.waitFor('desk B lists the SOS', async () => (await b.findAll('[data-testid="queue-row"][data-id="E2E-SOS-1"]')).length === 1, 20_000);
    await b.clickCss('[data-testid="queue-row"][data-id="E2E-SOS-1"]');
    await b.waitFor('desk B shows it', async () => (await b.textContent('[data-testid="detail-description"]')) === sos.description);
    await b.clickCss('[data-testid="act-acknowledge"]');
    await s.waitFor('desk A stops the alarm', () => s.execute('return document.body.dataset.alarm === "off"'), 20_000);
    const escalations = await notifyCalls(ctx.notifyLog, `未确认：${title}`);
    await sleep(9000);
    assert((await notifyCalls(ctx.notifyLog, `未确认：${title}`)) === escalations, 'no escalation after the acknowledgement');
    // The alert panel explains what happened.
    await s.clickCss('[data-testid="alerts-button"]');
    await s.waitFor('the panel lists the decisions', async () => {
      const log = await s.textContent('[data-testid="alert-log"]');
      return log && log.includes('新的紧急求助') && log.includes('仍未确认') && log.includes('已在其他席位确认');
    }, 10_000);
    const health = await s.execute('return document.querySelector(\'[data-testid="notification-health"]\').dataset.available');
    assert(health === 'true', `notification health is reported: ${health}`);
    await s.clickCss('[data-testid="send-test-alert"]');
    await s.waitFor('the test alert reaches the bus', async () => (await notifyCalls(ctx.notifyLog, '测试提醒')) >= 1, 10_000);
    await s.clickCss('[data-testid="alerts-panel"] .panel-head button');
    // Desk B watches Thailand only: it logged the Nairobi SOS as outside its watch area.
    assert((await notifyCalls(ctx.notifyLog, `string "${title}"`)) === 1, 'desk B did not notify for a place it does not watch');
  },

  async function a_snoozed_alarm_keeps_the_banner_and_a_new_emergency_sounds_it_again() {
    const s = ctx.a;
    const alarm = () => s.execute('return document.body.dataset.alarm');
    await intake(ctx.hub, request(970, { id: 'E2E-SNZ-1', emergency: true }));
    await s.waitFor('the alarm sounds', async () => (await alarm()) === 'on', 20_000);
    await s.clickCss('[data-testid="alarm-snooze"]');
    await s.waitFor('the alarm is snoozed and the banner stays, saying so', async () =>
      (await alarm()) === 'snoozed' &&
      (await s.findAll('[data-testid="emergency-banner"]')).length === 1 &&
      ((await s.textContent('[data-testid="alarm-snoozed"]')) ?? '').includes('desk-a/Li'), 10_000);
    await intake(ctx.hub, request(971, { id: 'E2E-SNZ-2', emergency: true }));
    await s.waitFor('a new emergency sounds it again', async () => (await alarm()) === 'on', 20_000);
    await acknowledgeAtHub(ctx.hub, 'E2E-SNZ-1');
    await acknowledgeAtHub(ctx.hub, 'E2E-SNZ-2');
    await s.waitFor('nothing left to sound about', async () => (await alarm()) !== 'on', 20_000);
  },

  async function a_region_drawn_from_the_map_limits_what_alerts() {
    const s = ctx.a;
    // Zoom to Bangkok (select a request there), then watch the area the map shows.
    await s.clickCss('[data-testid="queue-row"][data-id="E2E-000"]');
    await sleep(1500);
    await s.clickCss('[data-testid="alerts-button"]');
    await s.clickCss('[data-testid="watch-map-view"]');
    await s.waitFor('the panel shows the region', async () => (await s.textContent('[data-testid="watch-region"]')).includes('°'), 10_000);
    const settings = JSON.parse(readFileSync(join(ctx.dataDirA, 'settings.json'), 'utf8'));
    const [west, south, east, north] = settings.watch_region;
    assert(west < 100.45 && east > 100.45 && south < 13.7 && north > 13.7, `the region holds Bangkok: ${settings.watch_region}`);
    await s.clickCss('[data-testid="alerts-panel"] .panel-head button');
    // An SOS in Lima, far outside the region: logged, not notified.
    await intake(ctx.hub, {
      id: 'E2E-SOS-LIMA',
      channel: 'app',
      category: 'accident',
      emergency: true,
      citizen: { name: '李娜', phone: '+8613800138002' },
      location: { lat: -12.0464, lon: -77.0428, accuracy_m: 20, country: 'PE' },
      description: 'Car accident in Lima',
    });
    await s.clickCss('[data-testid="alerts-button"]');
    await s.waitFor('the log says it was outside the watch area', async () => {
      await s.clickCss('[data-testid="alerts-panel"] .panel-head button');
      await s.clickCss('[data-testid="alerts-button"]');
      return (await s.textContent('[data-testid="alert-log"]')).includes('不在本席位关注范围内');
    }, 20_000, 1000);
    assert((await notifyCalls(ctx.notifyLog, 'Car accident in Lima')) === 0, 'no notification for an SOS outside the drawn region');
    await s.clickCss('[data-testid="watch-region-clear"]');
    await s.waitFor('the region is cleared', async () => (await s.textContent('[data-testid="watch-region"]')).trim() === '未划定关注区域', 10_000);
    await s.clickCss('[data-testid="alerts-panel"] .panel-head button');
  },

  async function the_desk_names_who_is_signed_in() {
    const s = ctx.a;
    await s.waitFor('the top bar names the signed-in officer', async () => (await s.textContent('[data-testid="officer"]')) === 'Li', 20_000);
  },

  async function settings_are_changed_in_the_window_and_kept() {
    const b = ctx.b;
    const file = () => JSON.parse(readFileSync(join(ctx.dataDirB, 'settings.json'), 'utf8'));
    await b.clickCss('[data-testid="settings-button"]');
    await b.waitFor('the settings panel opens', async () => (await b.execute('const i = document.getElementById("settings-countries"); return i ? i.value : null')) === 'TH', 10_000);
    assert(await b.execute('return document.getElementById("settings-officer").disabled'), 'a signed-in officer is not renamed here');
    await b.type(await b.find('#settings-countries'), 'Turkey');
    await b.clickCss('[data-testid="settings-save"]');
    await b.waitFor('a bad country is refused in the panel', async () => ((await b.textContent('[data-testid="settings-error"]')) ?? '').includes('two-letter'), 10_000);
    assert(JSON.stringify(file().watch_countries) === '["TH"]', 'nothing was saved');
    await b.type(await b.find('#settings-countries'), 'TH, tr');
    await b.type(await b.find('#settings-escalate'), '7');
    await b.clickCss('#settings-details');
    await b.clickCss('[data-testid="settings-save"]');
    await b.waitFor('saved', async () => (await b.findAll('[data-testid="settings-saved"]')).length === 1, 10_000);
    const kept = file();
    assert(JSON.stringify(kept.watch_countries) === '["TH","TR"]' && kept.escalate_after_s === 420 && kept.notification_details === true, `settings.json keeps them: ${JSON.stringify(kept)}`);
    const live = await b.executeAsync('const done = arguments[arguments.length - 1]; window.__TAURI_INTERNALS__.invoke("alert_status").then((s) => done(s.escalate_after_s), (e) => done(String(e)));');
    assert(live === 420, `the alert policy uses it at once: ${live}`);
    assert(!JSON.stringify(kept).includes('llh_'), 'no secret in the settings file');
    await b.clickCss('[data-testid="settings-panel"] .buttons button');
  },

  async function a_shift_hand_over_is_shown_and_saved_without_personal_data() {
    const s = ctx.a;
    await s.clickCss('[data-testid="handover-button"]');
    await s.waitFor('the hand-over page lists what is open', async () => ((await s.textContent('[data-testid="handover-open"]')) ?? '').includes('未结求助'), 15_000);
    const changed = await s.findAll('[data-testid="handover-changed"] tr');
    assert(changed.length > 10, `what changed during the shift is listed: ${changed.length}`);
    // (WebKitWebDriver waits for a new frame: a small pan under the page gives it one.)
    await s.execute('window.lifelineMapPan && window.lifelineMapPan(1, 0, 300); return null;');
    writeFileSync(join(OUT, 'handover-zh.png'), await s.screenshot());
    await s.type(await s.find('#handover-notes'), '请回电 E2E-003 的家属 <b>9点</b>');
    await s.clickCss('[data-testid="handover-save"]');
    await s.waitFor('the page is saved', async () => (await s.findAll('[data-testid="handover-saved"]')).length === 1, 10_000);
    const path = await s.execute('return document.querySelector(\'[data-testid="handover-saved"]\').dataset.path');
    const html = readFileSync(path, 'utf8');
    assert(html.includes('交接班') && html.includes('请回电 E2E-003 的家属 &lt;b&gt;9点&lt;/b&gt;'), 'the notes are in it, as text');
    for (const planted of ['测试人员', '+8613800138000', 'Robbed near the hotel', '曼谷机场']) {
      assert(!html.includes(planted), `the hand-over holds ${planted}`);
    }
    assert((statSync(path).mode & 0o077) === 0, 'the file is this user\'s only');
    await s.clickCss('[data-testid="handover"] header button:last-child');
  },

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
    const digest = () => readdirSync(copy).sort().map((f) => `${f}:${createHash('sha256').update(readFileSync(join(copy, f))).digest('hex')}`).join(' ');
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

async function screenshotWithDrill() {
  // The README's picture: a drill under way (an exercise hub), a request selected, the desk
  // signed in as a duty officer of the drill's post.
  const hub = await startHub(HUB, ['--exercise', '--drill', 'earthquake', '--rate', '400', '--seed', '7'], {
    drill: { scenario: 'earthquake', officer: 'li-w', name: 'Li W.' },
  });
  const driver = await startDriver(4450, 4451, 'shot');
  const s = await Session.create(4450, DESK, deskArgs(driver, hub, 'desk-3', 'li-w'));
  try {
    await s.waitFor('the map is ready', () => s.execute('return document.body.dataset.mapReady === "1"'), 60_000);
    await s.waitFor('the drill fills the queue', async () => (await queueTotal(s)) >= 60, 60_000);
    await s.waitFor('the EXERCISE band shows', () => s.execute('return document.querySelector(\'[data-testid="exercise-band"]\') !== null'), 20_000);
    await s.clickCss('[data-testid="queue-row"]:nth-child(2)');
    // The map flies to the request and swaps in the 1:50m shapes: wait for those, then for
    // the clusters of the new view, so the picture is of the settled desk.
    await s.waitFor(
      'the 1:50m shapes',
      () => s.execute("return performance.getEntriesByName('lifeline:basemap-fine').length > 0"),
      30_000,
    );
    const asked = Date.now();
    await s.waitFor('the clusters of the view on screen', () => s.execute('return window.lifelineMapClustersCurrent()'), 30_000);
    console.log(`     the clusters of the new view drawn ${Date.now() - asked} ms after the 1:50m shapes`);
    await sleep(3000);
    writeFileSync(join(OUT, 'desk-zh.png'), await s.screenshot());
  } finally {
    await s.close();
  }
}

async function main() {
  assert(DESK && HUB, 'set DESK_BIN and HUB_BIN');
  const hub = await startHub(HUB, [], {
    officers: [
      { id: 'Li', name: 'Li' },
      { id: 'Wang', name: 'Wang' },
      { id: 'Zhao', name: 'Zhao' },
      { id: 'e2e-reader', name: 'E2E reader', role: 'supervisor' },
    ],
  });
  hub.token = await signIn(hub, 'e2e-reader', 'e2e-harness');
  ctx.hub = hub;
  ctx.notifyLog = join(OUT, 'notify.log');
  await startNotifications(ctx.notifyLog);
  await startKeyring();
  const driverA = await startDriver(4444, 4445, 'a');
  const driverB = await startDriver(4446, 4447, 'b');
  ctx.dataDirA = driverA.dataDir;
  ctx.dataDirB = driverB.dataDir;
  // Desk B watches Thailand only (its settings file, as an embassy would set it).
  mkdirSync(driverB.dataDir, { recursive: true });
  writeFileSync(join(driverB.dataDir, 'settings.json'), JSON.stringify({ watch_countries: ['TH'] }));
  ctx.a = await Session.create(4444, DESK, deskArgs(driverA, hub, 'desk-a', 'Li', ['--escalate-after', '4']));
  ctx.b = await Session.create(4446, DESK, deskArgs(driverB, hub, 'desk-b', 'Wang'));
  let failed = 0;
  // E2E_ONLY (a regular expression) runs some tests only, while working on them.
  const only = process.env.E2E_ONLY ? new RegExp(process.env.E2E_ONLY) : null;
  for (const test of TESTS.filter((t) => !only || only.test(t.name))) {
    const started = Date.now();
    try {
      await test();
      console.log(`ok   ${test.name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    } catch (e) {
      failed += 1;
      console.log(`FAIL ${test.name}: ${e.message}`);
      try {
        writeFileSync(join(OUT, `${test.name}.png`), await ctx.a.screenshot());
      } catch {
        // no screenshot possible
      }
    }
  }
  if (ctx.notifyLatencyMs !== undefined) console.log(`     intake POST to Notify on the bus: ${ctx.notifyLatencyMs} ms`);
  await ctx.a.close();
  await ctx.b.close();
  if (process.env.E2E_SCREENSHOT !== '0') {
    try {
      await screenshotWithDrill();
      console.log('ok   screenshot with a drill under way');
    } catch (e) {
      failed += 1;
      console.log(`FAIL screenshot with a drill: ${e.message}`);
    }
  }
  console.log(failed === 0 ? `\nend-to-end: all ${TESTS.length + 1} passed` : `\nend-to-end: ${failed} failed`);
  return failed;
}

let code = 1;
try {
  code = (await main()) === 0 ? 0 : 1;
} catch (e) {
  console.log(`FAIL setup: ${e.stack ?? e}`);
} finally {
  stopAll();
}
process.exit(code);
