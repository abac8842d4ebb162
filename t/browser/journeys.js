// Browser journeys of t/browser.t: headless Debian chromium driven by puppeteer-core through the
// demo portal page (demo/index.html.in rendered into t/htdocs/kit/) on the kit
// (kit/jumio-portal.js), against the test server and the fake Jumio's web journey.
// Input: JSON in argv[2] {port, users: {name: id}, shots: dir, chromium}. Output: one JSON
// line per check {"ok": bool, "name": ..., "diag": ...} (t/browser.t turns them into TAP),
// then {"done": true}.
'use strict';
const path = require('path');
const puppeteer = require('puppeteer-core');

const cfg = JSON.parse(process.argv[2]);
const P = cfg.port;
const SAME = `http://portal.test:${P}/kit/index.html`;     // the portal, same origin as the API
const CROSS = `http://shop.test:${P}/kit/cross.html`;      // another origin, in JumioAllowedOrigin
const FOREIGN = `http://evil.test:${P}/kit/cross.html`;    // another origin, not allowed
const LINK_ORIGIN = `http://127.0.0.1:${P}`;                // the fake's web journey
const ALLOW = 'camera;autoplay;fullscreen;clipboard-read;clipboard-write;accelerometer;gyroscope;magnetometer';
const SENTENCE_9822 = 'This browser cannot use the camera. Please try again in another browser or on your phone.';

const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const ok = (cond, name, diag) => out({ ok: !!cond, name, diag: cond ? undefined : diag });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A page with its console errors, every console text, and the kit's poll requests counted.
async function portalPage(browser, url, auth) {
  const page = await browser.newPage();
  if (auth) await page.authenticate(auth);
  await page.setViewport({ width: 1000, height: 1150 });
  const t = { page, errors: [], texts: [], polls: 0, preflights: [] };
  page.on('console', (m) => {
    t.texts.push(m.text());
    // the members' area answering 401 / 403 is expected, and shown by the page
    const members = /\/kit\/members\.html$/.test((m.location() || {}).url || '') && /status of 40[13]/.test(m.text());
    if (m.type() === 'error' && !members) t.errors.push(m.text());
  });
  page.on('pageerror', (e) => t.errors.push('pageerror: ' + e.message));
  page.on('request', (r) => { if (/\/jumio\/(kit\/poll|poll-ru)/.test(r.url()) && r.method() === 'GET') t.polls++; });
  const cdp = await page.target().createCDPSession();
  await cdp.send('Network.enable');
  cdp.on('Network.responseReceived', (e) => {
    if (e.type === 'Preflight') t.preflights.push({ url: e.response.url, status: e.response.status, headers: e.response.headers });
  });
  t.cdp = cdp;
  await page.goto(url, { waitUntil: 'load' });
  // every kit event, as the page sees it
  await page.evaluate(() => {
    window.__kitEvents = [];
    ['loaded', 'status', 'success', 'error', 'result'].forEach((n) =>
      document.getElementById('jumio').addEventListener('jumio:' + n, (e) => window.__kitEvents.push({ name: n, detail: e.detail })));
  });
  return t;
}

// The members' area (#members, behind `Require jumio-verified`) as the page shows it after
// its next answer, the one that act() (sign-in, a result, the button) makes the page ask for.
async function members(t, act) {
  const checks = () => t.page.$eval('#members', (e) => +(e.getAttribute('data-checks') || 0));
  const before = await checks();
  await (act || (() => t.page.click('#members-open')))();
  await t.page.waitForFunction((b) => +(document.getElementById('members').getAttribute('data-checks') || 0) > b,
                               { timeout: 10000 }, before);
  return t.page.evaluate(() => {
    const m = document.getElementById('members');
    const dd = (id) => (document.getElementById(id) || {}).textContent;
    return { state: m.getAttribute('data-state'), status: m.getAttribute('data-status'),
             text: document.getElementById('members-state').textContent,
             user: dd('members-user'), decision: dd('members-decision') };
  });
}

