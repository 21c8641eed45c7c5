// End-to-end tests of the real desk binary, driven through WebDriver under a virtual
// display, against a real hub on 127.0.0.1. Run by `cargo xtask ci` inside xvfb-run and a
// private D-Bus session (see xtask/src/run.rs); needs DESK_BIN and HUB_BIN.
//
// Where new tests go: a function in one of the suites (suites/*.mjs); they run in the order
// below and share the desks.
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session, sleep } from './webdriver.mjs';
import { signIn, startDriver, startHub, startKeyring, startNotifications, stopAll } from './harness.mjs';
import { DESK, HUB, OUT, assert, ctx, deskArgs, queueTotal } from './common.mjs';
import { TESTS as QUEUE } from './suites/queue.mjs';
import { TESTS as TRIAGE } from './suites/triage.mjs';
import { TESTS as CONVERSATION } from './suites/conversation.mjs';
import { TESTS as ALERTS } from './suites/alerts.mjs';
import { TESTS as SHIFT } from './suites/shift.mjs';
import { TESTS as TRUST } from './suites/trust.mjs';
import { TESTS as MAPS } from './suites/maps.mjs';

const TESTS = [...QUEUE, ...TRIAGE, ...CONVERSATION, ...MAPS, ...ALERTS, ...SHIFT, ...TRUST];

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
    // The queue at drill volume, in its waiting order, with a pick for one action on many:
    // four rows by their check boxes, and the bulk bar asking before it acknowledges.
    for (let n = 1; n <= 4; n++) await s.clickCss(`[data-testid="queue-row"]:nth-child(${n}) [data-testid="row-pick"]`);
    await s.waitFor('the pick is counted', () => s.execute('const b = document.querySelector(\'[data-testid="bulk-bar"]\'); return b !== null && b.dataset.count === "4"'), 10_000);
    await s.clickCss('[data-testid="bulk-acknowledge"]');
    await s.waitFor('the bar asks', async () => (await s.findAll('[data-testid="bulk-question"]')).length === 1, 10_000);
    await s.execute('window.lifelineMapPan(1, 0, 300); return null;');
    await sleep(1500);
    writeFileSync(join(OUT, 'queue-bulk-zh.png'), await s.screenshot());
    await s.click(await s.find('[data-testid="lang-en"]'));
    await s.waitFor('the labels are English', async () => ((await s.textContent('[data-testid="bulk-question"]')) ?? '').includes('Acknowledge'), 10_000);
    await s.execute('window.lifelineMapPan(-1, 0, 300); return null;');
    await sleep(1500);
    writeFileSync(join(OUT, 'queue-bulk-en.png'), await s.screenshot());
    await s.clickCss('[data-testid="handover-button"]');
    await s.waitFor('the hand-over page lists what is open', async () => (await s.findAll('[data-testid="handover-open"]')).length === 1, 15_000);
    await sleep(1000);
    writeFileSync(join(OUT, 'handover-en.png'), await s.screenshot());
  } finally {
    await s.close();
  }
}

async function main() {
  assert(DESK && HUB, 'set DESK_BIN and HUB_BIN');
  // The hub hosts the test pack of central Helsinki: the desks download it on their own.
  const hostedMaps = mkdtempSync(join(tmpdir(), 'lifeline-e2e-maps-'));
  copyFileSync(new URL('./../maps/helsinki.pmtiles', import.meta.url), join(hostedMaps, 'helsinki.pmtiles'));
  const hub = await startHub(HUB, ['--maps', hostedMaps], {
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
  ctx.a = await Session.create(4444, DESK, deskArgs(driverA, hub, 'desk-a', 'Li', ['--escalate-after', '4', '--reply-alert-after', '3']));
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
