// Street maps an officer can navigate by: the region pack the hub hosts reaches a desk that
// started with an empty data folder and draws the streets and their names where it covers
// (read back through the map's own query of what it rendered), credits OpenStreetMap, and
// leaves cleanly when removed; a pack added from the settings panel draws the same; a cut
// pack in the maps folder is refused with why, and the map keeps working. Places in both
// languages: a request names its nearest city and province, a search by a city's or a
// province's Chinese name finds the requests there, an alert that names only an ISO 3166-2
// code is named and placed on the map, and a province can be picked to watch by name.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { intake } from '../harness.mjs';
import { sleep } from '../webdriver.mjs';
import { OUT, assert, ctx, queueTotal, request } from '../common.mjs';

const PACK = new URL('../../maps/helsinki.pmtiles', import.meta.url).pathname;

async function openSettings(s) {
  await s.clickCss('[data-testid="settings-button"]');
  await s.waitFor('the settings panel', async () => (await s.findAll('[data-testid="map-packs"]')).length === 1, 5_000);
}

async function closeSettings(s) {
  await s.execute('[...document.querySelectorAll(\'[data-testid="settings-panel"] .buttons button\')][0].click(); return null;');
}

/** A CAP alert that names its area by an ISO 3166-2 code only, as national feeds do. */
function alertForProvince(code) {
  return `<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>E2E-FLOOD-${code}</identifier><sender>e2e-reader</sender>
  <sent>${new Date().toISOString().replace(/\.\d+Z$/, '+00:00')}</sent><status>Actual</status><msgType>Alert</msgType><scope>Public</scope>
  <info><language>en</language><category>Met</category><event>Flood</event><urgency>Expected</urgency>
    <severity>Moderate</severity><certainty>Likely</certainty><headline>Flash floods along the coast</headline>
    <area><areaDesc>${code}</areaDesc><geocode><valueName>ISO 3166-2</valueName><value>${code}</value></geocode></area>
  </info>
</alert>`;
}

