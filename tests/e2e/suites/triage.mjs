// Triage at volume: duplicates, a queue that holds still, the keyboard, the queue's order
// and one action on many requests.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from '../webdriver.mjs';
import { admin, hubFetch, intake } from '../harness.mjs';
import { HUB, OUT, acknowledgeAtHub, assert, request, queueTotal, ctx } from '../common.mjs';

export const TESTS = [
  // Regression: a duplicate of an id that does not exist was applied locally, then refused
  // by the hub, leaving junk in the case log; the status offered a move back to "new".
  async function a_duplicate_is_checked_and_compared_before_it_is_queued() {
    const s = ctx.a;
    // Opened by search: the queue narrowed to it, and the detail shows it (not the request
    // open before, still on screen while the new one loads).
    const open = async (id) => {
      await s.type(await s.find('#search'), id);
      await s.waitFor(`the search narrows to ${id}`, async () => (await queueTotal(s)) === 1 && (await s.findAll(`[data-testid="queue-row"][data-id="${id}"]`)).length === 1, 15_000);
      await s.clickCss(`[data-testid="queue-row"][data-id="${id}"]`);
      await s.waitFor(`${id} is open`, async () => (await s.execute('const t = document.querySelector(\'[data-testid="detail-title"]\'); return t ? t.dataset.id ?? null : null')) === id && (await s.findAll('[data-testid="act-duplicate"]')).length === 1, 10_000);
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
    // The bar itself takes one row's height at most from the bottom of the list; every row
    // still drawn is where it was.
    assert(during.length >= before.length - 1 && JSON.stringify(during) === JSON.stringify(before.slice(0, during.length)), `the rows under the officer's eyes stay put: ${before} → ${during}`);
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

  async function the_queue_is_sorted_as_chosen_with_the_longest_waiting_sos_first() {
    const s = ctx.a;
    // Four arrivals, oldest first: an SOS, a routine request, another SOS, a high-priority one.
    const made = [
      ['E2E-SORT-1', { emergency: true }],
      ['E2E-SORT-2', { emergency: false, priority: 'normal' }],
      ['E2E-SORT-3', { emergency: true }],
      ['E2E-SORT-4', { emergency: false, priority: 'high' }],
    ];
    for (const [id, extra] of made) {
      await intake(ctx.hub, request(970, { id, ...extra }));
      await sleep(60);
    }
    await s.type(await s.find('#search'), 'E2E-SORT');
    await s.waitFor('the four are listed', async () => (await queueTotal(s)) === 4, 20_000);
    const order = async () => s.execute('return [...document.querySelectorAll(\'[data-testid="queue-row"]\')].map(r => r.dataset.id)');
    const choose = async (value, expected) => {
      await s.execute(
        `const sel = document.querySelector('[data-testid="queue-order"]');
         sel.value = arguments[0];
         sel.dispatchEvent(new Event('change', { bubbles: true }));
         return null;`,
        [value],
      );
      await s.waitFor(`the queue in "${value}" order`, async () => JSON.stringify(await order()) === JSON.stringify(expected), 10_000);
    };
    const shownOrder = await s.execute('return document.querySelector(\'[data-testid="queue-order"]\').value');
    assert(shownOrder === 'waiting', `a duty officer's queue starts with the longest-waiting SOS: ${shownOrder}`);
    await s.waitFor('the longest-waiting SOS first', async () => JSON.stringify(await order()) === JSON.stringify(['E2E-SORT-1', 'E2E-SORT-3', 'E2E-SORT-4', 'E2E-SORT-2']), 10_000);
    const priorities = await s.execute('return [...document.querySelectorAll(\'[data-testid="queue-row"]\')].map(r => r.querySelector(\'[data-testid="row-priority"]\')?.textContent ?? null)');
    assert(priorities.every((p) => p), `every row shows its priority, SOS too: ${priorities}`);
    await choose('newest', ['E2E-SORT-4', 'E2E-SORT-3', 'E2E-SORT-2', 'E2E-SORT-1']);
    await choose('oldest', ['E2E-SORT-1', 'E2E-SORT-2', 'E2E-SORT-3', 'E2E-SORT-4']);
    await choose('priority', ['E2E-SORT-3', 'E2E-SORT-1', 'E2E-SORT-4', 'E2E-SORT-2']);
    // Acknowledged elsewhere, the first SOS is no longer waiting: it joins the others.
    await choose('waiting', ['E2E-SORT-1', 'E2E-SORT-3', 'E2E-SORT-4', 'E2E-SORT-2']);
    await acknowledgeAtHub(ctx.hub, 'E2E-SORT-1');
    await s.waitFor('an acknowledged SOS leaves the waiting group', async () => JSON.stringify(await order()) === JSON.stringify(['E2E-SORT-3', 'E2E-SORT-1', 'E2E-SORT-4', 'E2E-SORT-2']), 20_000);
    await acknowledgeAtHub(ctx.hub, 'E2E-SORT-3');
  },

  async function a_pick_from_the_queue_and_a_map_cluster_is_acted_on_one_audited_action_each() {
    const s = ctx.a;
    const hubGet = async (id) => (await hubFetch(ctx.hub, `/v1/requests/${id}`)).json;
    // Six requests in a street of Chiang Mai, a few metres apart.
    const ids = [];
    for (let i = 0; i < 6; i++) {
      const id = `E2E-BULK-${i}`;
      ids.push(id);
      await intake(ctx.hub, request(980 + i, { id, emergency: false, location: { lat: 18.7880 + i * 0.0003, lon: 98.9850, accuracy_m: 15, country: 'TH' } }));
    }
    await s.execute('document.activeElement && document.activeElement.blur(); return null;');
    await s.keys('\uE00C');
    await s.waitFor('no request is open', async () => (await s.findAll('[data-testid="detail-title"]')).length === 0, 5_000);
    await s.type(await s.find('#search'), 'E2E-BULK');
    await s.waitFor('the six are listed', async () => (await queueTotal(s)) === 6, 20_000);
    // Two picked from the queue with their check boxes.
    for (const id of ids.slice(0, 2)) await s.clickCss(`[data-testid="queue-row"][data-id="${id}"] [data-testid="row-pick"]`);
    const count = () => s.execute('const b = document.querySelector(\'[data-testid="bulk-bar"]\'); return b ? Number(b.dataset.count) : 0');
    await s.waitFor('the bar counts two', async () => (await count()) === 2, 5_000);
    assert((await s.findAll('[data-testid="detail-title"]')).length === 0, 'picking a row does not open it');
    // The rest from the map: open one (the map flies there), close it, Shift+click the cluster.
    await s.clickCss(`[data-testid="queue-row"][data-id="${ids[3]}"]`);
    await s.waitFor('the detail is open', async () => (await s.findAll('[data-testid="detail-title"]')).length === 1, 10_000);
    await sleep(2500);
    await s.waitFor('the clusters of the view on screen', () => s.execute('return window.lifelineMapClustersCurrent()'), 20_000);
    const point = await s.execute('return window.lifelineMapPoint(98.9850, 18.78875)');
    assert(point, 'the map can place the cluster');
    await s.shiftClickAt(point[0], point[1]);
    await s.waitFor('the cluster joins the pick', async () => (await count()) === 6, 10_000);
    const notice = await s.textContent('[data-testid="bulk-notice"]');
    assert(notice && notice.includes('6'), `the desk says what the cluster added: ${notice}`);
    // One action, asked once more, then confirmed from the keyboard.
    await s.clickCss('[data-testid="bulk-acknowledge"]');
    const question = await s.textContent('[data-testid="bulk-question"]');
    assert(question.includes('6'), `the question names how many: ${question}`);
    await s.waitFor('the confirm button has the focus', () => s.execute('return document.activeElement && document.activeElement.dataset.testid === "bulk-confirm"'), 5_000);
    await s.keys('\uE007');
    await s.waitFor('the outcome is shown', async () => (await s.findAll('[data-testid="bulk-outcome"]')).length === 1, 10_000);
    const done = await s.execute('return Number(document.querySelector(\'[data-testid="bulk-outcome"]\').dataset.done)');
    assert(done === 6, `six acknowledged: ${done}`);
    for (const id of ids) await s.waitFor(`${id} acknowledged at the hub`, async () => (await hubGet(id)).status === 'acknowledged', 20_000);
    // The same note on three, picked again.
    for (const id of ids.slice(0, 3)) await s.clickCss(`[data-testid="queue-row"][data-id="${id}"] [data-testid="row-pick"]`);
    await s.waitFor('three picked', async () => (await count()) === 3, 5_000);
    await s.type(await s.find('[data-testid="bulk-note"]'), 'Bus to the shelter at 14:00');
    await s.keys('\uE007');
    await s.waitFor('the note question', async () => (await s.findAll('[data-testid="bulk-confirm"]')).length === 1, 5_000);
    await s.clickCss('[data-testid="bulk-confirm"]');
    const noted = async (id) => (await hubGet(id)).events.some((e) => (e.kind === 'note' || e.type === 'note') && JSON.stringify(e).includes('Bus to the shelter'));
    for (const id of ids.slice(0, 3)) await s.waitFor(`${id} has the note at the hub`, () => noted(id), 20_000);
    assert(!(await noted(ids[4])), 'a request not picked has no note');
    // One audited action per request, under the officer's own name.
    const audit = admin(HUB, ctx.hub.db, ['audit', 'export', '--since', '2000-01-01'])
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((e) => e.action === 'act' && ids.includes(e.target));
    const acks = audit.filter((e) => e.detail.includes('acknowledge'));
    assert(new Set(acks.map((e) => e.target)).size === 6 && acks.length === 6, `six acknowledgements in the audit trail: ${JSON.stringify(acks.map((e) => [e.target, e.detail]))}`);
    assert(audit.every((e) => e.actor.includes('Li')), `each under the officer who acted: ${[...new Set(audit.map((e) => e.actor))]}`);
    await s.keys('\uE00C');
    await s.type(await s.find('#search'), '');
  },
];