// The members' area asked for again until it is open, for at most `ms` (a result reaches
// each httpd process's cache of `Require jumio-verified` within 1 s); tries counted.
async function membersOpen(t, ms) {
  const end = Date.now() + ms;
  for (let tries = 1; ; tries++) {
    const m = await members(t);
    if (m.state === 'open' || Date.now() > end) return Object.assign(m, { tries });
    await sleep(200);
  }
}

async function signIn(t, user) {
  await t.page.select('#user', user);
  await t.page.click('#signin');
}

// Start, wait for the journey page in the iframe and the kit's jumio:loaded; the frame.
async function start(t, name) {
  await t.page.click('#start');
  const handle = await t.page.waitForSelector('#jumio iframe', { timeout: 15000 });
  const attrs = await handle.evaluate((f) => ({ allow: f.getAttribute('allow'), fs: f.hasAttribute('allowfullscreen'), src: f.src }));
  ok(attrs.allow === ALLOW && attrs.fs, `${name}: iframe has Jumio's allow list and allowfullscreen`, JSON.stringify(attrs));
  ok(attrs.src.startsWith(LINK_ORIGIN + '/fake/web/'), `${name}: iframe shows the link`, attrs.src);
  const frame = await handle.contentFrame();
  await frame.waitForSelector('#pass', { timeout: 15000 });
  await t.page.waitForFunction(() => window.__kitEvents.some((e) => e.name === 'loaded'), { timeout: 10000 });
  const progress = await t.page.$eval('#progress', (e) => e.textContent);
  await t.page.screenshot({ path: path.join(cfg.shots, `browser-${name}-journey.png`) });
  ok(/take the photos/.test(progress), `${name}: the page shows the photo step after jumio:loaded`, progress);
  return { frame, token: new URL(attrs.src).searchParams.get('authorizationToken') };
}

async function result(t, name, timeout) {
  await t.page.waitForSelector('#result:not([hidden])', { timeout: timeout || 30000 });
  const r = await t.page.evaluate(() => ({
    decision: document.getElementById('result').getAttribute('data-decision'),
    title: document.getElementById('result-title').textContent,
    text: document.getElementById('result-text').textContent,
    frames: document.querySelectorAll('#jumio iframe').length,
  }));
  await t.page.screenshot({ path: path.join(cfg.shots, `browser-${name}.png`), fullPage: true });
  return r;
}

// The kit's listeners on window and document (DevTools protocol), by type.
async function listeners(t) {
  const count = {};
  for (const expr of ['window', 'document']) {
    const { result: obj } = await t.cdp.send('Runtime.evaluate', { expression: expr });
    const { listeners: ls } = await t.cdp.send('DOMDebugger.getEventListeners', { objectId: obj.objectId });
    for (const l of ls) count[l.type] = (count[l.type] || 0) + 1;
  }
  return count;
}

function noLeak(t, name, token) {
  ok(t.errors.length === 0, `${name}: no console error`, t.errors.join(' | '));
  return t.page.evaluate(() => JSON.stringify(window.__kitEvents)).then((ev) => {
    ok(token && !ev.includes(token) && !ev.includes('authorizationToken') && !t.texts.some((x) => x.includes(token)),
       `${name}: the web client's authorization token is in no kit event and no console message`, ev);
  });
}

