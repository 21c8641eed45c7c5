// The desk as an embassy's IT installs it: the .deb installed with dpkg (by `cargo xtask
// ci`), the installed binary started under a virtual display through WebDriver, signed in
// to a real hub over HTTPS, its first frame read. Also checks what the package put on the
// system: the desktop entry and the icons, and data under the XDG data folder.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Session } from './webdriver.mjs';
import { CA_FILE, intake, startDriver, startHub, startKeyring, stopAll, tempDir } from './harness.mjs';

const DESK = process.env.DESK_BIN;
const HUB = process.env.HUB_BIN;
const OUT = process.env.E2E_OUT ?? 'target/e2e/installed';

function assert(ok, message) {
  if (!ok) throw new Error(message);
}

async function main() {
  assert(DESK && HUB, 'set DESK_BIN (the installed desk) and HUB_BIN');
  assert(existsSync(DESK), `${DESK} is installed`);
  const entries = readdirSync('/usr/share/applications').filter((f) => f.toLowerCase().includes('lifeline'));
  assert(entries.length === 1, `one desktop entry for the desk: ${entries}`);
  const entry = readFileSync(join('/usr/share/applications', entries[0]), 'utf8');
  assert(/^Exec=lifeline-desk/m.test(entry) && /^Icon=/m.test(entry), `the desktop entry starts the desk with its icon:\n${entry}`);
  const icon = entry.match(/^Icon=(.*)$/m)[1];
  const icons = ['32x32', '128x128'].map((s) => `/usr/share/icons/hicolor/${s}/apps/${icon}.png`);
  for (const f of icons) assert(existsSync(f), `the icon ${f} is installed`);

  const hub = await startHub(HUB, [], { officers: [{ id: 'it-check', name: 'IT check' }] });
  await startKeyring();
  for (let i = 0; i < 5; i++) {
    await intake(hub, {
      id: `PKG-${i}`,
      channel: 'app',
      category: 'medical',
      emergency: i === 0,
      citizen: { name: `安装测试${i}`, phone: '+8613800138000' },
      location: { lat: 41.01 + i * 0.01, lon: 28.97, accuracy_m: 30, country: 'TR' },
      description: 'installed desk check',
      post: 'Consulate Istanbul',
    });
  }
  const home = tempDir('home-installed');
  const driver = await startDriver(4460, 4461, 'installed', home);
  // No --data-dir: the installed desk keeps its data where the platform says.
  const s = await Session.create(driver.port, DESK, ['--hub', hub.url, '--hub-ca', CA_FILE, '--sign-in', 'it-check', '--desk', 'it-desk', '--lang', 'en']);
  try {
    await s.waitFor('the installed desk draws its first map frame', () => s.execute('return document.body.dataset.mapReady === "1"'), 60_000);
    await s.waitFor('and shows the hub\'s requests', () => s.execute('return document.querySelectorAll(\'[data-testid="queue-row"]\').length === 5'), 30_000);
    const png = await s.screenshot();
    writeFileSync(join(OUT, 'installed-desk.png'), png);
    assert(png.length > 20_000, `the first frame has content (${png.length} bytes)`);
  } finally {
    await s.close();
  }
  const dataDir = join(home, 'data', 'org.lifeline.desk');
  assert(existsSync(join(dataDir, 'desk.sqlite')), `the data is under the XDG data folder (${dataDir})`);
  console.log('ok   the installed desk starts, signs in and draws its first frame; data under XDG_DATA_HOME');
}

let code = 1;
try {
  await main();
  code = 0;
} catch (e) {
  console.log(`FAIL installed desk: ${e.stack ?? e}`);
} finally {
  stopAll();
}
process.exit(code);
