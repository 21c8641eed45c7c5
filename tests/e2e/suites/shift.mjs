// The shift: who is signed in, settings in the window, the hand-over page.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OUT, assert, ctx } from '../common.mjs';

export const TESTS = [
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
];
