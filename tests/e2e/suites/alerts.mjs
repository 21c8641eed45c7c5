// Alerts: desktop notifications, escalation, snooze, the watched region.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from '../webdriver.mjs';
import { dunstHistory, hubFetch, intake, notifyCalls } from '../harness.mjs';
import { assert, request, acknowledgeAtHub, ctx } from '../common.mjs';

export const TESTS = [
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
    // Zoom to Bangkok (find a request there and open it), then watch the area the map shows.
    const search = await s.find('#search');
    await s.type(search, 'E2E-000');
    await s.waitFor('the request is listed', async () => (await s.findAll('[data-testid="queue-row"][data-id="E2E-000"]')).length === 1, 10_000);
    await s.clickCss('[data-testid="queue-row"][data-id="E2E-000"]');
    await sleep(1500);
    await s.type(search, '');
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
];