export const TESTS = [
  async function a_region_pack_draws_the_streets_and_their_names_and_leaves_cleanly() {
    const s = ctx.a;
    const hub = ctx.hub;
    // Citizens around Helsinki's railway station.
    const near = [[60.1712, 24.9412], [60.1688, 24.9460], [60.1699, 24.9368]];
    for (const [i, [lat, lon]] of near.entries()) {
      await intake(hub, request(970 + i, { id: `E2E-HEL-${i}`, emergency: i === 0, location: { lat, lon, accuracy_m: 15, country: 'FI' } }));
    }
    await s.type(await s.find('#search'), 'E2E-HEL');
    await s.waitFor('the three are listed', async () => (await queueTotal(s)) === 3, 20_000);

    // Downloaded from the hub on its own, checked, and listed.
    await openSettings(s);
    await s.waitFor('the hub\'s pack is on the desk', async () => (await s.findAll('[data-testid="map-pack"][data-id="helsinki"]')).length === 1, 20_000);
    await closeSettings(s);

    await s.execute('window.lifelineMapJumpTo(24.9414, 60.1700, 15.2); return null;');
    let names = [];
    await s.waitFor('street names drawn from the pack', async () => {
      names = await s.execute('return window.lifelineMapStreetNames();');
      return names.includes('Mannerheimintie') || names.includes('Kaivokatu');
    }, 20_000);
    const credit = await s.textContent('[data-testid="map-attribution"]');
    assert(credit.includes('OpenStreetMap'), `the pack's makers are credited: ${credit}`);
    await s.waitFor('the clusters of this view are drawn', async () => s.execute('return window.lifelineMapClustersCurrent();'), 10_000);
    await new Promise((r) => setTimeout(r, 1000));
    writeFileSync(join(OUT, 'streets-zh.png'), await s.screenshot());

    // Removed: the streets go, the world map stays, nothing fails.
    await openSettings(s);
    await s.clickCss('[data-testid="map-pack"][data-id="helsinki"] [data-testid="map-pack-remove"]');
    await s.waitFor('the pack is gone from the list', async () => (await s.findAll('[data-testid="map-pack"]')).length === 0, 10_000);
    await closeSettings(s);
    await s.waitFor('no street names any more', async () => (await s.execute('return window.lifelineMapStreetNames();')).length === 0, 10_000);
    assert(!(await s.textContent('[data-testid="map-attribution"]')).includes('OpenStreetMap'), 'no credit for a pack not drawn');

    // Added again by hand, from a file: drawn again.
    await openSettings(s);
    await s.type(await s.find('[data-testid="map-pack-path"]'), PACK);
    await s.clickCss('[data-testid="map-pack-add"]');
    await s.waitFor('the pack is listed', async () => (await s.findAll('[data-testid="map-pack"][data-id="helsinki"]')).length === 1, 10_000);
    await closeSettings(s);
    await s.waitFor('street names again', async () => (await s.execute('return window.lifelineMapStreetNames();')).length > 0, 20_000);

    // A pack cut short in the maps folder is refused with why; the map keeps working.
    const bytes = readFileSync(PACK);
    writeFileSync(join(ctx.dataDirA, 'maps', 'cut.pmtiles'), bytes.subarray(0, Math.floor(bytes.length / 2)));
    await openSettings(s);
    await s.waitFor('the cut pack is refused with why', async () => ((await s.textContent('[data-testid="map-pack-refused"]')) ?? '').includes('cut short'), 10_000);
    await closeSettings(s);
    await s.execute('window.lifelineMapPan(200, 0, 300); return null;');
    await s.waitFor('the map still draws', async () => s.execute('return window.lifelineMapClustersCurrent();'), 10_000);
    assert(await s.execute('return document.querySelector(".error-toast") === null'), `no error: ${await s.textContent('.error-toast')}`);
    await s.type(await s.find('#search'), '');
  },

  async function places_are_named_searched_placed_and_watched_in_both_languages() {
    const s = ctx.a;
    const hub = ctx.hub;
    // Two citizens in Antalya province; neither text says where they are.
    await intake(hub, request(980, { id: 'E2E-ANT-0', emergency: false, description: '钱包和手机被偷了', location: { lat: 36.8969, lon: 30.7133, accuracy_m: 20, country: 'TR' }, post: 'Embassy Ankara' }));
    await intake(hub, request(981, { id: 'E2E-ANT-1', emergency: false, description: 'Lost my passport at the hotel', location: { lat: 36.5444, lon: 31.9954, accuracy_m: 20, country: 'TR' }, post: 'Embassy Ankara' }));
    // The province's Chinese name finds both; the town's, the one there.
    await s.type(await s.find('#search'), '安塔利亚');
    await s.waitFor('the province finds both', async () => (await queueTotal(s)) === 2, 20_000);
    await s.type(await s.find('#search'), '阿拉尼亚');
    await s.waitFor('the town finds one', async () => (await queueTotal(s)) === 1, 20_000);
    await s.clickCss('[data-testid="queue-row"][data-id="E2E-ANT-1"]');
    await s.waitFor('the detail names the nearest city and province', async () => {
      const near = (await s.textContent('[data-testid="detail-near"]')) ?? '';
      return near.includes('阿拉尼亚') && near.includes('安塔利亚');
    }, 10_000);

    // An alert for the province by its code alone: named and placed on the map.
    const res = await fetch(`${hub.url}/v1/advisories`, {
      method: 'POST',
      headers: { authorization: `Bearer ${hub.token}`, 'content-type': 'application/cap+xml' },
      body: alertForProvince('TR-07'),
      signal: AbortSignal.timeout(10_000),
    });
    assert(res.status === 201 || res.status === 200, `published: ${res.status} ${await res.text()}`);
    await s.waitFor('the request lies inside the alert', async () => ((await s.textContent('[data-testid="detail-advisories"]')) ?? '').includes('Flash floods'), 30_000);
    // Both citizens in view, the ring on Antalya between them.
    await s.type(await s.find('#search'), '安塔利亚');
    await s.waitFor('both are listed again', async () => (await queueTotal(s)) === 2, 20_000);
    await s.execute('window.lifelineMapJumpTo(31.35, 36.75, 7.6); return null;');
    await s.waitFor('the alert is placed at Antalya with the province named in Chinese', async () => (await s.execute('return window.lifelineMapAdvisoryPlaces();')).includes('安塔利亚'), 20_000);
    await new Promise((r) => setTimeout(r, 800));
    writeFileSync(join(OUT, 'advisory-by-province-zh.png'), await s.screenshot());
    await s.click(await s.find('[data-testid="lang-en"]'));
    await s.waitFor('and in English', async () => (await s.execute('return window.lifelineMapAdvisoryPlaces();')).includes('Antalya'), 20_000);
    await s.clickCss('[data-testid="tab-advisories"]');
    await s.waitFor('the advisory list names the province', async () => ((await s.textContent('[data-testid="advisories"]')) ?? '').includes('Antalya (TR-07)'), 10_000);
    await s.click(await s.find('[data-testid="lang-zh"]'));
    await s.waitFor('in Chinese again', async () => ((await s.textContent('[data-testid="advisories"]')) ?? '').includes('安塔利亚 (TR-07)'), 10_000);
    await s.execute('document.querySelector(".tabs button").click(); return null;');

    // Watched by name: the province is picked from what the officer types.
    try {
      await watchByName(s);
    } finally {
      // Leave the desk watching everything, as the other tests expect, whatever happened.
      await s.execute('const b = document.querySelector(\'[data-testid="watch-region-clear"]\'); if (b) b.click(); return null;');
      await sleep(500);
      await s.execute('const b = document.querySelector(\'[data-testid="alerts-panel"] .panel-head button\'); if (b) b.click(); return null;');
    }
    await s.type(await s.find('#search'), '');
  },
];

async function watchByName(s) {
  await s.clickCss('[data-testid="alerts-button"]');
  await s.waitFor('the alerts panel', async () => (await s.findAll('[data-testid="watch-place-search"]')).length === 1, 10_000);
  await s.type(await s.find('[data-testid="watch-place-search"]'), '安塔利亚');
  await s.waitFor('the province is offered', async () => (await s.findAll('[data-testid="watch-place-choices"] button[data-kind="subdivision"][data-code="TR-07"]')).length === 1, 10_000);
  await s.clickCss('[data-testid="watch-place-choices"] button[data-kind="subdivision"][data-code="TR-07"]');
  await s.waitFor('the desk watches it', async () => ((await s.textContent('[data-testid="watch-place"]')) ?? '').includes('安塔利亚'), 10_000);
  const region = await s.textContent('[data-testid="watch-region"]');
  assert(/3[5-7]\.\d°N.*3[0-3]\.\d°E/.test(region), `the watched box is around Antalya: ${region}`);
  await s.clickCss('[data-testid="watch-region-clear"]');
  await s.waitFor('no region watched', async () => (await s.findAll('[data-testid="watch-region-clear"]')).length === 0, 10_000);
}
