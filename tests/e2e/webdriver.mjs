// A minimal W3C WebDriver client over fetch: enough to drive the desk like an officer
// (find, click, type, read text, run a script, take a screenshot).

const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

export class Session {
  constructor(base, id) {
    this.base = base;
    this.id = id;
  }

  /** Starts the desk binary through tauri-driver listening on `port`. */
  static async create(port, application, args) {
    const base = `http://127.0.0.1:${port}`;
    const body = { capabilities: { alwaysMatch: { 'tauri:options': { application, args } } } };
    const res = await fetchJson(`${base}/session`, 'POST', body, 90_000);
    return new Session(base, res.value.sessionId);
  }

  async req(method, path, body) {
    const res = await fetchJson(`${this.base}/session/${this.id}${path}`, method, body, 60_000);
    return res.value;
  }

  execute(script, args = []) {
    return this.req('POST', '/execute/sync', { script, args });
  }

  executeAsync(script, args = []) {
    return this.req('POST', '/execute/async', { script, args });
  }

  async find(css) {
    try {
      const v = await this.req('POST', '/element', { using: 'css selector', value: css });
      return v[ELEMENT];
    } catch (e) {
      throw new Error(`${css} is not on the page (${e.message})`);
    }
  }

  async findAll(css) {
    const v = await this.req('POST', '/elements', { using: 'css selector', value: css });
    return v.map((e) => e[ELEMENT]);
  }

  click(el) {
    return this.req('POST', `/element/${el}/click`, {});
  }

  /** Finds and clicks, again if the list re-rendered in between (a live queue does). */
  async clickCss(css, attempts = 5) {
    for (let i = 1; ; i++) {
      try {
        return await this.click(await this.find(css));
      } catch (e) {
        if (i >= attempts || !/stale element|no such element/.test(e.message)) throw e;
        await sleep(200);
      }
    }
  }

  text(el) {
    return this.req('GET', `/element/${el}/text`);
  }

  attribute(el, name) {
    return this.req('GET', `/element/${el}/attribute/${name}`);
  }

  /** Replaces a field's text as typing would (input events fire, also when emptied). */
  async type(el, text) {
    await this.req('POST', `/element/${el}/clear`, {});
    // An empty text is not a keystroke: type a space and delete it, so `input` fires.
    const keys = text === '' ? ' \uE003' : text;
    return this.req('POST', `/element/${el}/value`, { text: keys });
  }

  /** The element's text content, as a script reads it. */
  textContent(css) {
    return this.execute('const e = document.querySelector(arguments[0]); return e ? e.textContent : null;', [css]);
  }

  keys(text) {
    const actions = [...text].flatMap((c) => [
      { type: 'keyDown', value: c },
      { type: 'keyUp', value: c },
    ]);
    return this.req('POST', '/actions', { actions: [{ type: 'key', id: 'keyboard', actions }] });
  }

  /** A key pressed with a modifier held (`\uE009` Control), e.g. Ctrl+Enter. */
  chord(modifier, key) {
    const actions = [
      { type: 'keyDown', value: modifier },
      { type: 'keyDown', value: key },
      { type: 'keyUp', value: key },
      { type: 'keyUp', value: modifier },
    ];
    return this.req('POST', '/actions', { actions: [{ type: 'key', id: 'keyboard', actions }] });
  }

  clickAt(x, y) {
    return this.req('POST', '/actions', {
      actions: [
        {
          type: 'pointer',
          id: 'mouse',
          parameters: { pointerType: 'mouse' },
          actions: [
            { type: 'pointerMove', duration: 0, x: Math.round(x), y: Math.round(y), origin: 'viewport' },
            { type: 'pointerDown', button: 0 },
            { type: 'pointerUp', button: 0 },
          ],
        },
      ],
    });
  }

  /** A click with Shift held, as an officer picks a map cluster. */
  shiftClickAt(x, y) {
    return this.req('POST', '/actions', {
      actions: [
        {
          type: 'key',
          id: 'keyboard',
          actions: [{ type: 'keyDown', value: '\uE008' }, { type: 'pause' }, { type: 'pause' }, { type: 'keyUp', value: '\uE008' }],
        },
        {
          type: 'pointer',
          id: 'mouse',
          parameters: { pointerType: 'mouse' },
          actions: [
            { type: 'pointerMove', duration: 0, x: Math.round(x), y: Math.round(y), origin: 'viewport' },
            { type: 'pointerDown', button: 0 },
            { type: 'pointerUp', button: 0 },
            { type: 'pause' },
          ],
        },
      ],
    });
  }

  drag(x, y, dx, dy, steps = 20, stepMs = 30) {
    const moves = [];
    for (let i = 1; i <= steps; i++) {
      moves.push({ type: 'pointerMove', duration: stepMs, x: Math.round(x + (dx * i) / steps), y: Math.round(y + (dy * i) / steps), origin: 'viewport' });
    }
    return this.req('POST', '/actions', {
      actions: [
        {
          type: 'pointer',
          id: 'mouse',
          parameters: { pointerType: 'mouse' },
          actions: [{ type: 'pointerMove', duration: 0, x, y, origin: 'viewport' }, { type: 'pointerDown', button: 0 }, ...moves, { type: 'pointerUp', button: 0 }],
        },
      ],
    });
  }

  async screenshot() {
    const b64 = await this.req('GET', '/screenshot');
    return Buffer.from(b64, 'base64');
  }

  async waitFor(what, check, timeoutMs = 30_000, intervalMs = 200) {
    const deadline = Date.now() + timeoutMs;
    let last;
    for (;;) {
      try {
        last = await check();
        if (last) return last;
      } catch (e) {
        last = e;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting until ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
      await sleep(intervalMs);
    }
  }

  async close() {
    try {
      await fetchJson(`${this.base}/session/${this.id}`, 'DELETE', undefined, 20_000);
    } catch {
      // The app may already be gone.
    }
  }
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

export async function fetchJson(url, method, body, timeoutMs) {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${method} ${url}: ${res.status} ${text.slice(0, 300)}`);
  }
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(json.value ?? json).slice(0, 400)}`);
  return json;
}
