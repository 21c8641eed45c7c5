// The desk's performance run (`cargo xtask bench app`): the real release binary under Xvfb,
// measured the way an officer would feel it, each figure next to its floor from the same run.
//
//  1. App start to first map frame with data (and to the frames after it that add the text:
//     country names, cluster counts), and map frame times while panning: on an
//     empty store (the floor: what this machine's software GL costs) and on a store of
//     PERF_REQUESTS requests (10^6 by default), alternately, three launches each (medians);
//     each launch as a later start (Mesa's shader cache filled) and, before it, as the
//     first start ever.
//  2. Street zoom: pan frame times over central Helsinki with the region pack drawn, and
//     the same view without it (alternately, medians).
//  3. Intake POST at the hub to the Notify call on the session bus, over 100 SOS posted
//     during a drill (timestamps from dbus-monitor).
//  4. Total memory (PSS of the desk and all its WebKit processes, from smaps_rollup) during
//     and after a drill of PERF_MINUTES minutes (default 10), of two desks following the
//     same drill at once: one on the full store, one on an empty one (the floor).
//
// Needs DESK_BIN, HUB_BIN, PERF_STORE (a desk.sqlite with PERF_REQUESTS requests) and
// PERF_PACK (a region pack of central Helsinki); run inside xvfb-run and dbus-run-session
// like the end-to-end suite.
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { Session, sleep } from './webdriver.mjs';
import { CA_FILE, intake, startDriver, startHub, startKeyring, startNotifications, stopAll, tempDir } from './harness.mjs';

const DESK = process.env.DESK_BIN;
const HUB = process.env.HUB_BIN;
const STORE = process.env.PERF_STORE;
const PACK = process.env.PERF_PACK;
const REQUESTS = Number(process.env.PERF_REQUESTS ?? 1_000_000);
const SIZE = `10^${Math.round(Math.log10(REQUESTS))}`;
// Which parts to run (`startup,street,drill`, all by default): each compares against its
// own floor, measured in the same part.
const PHASES = new Set((process.env.PERF_PHASES ?? 'startup,street,drill').split(','));
const MINUTES = Number(process.env.PERF_MINUTES ?? 10);
const LAUNCHES = Number(process.env.PERF_LAUNCHES ?? 3);
const SOS_COUNT = Number(process.env.PERF_SOS ?? 100);
const OUT = process.env.E2E_OUT ?? 'target/perf';
mkdirSync(OUT, { recursive: true });

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** Wall-clock time (ms) of a moment given in clock ticks since boot, such as a process's
 *  start in /proc/PID/stat. Measured back from now with /proc/uptime: the boot time in
 *  /proc/stat (`btime`) is whole seconds, which put every start up to a second too early
 *  and so made every "app start to first frame" up to a second too long. */
function wallMsOfTicks(ticks) {
  const uptimeS = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  return Date.now() - (uptimeS - ticks / CLK_TCK) * 1000;
}

function percentile(values, p) {
  if (values.length === 0) return NaN;
  const v = [...values].sort((a, b) => a - b);
  return v[Math.min(v.length - 1, Math.round((p / 100) * (v.length - 1)))];
}

const median = (values) => percentile(values, 50);
const ms = (x) => `${Math.round(x)} ms`;
const mib = (kib) => `${Math.round(kib / 1024)} MiB`;

/** Every process: pid → { ppid, startMs, cmdline }. */
function processes() {
  const table = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Fields after the command name, which is in parentheses and may hold spaces.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      table.set(Number(name), {
        ppid: Number(fields[1]),
        startMs: wallMsOfTicks(Number(fields[19])),
        cmdline,
      });
    } catch {
      // gone meanwhile
    }
  }
  return table;
}

