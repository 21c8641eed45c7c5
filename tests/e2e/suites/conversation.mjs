// The conversation with the citizen: what the citizen writes reaches the desk as unread,
// the officer answers from a template, and the channel's receipts come back as ticks. The
// test plays the intake channel through the hub's own channel endpoints.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hubFetch, intake } from '../harness.mjs';
import { OUT, XSS, assert, request, queueTotal, ctx } from '../common.mjs';

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
    await s.execute('window.lifelineMapPan(1, 0, 300); return null;');
    await new Promise((r) => setTimeout(r, 1500));
    writeFileSync(join(OUT, 'conversation-zh.png'), await s.screenshot());
    await s.keys('\uE00C');
    await s.type(await s.find('#search'), '');
  },
];