async function journeyPassed(browser) {
  const name = 'passed';
  const t = await portalPage(browser, SAME);
  let m = await members(t);
  ok(m.state === 'signin' && m.status === '401' && /sign in/.test(m.text),
     "members: before sign-in the members' area asks to sign in (401)", JSON.stringify(m));
  m = await members(t, () => signIn(t, cfg.users.passed));
  ok(m.state === 'locked' && m.status === '403' && /verify your identity first/.test(m.text) && m.user === undefined,
     "members: signed in, not verified: the members' area is locked (403)", JSON.stringify(m));
  const { frame, token } = await start(t, name);

  // Foreign messages: a data: iframe (origin "null") and the page itself (the portal's
  // origin) post what would end the journey with an error; the kit must ignore both.
  await t.page.evaluate(() => {
    const forged = JSON.stringify({ eventType: 510, workflowExecutionId: 'x', payload: { value: 'error', metainfo: { code: 9100 } } });
    window.postMessage(forged, '*');
    window.postMessage(JSON.stringify({ eventType: 510, payload: { value: 'success' } }), '*');
    const f = document.createElement('iframe');
    f.src = 'data:text/html,<script>parent.postMessage(' + encodeURIComponent(JSON.stringify(forged)) + ',"*")<\/script>';
    f.style.display = 'none';
    document.body.appendChild(f);
  });
  await sleep(1500);
  const after = await t.page.evaluate(() => ({
    events: window.__kitEvents.map((e) => e.name), hidden: document.getElementById('result').hidden,
    progress: document.getElementById('progress').textContent,
  }));
  ok(after.hidden && !after.events.includes('error') && !after.events.includes('success'),
     `${name}: postMessage from a foreign origin (data: frame, the page itself) is ignored`, JSON.stringify(after));

  // Hidden page: no polls while hidden, polling again when visible.
  const other = await browser.newPage();
  await other.bringToFront();
  const vis = await t.page.evaluate(() => document.visibilityState);
  if (vis === 'hidden') {
    await sleep(800);
    const n0 = t.polls;
    await sleep(5500);
    ok(t.polls === n0, `${name}: no poll while the page is hidden`, `${t.polls - n0} polls while hidden`);
    await t.page.bringToFront();
    await sleep(1500);
    ok(t.polls > n0, `${name}: polling resumes when the page is visible again`, `${t.polls} polls`);
  }
  else {
    ok(false, `${name}: a page behind another tab is hidden`, `visibilityState ${vis}`);
  }
  await other.close();

  await frame.click('#pass');
  const r = await result(t, name);
  ok(r.decision === 'PASSED' && /You are verified/.test(r.title), `${name}: the page shows "You are verified"`, JSON.stringify(r));
  const events = await t.page.evaluate(() => window.__kitEvents.map((e) => e.name));
  ok(events.includes('success') && events[events.length - 1] === 'result',
     `${name}: jumio:loaded, jumio:success, then jumio:result`, events.join(','));
  const started = Date.now();
  m = await membersOpen(t, 3000);
  ok(m.state === 'open' && m.status === '200' && m.user === cfg.users.passed && m.decision === 'PASSED',
     "members: after PASSED the members' area opens and shows the verified user and decision", JSON.stringify(m));
  out({ info: 'members', name, members: `${m.tries} tries, ${Date.now() - started} ms` });
  await (await t.page.$('#members')).screenshot({ path: path.join(cfg.shots, 'browser-members-open.png') });
  const n = t.polls;
  await sleep(6500);
  ok(t.polls === n && n > 0, `${name}: no poll after the final answer`, `${n} polls, then ${t.polls - n} more`);
  const ls = await listeners(t);
  ok(!ls.message && !ls.visibilitychange && !ls.pagehide && !ls.pageshow,
     `${name}: the kit removed its listeners`, JSON.stringify(ls));
  await noLeak(t, name, token);
  out({ info: 'polls', name, polls: n });
  // a sentence of its own for every web client error code of Jumio's table
  const codes = [9100, 9200, 9210, 9300, 9400, 9800, 9801, 9810, 9820, 9821, 9822, 9835, 9836];
  const sentences = await t.page.evaluate((cs) => cs.map((c) => JumioPortal.errorMessage(c)), codes);
  ok(new Set(sentences).size === codes.length && sentences.every((x) => /^[A-Z].{20,}\.$/.test(x) && !/error \d/.test(x)),
     'every web client error code has a sentence of its own', JSON.stringify(sentences));
  await t.page.close();
}

