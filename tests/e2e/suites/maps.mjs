// Street maps an officer can navigate by: the region pack the hub hosts reaches a desk that
// started with an empty data folder and draws the streets and their names where it covers
// (read back through the map's own query of what it rendered), credits OpenStreetMap, and
// leaves cleanly when removed; a pack added from the settings panel draws the same; a cut
// pack in the maps folder is refused with why, and the map keeps working.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { intake } from '../harness.mjs';
import { OUT, assert, ctx, queueTotal, request } from '../common.mjs';

const PACK = new URL('../../maps/helsinki.pmtiles', import.meta.url).pathname;

async function openSettings(s) {
  await s.clickCss('[data-testid="settings-button"]');
  await s.waitFor('the settings panel', async () => (await s.findAll('[data-testid="map-packs"]')).length === 1, 5_000);
}

async function closeSettings(s) {
  await s.execute('[...document.querySelectorAll(\'[data-testid="settings-panel"] .buttons button\')][0].click(); return null;');
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
];
