// The conversation with the citizen: what the citizen writes reaches the desk as unread,
// the officer answers from a template, and the channel's receipts come back as ticks. The
// test plays the intake channel through the hub's own channel endpoints.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hubFetch, intake, notifyCalls } from '../harness.mjs';
import { OUT, XSS, acknowledgeAtHub, assert, request, queueTotal, ctx } from '../common.mjs';
import { STREET_JPG, VOICE_OGG, jpegWithGps, uploadMedia } from '../media.mjs';

export const TESTS = [
  async function a_citizen_writes_and_the_officer_answers_from_a_template_and_sees_it_read() {
    const s = ctx.a;
    const hub = ctx.hub;
    await intake(hub, request(990, { id: 'E2E-CHAT', emergency: false, citizen: { name: '陈静', phone: '+8613800138099', language: 'zh' } }));
    const said = `${XSS} 我们在酒店大堂，二十多人`;
    const posted = await hubFetch(hub, '/v1/requests/E2E-CHAT/messages', 'POST', { id: 'wa-1', text: said }, hub.channel);
    assert(posted.status === 201, `the channel hands the citizen's message over: ${posted.status}`);
    await s.type(await s.find('#search'), 'E2E-CHAT');
    await s.waitFor('the request is listed', async () => (await queueTotal(s)) === 1, 20_000);
    await s.waitFor('the row says the citizen wrote', async () => (await s.findAll('[data-testid="queue-row"][data-id="E2E-CHAT"] [data-testid="row-unread"]')).length === 1, 20_000);
    await s.clickCss('[data-testid="queue-row"][data-id="E2E-CHAT"]');
    await s.waitFor('the thread shows the message', async () => (await s.findAll('[data-testid="message"][data-direction="in"]')).length === 1, 10_000);
    const shown = await s.execute('return document.querySelector(\'[data-testid="message"][data-direction="in"] [data-testid="message-text"]\').textContent');
    assert(shown === said, `the citizen's words as text: ${shown}`);
    const injected = await s.execute('return { pwned: document.body.dataset.pwned ?? null, images: [...document.querySelectorAll(\'[data-testid="thread"] img\')].length }');
    assert(injected.pwned === null && injected.images === 0, `nothing ran: ${JSON.stringify(injected)}`);
    assert(await s.execute('return document.querySelector(".maplibregl-popup") === null'), 'a popup of a request opened before closes when another is chosen');
    await s.waitFor('opened, it is read', async () => (await s.findAll('[data-testid="queue-row"][data-id="E2E-CHAT"] [data-testid="row-unread"]')).length === 0, 10_000);

    // A template, inserted, then sent.
    await s.execute(
      `const sel = document.querySelector('[data-testid="template-select"]');
       sel.value = 'where_exactly';
       sel.dispatchEvent(new Event('change', { bubbles: true }));
       return null;`,
    );
    await s.waitFor('the template fills the reply', async () => ((await s.execute('return document.getElementById("reply-input").value')) ?? '').includes('准确位置'), 5_000);
    await s.clickCss('[data-testid="reply-send"]');
    await s.waitFor('the reply is on the thread', async () => (await s.findAll('[data-testid="message"][data-direction="out"]')).length === 1, 10_000);

    // The channel takes it, once, and reports it delivered and read.
    let waiting = [];
    await s.waitFor('the channel has it to carry', async () => {
      waiting = (await hubFetch(hub, '/v1/channel/outbox', 'GET', undefined, hub.channel)).json.messages.filter((m) => m.request_id === 'E2E-CHAT');
      return waiting.length === 1;
    }, 20_000);
    assert(waiting[0].text.includes('准确位置') && waiting[0].template === 'where_exactly', `the template's text, named: ${JSON.stringify(waiting[0].template)}`);
    assert(waiting[0].author === 'desk-a/Li', `written by the officer signed in: ${waiting[0].author}`);
    for (const delivery of ['delivered', 'read']) {
      const r = await hubFetch(hub, `/v1/messages/${waiting[0].id}/receipt`, 'POST', { delivery }, hub.channel);
      assert(r.status === 200, `receipt ${delivery}: ${r.status}`);
    }
    await s.waitFor('the tick says read', async () => (await s.findAll('[data-testid="message"][data-direction="out"][data-delivery="read"]')).length === 1, 20_000);
    // And the citizen answers again.
    await hubFetch(hub, '/v1/requests/E2E-CHAT/messages', 'POST', { id: 'wa-2', text: '在希尔顿酒店一楼大堂，靠近正门' }, hub.channel);
    await s.waitFor('the answer arrives in the open thread', async () => (await s.findAll('[data-testid="message"][data-direction="in"]')).length === 2, 20_000);
    // Regression: an answer arriving after the detail had changed read the closed request's
    // id and showed "internal error".
    assert(await s.execute('return document.querySelector(".error-toast") === null'), `no error shown: ${await s.textContent('.error-toast')}`);
    // A photo of where they are, taken a few dozen metres from the request's position.
    const photo = jpegWithGps(STREET_JPG, 13.7004, 101.4397);
    const sha = await uploadMedia(hub, photo, 'image/jpeg');
    const photoName = 'IMG_0412.jpg';
    const sent = await hubFetch(hub, '/v1/requests/E2E-CHAT/messages', 'POST', { id: 'wa-3', kind: 'image', text: '这是我们这里的情况', media: { sha256: sha, name: photoName } }, hub.channel);
    assert(sent.status === 201, `the photo's message: ${sent.status} ${JSON.stringify(sent.json)}`);
    await s.waitFor('the photo shows as a picture the desk made', async () =>
      s.execute(`const img = document.querySelector('[data-testid="media-photo"]');
                 return !!img && img.complete && img.naturalWidth > 0 && img.src.includes('lifeline-media');`), 30_000);
    const photoShown = await s.execute(`const img = document.querySelector('[data-testid="media-photo"]');
      return { name: document.querySelector('[data-testid="media-name"]').textContent, w: img.naturalWidth, h: img.naturalHeight, pwned: document.body.dataset.pwned ?? null,
               images: [...document.querySelectorAll('[data-testid="thread"] img')].map((i) => i.getAttribute('src')) }`);
    assert(photoShown.name === photoName && photoShown.pwned === null, `the file name: ${JSON.stringify(photoShown)}`);
    assert(photoShown.w === 640 && photoShown.h === 426, `the re-encoded photo, whole: ${photoShown.w}×${photoShown.h}`);
    assert(photoShown.images.length === 1 && photoShown.images[0].includes(`preview`), `only the desk's preview is an image: ${photoShown.images}`);
    await s.waitFor('the photo says where it was taken', async () => (await s.findAll('[data-testid="media-gps"]')).length === 1, 10_000);
    await s.clickCss('[data-testid="media-gps"]');
    await new Promise((r) => setTimeout(r, 1200));
    writeFileSync(join(OUT, 'conversation-zh.png'), await s.screenshot());
    // A voice message, with a file name that tries to be HTML, plays from the desk's store
    // with the range requests a player makes.
    const voice = await uploadMedia(hub, VOICE_OGG, 'audio/ogg');
    const voiceName = `${XSS}.ogg`;
    await hubFetch(hub, '/v1/requests/E2E-CHAT/messages', 'POST', { id: 'wa-4', kind: 'voice', media: { sha256: voice, name: voiceName } }, hub.channel);
    await s.waitFor('the voice message is on the thread', async () => (await s.findAll('[data-testid="media-open"]')).length === 1, 20_000);
    const names = await s.execute(`return { names: [...document.querySelectorAll('[data-testid="media-name"]')].map((e) => e.textContent),
      pwned: document.body.dataset.pwned ?? null, scripts: document.querySelectorAll('[data-testid="thread"] script').length }`);
    assert(names.names.includes(voiceName) && names.pwned === null && names.scripts === 0, `file names are text only: ${JSON.stringify(names)}`);
    await s.clickCss('[data-testid="media-open"]');
    await s.waitFor('a player for it', async () => (await s.findAll('[data-testid="media-audio"]')).length === 1, 20_000);
    const ranged = await s.executeAsync(`const done = arguments[arguments.length - 1];
      const src = document.querySelector('[data-testid="media-audio"]').src;
      fetch(src, { headers: { Range: 'bytes=100-199' } })
        .then(async (r) => done({ status: r.status, range: r.headers.get('content-range'), length: (await r.arrayBuffer()).byteLength }))
        .catch((e) => done({ error: String(e) }));`);
    assert(ranged.status === 206 && ranged.length === 100 && ranged.range === `bytes 100-199/${VOICE_OGG.length}`, `a range of the voice message: ${JSON.stringify(ranged)}`);
    const player = await s.execute('const a = document.querySelector(\'[data-testid="media-audio"]\'); return { ready: a.readyState, error: a.error ? a.error.code : null, duration: a.duration };');
    console.log(`     the voice player: ${JSON.stringify(player)}`);
    await s.keys('\uE00C');
    await s.type(await s.find('#search'), '');
  },

  async function a_safety_reminder_goes_to_each_citizen_in_the_area_the_map_shows() {
    const s = ctx.a;
    const hub = ctx.hub;
    // Three citizens in Phuket, far from every other request of the run.
    const ids = [0, 1, 2].map((i) => `E2E-REM-${i}`);
    for (const [i, id] of ids.entries()) {
      await intake(hub, request(995 + i, { id, emergency: false, location: { lat: 7.8804 + i * 0.002, lon: 98.3923, accuracy_m: 20, country: 'TH' } }));
    }
    await s.type(await s.find('#search'), 'E2E-REM');
    await s.waitFor('the three are listed', async () => (await queueTotal(s)) === 3, 20_000);
    await s.clickCss(`[data-testid="queue-row"][data-id="${ids[0]}"]`);
    await s.waitFor('the detail is open', async () => (await s.findAll('[data-testid="detail-title"]')).length === 1, 10_000);
    await new Promise((r) => setTimeout(r, 2500));
    await s.clickCss('[data-testid="remind-view"]');
    await s.waitFor('the form counts the citizens in view', async () => (await s.execute('const c = document.querySelector(\'[data-testid="reminder-count"]\'); return c ? c.dataset.count : null')) === '3', 10_000);
    await s.execute(
      `const sel = document.querySelector('[data-testid="reminder-template"]');
       sel.value = 'shelter';
       sel.dispatchEvent(new Event('change', { bubbles: true }));
       return null;`,
    );
    await s.waitFor('the template fills the reminder', async () => ((await s.textContent('[data-testid="reminder-preview"]')) ?? '').includes('避难所'), 5_000);
    await s.clickCss('[data-testid="reminder-send"]');
    await s.waitFor('asked to confirm the count', async () => (await s.findAll('[data-testid="reminder-confirm"]')).length === 1, 5_000);
    await s.execute('window.lifelineMapPan(1, 0, 300); return null;');
    await new Promise((r) => setTimeout(r, 1500));
    writeFileSync(join(OUT, 'reminder-zh.png'), await s.screenshot());
    await s.clickCss('[data-testid="reminder-confirm"]');
    await s.waitFor('three queued', async () => (await s.execute('const c = document.querySelector(\'[data-testid="reminder-sent"]\'); return c ? c.dataset.count : null')) === '3', 10_000);
    // At the hub: one message for each, with the shelter text, for the channel to carry.
    let carried = [];
    await s.waitFor('the channel has one message for each citizen', async () => {
      carried = (await hubFetch(hub, '/v1/channel/outbox?limit=500', 'GET', undefined, hub.channel)).json.messages.filter((m) => ids.includes(m.request_id));
      return carried.length === 3;
    }, 20_000);
    assert(new Set(carried.map((m) => m.request_id)).size === 3 && carried.every((m) => m.text.includes('避难所') && m.template === 'shelter'), `one reminder each: ${JSON.stringify(carried.map((m) => m.request_id))}`);
    await s.clickCss('[data-testid="reminder"] .buttons button');
    await s.keys('\uE00C');
    await s.type(await s.find('#search'), '');
  },

  async function a_reminder_to_an_area_drawn_on_the_map_counts_exactly_the_citizens_inside() {
    const s = ctx.a;
    const hub = ctx.hub;
    // In Udon Thani, where no other test puts anyone: two inside the triangle drawn below,
    // one inside its box but not in it.
    const places = { 'E2E-DRAW-A': [17.41, 102.8], 'E2E-DRAW-B': [17.42, 102.81], 'E2E-DRAW-OUT': [17.43, 102.795] };
    for (const [i, [id, [lat, lon]]] of Object.entries(places).entries()) {
      await intake(hub, request(980 + i, { id, emergency: false, location: { lat, lon, accuracy_m: 10, country: 'TH' } }));
    }
    await s.type(await s.find('#search'), 'E2E-DRAW');
    await s.waitFor('the three are listed', async () => (await queueTotal(s)) === 3, 20_000);
    await s.execute('window.lifelineMapJumpTo(102.805, 17.417, 12.5); return null;');
    await new Promise((r) => setTimeout(r, 1500));
    await s.clickCss('[data-testid="remind-draw"]');
    await s.waitFor('the map is ready to draw', async () => (await s.findAll('[data-testid="draw-banner"]')).length === 1, 5_000);
    for (const [lon, lat] of [[102.79, 17.4], [102.82, 17.4], [102.81, 17.435]]) {
      const [x, y] = await s.execute(`return window.lifelineMapPoint(${lon}, ${lat});`);
      await s.clickAt(x, y);
      await new Promise((r) => setTimeout(r, 600));
    }
    await s.waitFor('the banner counts who is inside', async () => (await s.execute('return document.querySelector(\'[data-testid="draw-count"]\')?.dataset.count ?? null')) === '2', 10_000);
    writeFileSync(join(OUT, 'reminder-drawn-zh.png'), await s.screenshot());
    await s.keys('\uE007');
    await s.waitFor('the reminder form counts the same two', async () => (await s.execute('const c = document.querySelector(\'[data-testid="reminder-count"]\'); return c ? c.dataset.count : null')) === '2', 10_000);
    await s.type(await s.find('[data-testid="reminder-text"]'), '乌隆暴雨，请远离河边');
    // Li is a duty officer: publishing the area as an advisory is a supervisor's, and is
    // refused; the messages go all the same.
    await s.clickCss('[data-testid="reminder-publish"]');
    await s.clickCss('[data-testid="reminder-send"]');
    await s.clickCss('[data-testid="reminder-confirm"]');
    await s.waitFor('two queued', async () => (await s.execute('const c = document.querySelector(\'[data-testid="reminder-sent"]\'); return c ? c.dataset.count : null')) === '2', 10_000);
    await s.waitFor('the refusal to publish is said', async () => (await s.execute('return document.querySelector(\'[data-testid="reminder-published"]\')?.dataset.ok ?? null')) === '0', 10_000);
    const why = await s.textContent('[data-testid="reminder-published"]');
    assert(why.includes('主管'), `why it was not published: ${why}`);
    let carried = [];
    await s.waitFor('the channel has one message for each citizen inside', async () => {
      carried = (await hubFetch(hub, '/v1/channel/outbox?limit=500', 'GET', undefined, hub.channel)).json.messages.filter((m) => m.request_id.startsWith('E2E-DRAW'));
      return carried.length === 2;
    }, 20_000);
    const reached = carried.map((m) => m.request_id).sort();
    assert(JSON.stringify(reached) === '["E2E-DRAW-A","E2E-DRAW-B"]', `exactly the two inside: ${reached}`);
    await s.clickCss('[data-testid="reminder"] .buttons button');
    await s.keys('\uE00C');
    await s.type(await s.find('#search'), '');
  },

  async function a_citizen_of_an_sos_left_waiting_for_a_reply_alerts_the_desk() {
    // Desk A alerts after 3 s without an answer (--reply-alert-after 3).
    const hub = ctx.hub;
    await intake(hub, request(993, { id: 'E2E-WAIT', emergency: true, location: { lat: 13.72, lon: 100.52, accuracy_m: 20, country: 'TH' } }));
    await acknowledgeAtHub(hub, 'E2E-WAIT');
    const before = await notifyCalls(ctx.notifyLog, '求助人等待回复');
    const r = await hubFetch(hub, '/v1/requests/E2E-WAIT/messages', 'POST', { id: 'w-1', text: '请问有人吗？我们还在等' }, hub.channel);
    assert(r.status === 201, `the citizen writes: ${r.status}`);
    await ctx.a.waitFor('the desk alerts that the citizen waits', async () => (await notifyCalls(ctx.notifyLog, '求助人等待回复')) > before, 30_000, 250);
    const onTheBus = (await import('node:fs')).readFileSync(ctx.notifyLog, 'utf8');
    assert(!onTheBus.includes('请问有人吗'), 'the notification does not carry what the citizen wrote');
    // Once per wait: no second alert while the same wait goes on.
    await new Promise((resolve) => setTimeout(resolve, 6000));
    assert((await notifyCalls(ctx.notifyLog, '求助人等待回复')) === before + 1, 'one alert for one wait');
  },
];