async function journey(browser, name, act, expect, url, auth) {
  const t = await portalPage(browser, url || SAME, auth);
  await signIn(t, cfg.users[name]);
  const { frame, token } = await start(t, name);
  await act(frame);
  const r = await result(t, name);
  expect(r);
  ok(r.frames === 0, `${name}: the iframe is gone once the result is shown`, `${r.frames} frames`);
  await noLeak(t, name, token);
  const n = t.polls;
  await sleep(1500);
  ok(t.polls === n, `${name}: polling stopped`, `${t.polls - n} polls after the end`);
  return t;
}

async function main() {
  const browser = await puppeteer.launch({
    executablePath: cfg.chromium, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
           '--host-resolver-rules=MAP *.test 127.0.0.1'],
  });
  try {
    await journeyPassed(browser);

    const rj = await journey(browser, 'rejected', (f) => f.click('#reject'), (r) =>
      ok(r.decision === 'REJECTED' && /could not verify you/.test(r.title) && /not accepted/.test(r.text),
         'rejected: the page shows "We could not verify you"', JSON.stringify(r)));
    const rm = await members(rj);
    ok(rm.state === 'locked' && rm.status === '403' && rm.user === undefined,
       "rejected: the members' area stays locked (403)", JSON.stringify(rm));
    await rj.page.close();

    await journey(browser, 'expired', (f) => f.click('#expire'), (r) =>
      ok(r.decision === 'SESSION_EXPIRED' && /session expired/.test(r.title),
         'expired: the page shows "Your session expired"', JSON.stringify(r)));

    await journey(browser, 'error', async (f) => { await f.select('#code', '9822'); await f.click('#fail'); }, (r) =>
      ok(r.decision === 'ERROR 9822' && r.text === SENTENCE_9822 + ' (error 9822)',
         'error: web client error 9822 is shown as its sentence', JSON.stringify(r)));

    // JumioUserSource remote-user: no token, the browser's own credentials (Basic auth here).
    await journey(browser, 'remote_user', (f) => f.click('#pass'), (r) =>
      ok(r.decision === 'PASSED', 'remote_user: the flow works without a token (Basic auth, same origin)', JSON.stringify(r)),
      `http://portal.test:${P}/kit/remote-user.html`, { username: 'alice', password: 'alicepw' });

    // CORS: the portal page on another origin that JumioAllowedOrigin lists.
    const c = await journey(browser, 'cors', (f) => f.click('#pass'), (r) =>
      ok(r.decision === 'PASSED', 'cors: a page on an allowed origin runs the whole flow', JSON.stringify(r)), CROSS);
    const pf = c.preflights.filter((p) => p.url.includes('/jumio/kit/'));
    ok(pf.some((p) => p.url.endsWith('/jumio/kit/intake') && p.status === 204) &&
       pf.some((p) => p.url.endsWith('/jumio/kit/poll') && p.status === 204) &&
       pf.every((p) => (p.headers['Access-Control-Allow-Origin'] || p.headers['access-control-allow-origin']) === `http://shop.test:${P}`),
       'cors: the preflights of intake and poll are answered 204 for that origin', JSON.stringify(pf));

    // CORS: a page on an origin that is not allowed cannot call the module.
    const t = await portalPage(browser, FOREIGN);
    await signIn(t, cfg.users.foreign);
    await t.page.click('#start');
    const r = await result(t, 'foreign');
    ok(r.decision === 'ERROR network' && r.frames === 0,
       'foreign: the browser refuses the call from an origin not allowed (shown as a connection problem)', JSON.stringify(r));
    const pff = t.preflights.filter((p) => p.url.includes('/jumio/kit/'));
    ok(pff.length > 0 && pff.every((p) => p.status === 403 &&
       !Object.keys(p.headers).some((h) => /^access-control-/i.test(h))),
       'foreign: its preflight gets 403 and no Access-Control-* header', JSON.stringify(pff));
    ok(t.errors.some((e) => /CORS/.test(e)), 'foreign: the browser reports the CORS refusal', t.errors.join(' | '));
  }
  finally {
    await browser.close();
  }
  out({ done: true });
}

main().catch((e) => { out({ ok: false, name: 'browser journeys ran to the end', diag: e.stack || String(e) }); process.exit(1); });
