// What an officer watching the queue meets: the map, the queue filling, search,
// acknowledging, languages, and citizen text shown as text.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from '../webdriver.mjs';
import { hubFetch, intake } from '../harness.mjs';
import { OUT, XSS, assert, request, queueTotal, ctx } from '../common.mjs';

export const TESTS = [
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
];