/** The desk process started with `dataDir`, and all its descendants (WebKit's processes). */
function deskProcesses(dataDir) {
  const table = processes();
  const root = [...table.entries()].find(([, p]) => p.cmdline[0] === DESK && p.cmdline.includes(dataDir));
  if (!root) throw new Error(`no desk process for ${dataDir}`);
  const pids = [root[0]];
  for (let i = 0; i < pids.length; i++) {
    for (const [pid, p] of table) if (p.ppid === pids[i]) pids.push(pid);
  }
  return { pid: root[0], startMs: root[1].startMs, pids };
}

/** CPU time (clock ticks) the desk's own process has used. */
function cpuTicks(pid) {
  try {
    // Fields after the command's closing parenthesis: state is the first, utime the 12th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/** Waits until the desk's process has settled: less than a tenth of a core over three
 *  seconds (a desk whose store was just encrypted in place rebuilds its query index in the
 *  background for a minute or two at 10^6 requests). Returns how long that took. */
async function settle(pid, maxMs = 600_000) {
  const started = Date.now();
  let before = cpuTicks(pid);
  while (Date.now() - started < maxMs) {
    await sleep(3000);
    const now = cpuTicks(pid);
    // 100 ticks a second: 3 s at a tenth of a core is 30 ticks.
    if (now - before < 30) break;
    before = now;
  }
  return Date.now() - started;
}

/** Proportional set size of each process (KiB), by its command name. */
function pssByProcess(pids) {
  const out = [];
  for (const pid of pids) {
    try {
      const m = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').match(/^Pss:\s+(\d+) kB/m);
      const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
      if (m) out.push({ comm, kib: Number(m[1]) });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Proportional set size of the processes, summed (KiB). */
function pssKiB(pids) {
  return pssByProcess(pids).reduce((sum, p) => sum + p.kib, 0);
}

const breakdown = (pids) => pssByProcess(pids).map((p) => `${p.comm} ${mib(p.kib)}`).join(', ');

/** A screenshot for looking at afterwards; the WebDriver call can time out on a map still
 *  drawing under software GL, which is no reason to lose the run's figures. */
async function screenshotTo(s, name) {
  try {
    writeFileSync(join(OUT, name), await s.screenshot());
  } catch (e) {
    console.log(`  (no screenshot ${name}: ${e.message})`);
  }
}

let nextPort = 4500;

/** Starts the desk on a copy of `store` (or empty), waits for the first map frame with data.
 *  Given `home`, in that HOME (with the caches an earlier launch left there). */
async function launch(name, store, extraArgs = [], home = undefined) {
  const port = nextPort;
  nextPort += 2;
  const driver = await startDriver(port, port + 1, name, home);
  mkdirSync(driver.dataDir, { recursive: true });
  if (store && !existsSync(join(driver.dataDir, 'desk.sqlite'))) {
    // The store and its query index, as a desk of an earlier version leaves them: in
    // plaintext. The first start encrypts them in place; later launches in this HOME
    // open the encrypted store with the key the keyring keeps for this data folder.
    copyFileSync(store, join(driver.dataDir, 'desk.sqlite'));
    copyFileSync(store.replace(/\.sqlite$/, '.index.sqlite'), join(driver.dataDir, 'desk.index.sqlite'));
  }
  const args = ['--data-dir', driver.dataDir, '--desk', name, '--officer', 'Perf', '--lang', 'zh', ...extraArgs];
  const s = await Session.create(port, DESK, args);
  // Generous: a first start on a plaintext store of 10^6 encrypts it in place first.
  await s.waitFor('the first map frame with data', () => s.execute('return document.body.dataset.mapReady === "1"'), 600_000, 20);
  const readyAt = Number(await s.execute('return document.body.dataset.mapReadyAt'));
  // The text comes in the frames after the first (country names, cluster counts): how long
  // after, so the first frame is never bought by pushing the counts out of sight.
  await s.waitFor('the labels drawn', () => s.execute("return performance.getEntriesByName('lifeline:labels').length > 0"), 60_000, 20);
  const labelsAt = Number(await s.execute("return Math.round(performance.timeOrigin + performance.getEntriesByName('lifeline:labels')[0].startTime)"));
  const desk = deskProcesses(driver.dataDir);
  // Where the time went: the page's own marks, from the process start.
  const marks = await s.execute(
    `return [['page', 0], ...performance.getEntriesByType('mark').map((m) => [m.name.replace('lifeline:', ''), m.startTime])]
       .map(([name, t]) => [name, Math.round(performance.timeOrigin + t)]);`,
  );
  const timeline = marks.map(([name, at]) => `${name} ${Math.round(at - desk.startMs)}`).join(', ');
  return { s, desk, dataDir: driver.dataDir, firstFrameMs: readyAt - desk.startMs, labelsMs: labelsAt - desk.startMs, timeline };
}

/** Frame intervals over six back-to-back animated pans (the clusters refresh between them). */
async function panFrames(s) {
  await sleep(1500);
  await s.execute('window.lifelineMapResetFrames(); return null;');
  const pans = [[400, 0], [0, 250], [-400, 0], [0, -250], [300, 200], [-300, -200]];
  for (const [dx, dy] of pans) {
    await s.execute(`window.lifelineMapPan(${dx}, ${dy}, 1500); return null;`);
    await sleep(1600);
  }
  return s.execute('return window.lifelineMapFrames()');
}

/**
 * Each launch pair twice in one HOME: first as on a machine where the desk never ran (no
 * Mesa shader cache: llvmpipe compiles every shader of the map with LLVM), then as every
 * later start is (the shaders come from ~/.cache/mesa_shader_cache). Pan frames and memory
 * are read on the second.
 */
async function startupAndPanning() {
  const runs = { empty: [], full: [] };
  const firstEver = { empty: [], full: [] };
  for (let i = 0; i < LAUNCHES; i++) {
    for (const kind of ['empty', 'full']) {
      const home = tempDir(`home-${kind}-${i}`);
      const store = kind === 'full' ? STORE : null;
      if (store) {
        // Encrypting the plaintext store happens once per desk: measured apart, then the
        // caches it left are removed so the next launch is a machine's first again.
        const migrating = await launch(`${kind}-${i}-encrypt`, store, [], home);
        // What follows measures later starts: the one-time work of this one (its query
        // index rebuilt, encrypted) is let finish first.
        const settled = await settle(migrating.desk.pid);
        console.log(
          `  launch ${i + 1} ${SIZE} requests, plaintext store of an earlier version: encrypted in place, first map frame ${ms(migrating.firstFrameMs)}; settled ${ms(settled)} later`,
        );
        await migrating.s.close();
        await sleep(1000);
        rmSync(join(home, 'cache'), { recursive: true, force: true });
        mkdirSync(join(home, 'cache'), { recursive: true });
      }
      const cold = await launch(`${kind}-${i}-first`, store, [], home);
      firstEver[kind].push(cold.firstFrameMs);
      console.log(`  launch ${i + 1} ${kind === 'full' ? `${SIZE} requests` : 'empty store  '} (first ever, no shader cache): first map frame ${ms(cold.firstFrameMs)}`);
      console.log(`      ms from process start: ${cold.timeline}`);
      await cold.s.close();
      await sleep(1000);
      const { s, desk, firstFrameMs, labelsMs, timeline } = await launch(`${kind}-${i}`, store, [], home);
      const frames = await panFrames(s);
      const pss = pssKiB(desk.pids);
      runs[kind].push({ firstFrameMs, labelsMs, frames, pss });
      console.log(
        `  launch ${i + 1} ${kind === 'full' ? `${SIZE} requests` : 'empty store  '}: first map frame ${ms(firstFrameMs)}, labels ${ms(labelsMs)}, ` +
          `pan p50 ${ms(percentile(frames, 50))} p95 ${ms(percentile(frames, 95))} (${frames.length} frames), PSS ${mib(pss)} (${breakdown(desk.pids)})`,
      );
      console.log(`      ms from process start: ${timeline}`);
      if (i === 0 && kind === 'full') await screenshotTo(s, 'perf-full-store.png');
      await s.close();
      await sleep(1000);
      // A home holds a copy of the store (about 1.7 GB at 10^6): one at a time on disk.
      rmSync(home, { recursive: true, force: true });
    }
  }
  const summary = (kind) => {
    const frames = runs[kind].flatMap((r) => r.frames);
    return {
      firstFrameMs: median(runs[kind].map((r) => r.firstFrameMs)),
      labelsMs: median(runs[kind].map((r) => r.labelsMs)),
      firstEverMs: median(firstEver[kind]),
      panP50: percentile(frames, 50),
      panP95: percentile(frames, 95),
      panP99: percentile(frames, 99),
      pss: median(runs[kind].map((r) => r.pss)),
    };
  };
  return { empty: summary('empty'), full: summary('full') };
}

/**
 * Street zoom over central Helsinki: the same view with the region pack drawn and without
 * it, alternately (empty stores: what is measured is the pack's drawing).
 */
async function streetPanning() {
  const frames = { pack: [], none: [] };
  for (let i = 0; i < LAUNCHES; i++) {
    for (const kind of ['pack', 'none']) {
      const home = tempDir(`home-street-${kind}-${i}`);
      if (kind === 'pack') {
        const maps = join(home, 'desk', 'maps');
        mkdirSync(maps, { recursive: true });
        copyFileSync(PACK, join(maps, 'helsinki.pmtiles'));
      }
      // A first launch fills the shader cache; the measured one is a later start.
      const warm = await launch(`street-${kind}-${i}-first`, null, [], home);
      await warm.s.close();
      await sleep(1000);
      const { s } = await launch(`street-${kind}-${i}`, null, [], home);
      await s.execute('window.lifelineMapJumpTo(24.9414, 60.1700, 15.2); return null;');
      if (kind === 'pack') {
        await s.waitFor('the streets are drawn', async () => (await s.execute('return window.lifelineMapStreetNames();')).length > 0, 30_000);
      }
      await sleep(2000);
      const f = await panFrames(s);
      frames[kind].push(...f);
      console.log(`  launch ${i + 1} street zoom ${kind === 'pack' ? 'with the pack   ' : 'without the pack'}: pan p50 ${ms(percentile(f, 50))} p95 ${ms(percentile(f, 95))} (${f.length} frames)`);
      if (i === 0 && kind === 'pack') await screenshotTo(s, 'perf-street.png');
      await s.close();
      await sleep(1000);
      rmSync(home, { recursive: true, force: true });
    }
  }
  return {
    pack: { p50: percentile(frames.pack, 50), p95: percentile(frames.pack, 95) },
    none: { p50: percentile(frames.none, 50), p95: percentile(frames.none, 95) },
  };
}

/** Notify calls recorded by dbus-monitor: [{ atMs, text }]. */
function notifyCalls(logFile) {
  return readFileSync(logFile, 'utf8')
    .split('method call time=')
    .slice(1)
    .filter((block) => block.includes('member=Notify'))
    .map((block) => ({ atMs: Number(block.slice(0, block.indexOf(' '))) * 1000, text: block }));
}

/** SOS far apart from each other (so each alerts alone, not as a burst summary). A
 *  notification names no citizen and quotes no description (a locked screen shows it), so
 *  each SOS is told apart by its number of people, which it does show: 10 + i. */
function sos(i) {
  const lat = -38 + 13 * (i % 7);
  const lon = -171 + 17 * Math.floor(i / 7) + 3;
  return {
    id: `PERF-SOS-${String(i).padStart(3, '0')}`,
    channel: 'app',
    category: 'medical',
    emergency: true,
    people_count: 10 + i,
    citizen: { name: `测试${i}`, phone: '+8613800138000' },
    location: { lat, lon, accuracy_m: 25 },
    description: `perf-token-${String(i).padStart(3, '0')} 需要帮助`,
  };
}

async function drill(notifyLog) {
  // An exercise hub replaying the drill; the desk's officer watches every post (the SOS
  // below come from everywhere).
  const hub = await startHub(HUB, ['--exercise', '--drill', 'earthquake', '--rate', '30', '--seed', '7'], {
    officers: [{ id: 'perf', name: 'Perf' }],
  });
  const hubArgs = ['--hub', hub.url, '--hub-ca', CA_FILE, '--sign-in', 'perf'];
  // The floor: a desk on an empty store following the same drill. It watches a country with
  // no requests, so that the notifications timed below are the full desk's.
  const floorHome = tempDir('home-drill-floor');
  mkdirSync(join(floorHome, 'desk'), { recursive: true }); // the desk's --data-dir (startDriver)
  writeFileSync(join(floorHome, 'desk', 'settings.json'), JSON.stringify({ watch_countries: ['AQ'] }));
  // The desk on the full store as it is on a later day: its store encrypted and its query
  // index rebuilt by a first start, which is let settle (timed) before the drill.
  const drillHome = tempDir('home-drill');
  const first = await launch('drill', STORE, [], drillHome);
  const settled = await settle(first.desk.pid);
  console.log(`  the drill's desk: first start (store encrypted in place) settled ${ms(settled)} after its first frame`);
  await first.s.close();
  await sleep(1000);
  const floor = await launch('drill-floor', null, hubArgs, floorHome);
  const { s, desk, dataDir } = await launch('drill', STORE, hubArgs, drillHome);
  const started = Date.now();
  const samples = [{ minute: 0, pss: pssKiB(desk.pids), floor: pssKiB(floor.desk.pids) }];
  // The SOS, one every 400 ms, while the drill runs.
  const posted = [];
  for (let i = 0; i < SOS_COUNT; i++) {
    const request = sos(i);
    posted.push({ token: `· ${request.people_count} 人`, atMs: Date.now() });
    await intake(hub, request);
    await sleep(400);
  }
  await sleep(5000);
  const calls = notifyCalls(notifyLog);
  const latencies = [];
  const missing = [];
  for (const p of posted) {
    const call = calls.find((c) => c.text.includes(p.token));
    if (call) latencies.push(call.atMs - p.atMs);
    else missing.push(p.token);
  }
  console.log(
    `  intake POST → Notify on the bus: p50 ${ms(percentile(latencies, 50))}, p99 ${ms(percentile(latencies, 99))}, ` +
      `max ${ms(Math.max(...latencies))} (n=${latencies.length}${missing.length ? `, ${missing.length} never notified` : ''})`,
  );
  // Memory through the rest of the drill, sampled each minute.
  for (let minute = 1; minute <= MINUTES; minute++) {
    const wait = started + minute * 60_000 - Date.now();
    if (wait > 0) await sleep(wait);
    // Re-read the process trees: WebKit may start or end helper processes.
    const { pids } = deskProcesses(dataDir);
    const floorPids = deskProcesses(floor.dataDir).pids;
    samples.push({ minute, pss: pssKiB(pids), floor: pssKiB(floorPids) });
    const last = samples[samples.length - 1];
    console.log(`  drill minute ${minute}: PSS ${SIZE} ${mib(last.pss)} (${breakdown(pids)}); empty store ${mib(last.floor)} (${breakdown(floorPids)})`);
  }
  await screenshotTo(s, 'perf-drill.png');
  const queue = Number(await s.execute('return document.querySelector(\'[data-testid="queue-summary"]\')?.dataset.total ?? -1'));
  await s.close();
  await floor.s.close();
  await sleep(1000);
  for (const d of [dataDir, floor.dataDir]) rmSync(dirname(d), { recursive: true, force: true });
  return {
    notify: { p50: percentile(latencies, 50), p99: percentile(latencies, 99), n: latencies.length, missing: missing.length },
    pss: samples,
    queue,
  };
}

async function main() {
  if (!DESK || !HUB || !STORE || !PACK) throw new Error('set DESK_BIN, HUB_BIN, PERF_STORE and PERF_PACK');
  // The desks keep their database keys in the keyring (a launch on a copied plaintext store
  // encrypts it in place first).
  await startKeyring();
  const ratio = (a, b) => `${(a / b).toFixed(2)}× the floor`;
  const summary = [];
  const results = { requests: REQUESTS, minutes: MINUTES };
  if (PHASES.has('startup')) {
    console.log(`== the desk: first map frame and panning, empty store (floor) vs ${SIZE} requests`);
    const { empty, full } = (results.startup = await startupAndPanning());
    summary.push(
      `  app start → first map frame: ${SIZE} requests ${ms(full.firstFrameMs)}, empty store ${ms(empty.firstFrameMs)} (floor) → ${ratio(full.firstFrameMs, empty.firstFrameMs)}   (target ≤ 1.3×)`,
      `    country names and cluster counts drawn (the frames after): ${SIZE} requests ${ms(full.labelsMs)}, empty store ${ms(empty.labelsMs)} (floor) → ${ratio(full.labelsMs, empty.labelsMs)}`,
      `    the first start ever (no shader cache): ${SIZE} requests ${ms(full.firstEverMs)}, empty store ${ms(empty.firstEverMs)} (floor) → ${ratio(full.firstEverMs, empty.firstEverMs)}`,
      `  pan frame time p50/p95/p99: ${SIZE} requests ${ms(full.panP50)} / ${ms(full.panP95)} / ${ms(full.panP99)}, empty ${ms(empty.panP50)} / ${ms(empty.panP95)} / ${ms(empty.panP99)} (floor) → p95 ${ratio(full.panP95, empty.panP95)}   (target ≤ 1.2×)`,
      `  PSS after first frame: ${SIZE} requests ${mib(full.pss)}, empty ${mib(empty.pss)} (floor) → ${ratio(full.pss, empty.pss)}`,
    );
  }
  if (PHASES.has('street')) {
    console.log('== street zoom over central Helsinki: with the region pack drawn vs without');
    const street = (results.street = await streetPanning());
    summary.push(`  street zoom pan p50/p95: with the pack ${ms(street.pack.p50)} / ${ms(street.pack.p95)}, without ${ms(street.none.p50)} / ${ms(street.none.p95)} → p95 ${(street.pack.p95 / street.none.p95).toFixed(2)}× without`);
  }
  if (PHASES.has('drill')) {
    console.log(`== the desk during a ${MINUTES}-minute earthquake drill with ${SOS_COUNT} SOS, beside a desk on an empty store (floor)`);
    const notifyLog = join(tempDir('perf-bus'), 'notify.log');
    await startNotifications(notifyLog);
    const drilled = (results.drill = await drill(notifyLog));
    const lastSample = drilled.pss[drilled.pss.length - 1];
    summary.push(
      `  PSS after ${MINUTES} min of drill: ${SIZE} requests ${mib(lastSample.pss)}, empty store ${mib(lastSample.floor)} (floor) → ${ratio(lastSample.pss, lastSample.floor)}   (target ≤ 1.2×; at start ${mib(drilled.pss[0].pss)}, peak ${mib(Math.max(...drilled.pss.map((x) => x.pss)))})`,
      `  intake POST → Notify: p50 ${ms(drilled.notify.p50)}, p99 ${ms(drilled.notify.p99)} over ${drilled.notify.n} SOS   (target p99 < 2000 ms)`,
    );
  }
  console.log('\n== summary (medians of the launches)');
  for (const line of summary) console.log(line);
  writeFileSync(join(OUT, 'perf.json'), JSON.stringify(results, null, 2));
  if (results.drill?.notify.missing > 0) throw new Error(`${results.drill.notify.missing} SOS were never notified`);
}

try {
  await main();
} catch (e) {
  console.error(`performance run failed: ${e.stack ?? e}`);
  process.exitCode = 1;
} finally {
  stopAll();
}
