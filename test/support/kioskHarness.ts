// The kiosk in a real browser against a real lockerd on the simulator: starts the demo locker
// on a free port, opens headless Debian Chromium on the touchscreen page, and offers what a
// scenario needs (screens, the keypad, the simulated person and faults, screenshots).
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startLockerd, type RunningLockerd } from '../../src/composition/startLockerd.js';
import { packageRoot } from '../../src/packageRoot.js';
import { TERMINAL_KEY_FILE } from '../../src/kiosk/terminal.js';
import { makeDemoLocker, type ConfigOverrides, type DemoLocker } from './demoLocker.js';

export const chromiumPath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

export interface HarnessOptions {
  overrides?: ConfigOverrides;
  viewport?: { width: number; height: number };
  /**
   * false: lockerd runs as on a real locker (no /sim routes, the terminal pairs only with its
   * key), and the page is opened as the kiosk launcher opens it, with the key in the fragment.
   */
  sim?: boolean;
}

export interface CompartmentJson {
  id: string;
  size: string;
  accessible: boolean;
  column: number;
  row: number;
  state: string;
  door: string;
  fault?: string;
}

export interface DepositJson {
  id: string;
  waybill: string;
  size: string;
  state: string;
  compartment: CompartmentJson;
  pickupCode?: string;
}

export interface StoredParcel {
  waybill: string;
  compartment: string;
  code: string;
}

export class KioskHarness {
  /** Uncaught errors of the page; a scenario ends by checking there were none. */
  readonly pageErrors: string[] = [];
  private shots = 0;

  private constructor(
    readonly lockerd: RunningLockerd,
    readonly demo: DemoLocker,
    readonly browser: Browser,
    readonly page: Page,
    private readonly shotDir: string,
    private readonly dataDir: string,
  ) {
    page.on('pageerror', (e) => this.pageErrors.push(e.message));
    // The page must work under the kiosk's Content-Security-Policy: a violation is an error too.
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) this.pageErrors.push(m.text());
    });
  }

  static async start(testName: string, options: HarnessOptions = {}): Promise<KioskHarness> {
    const dataDir = await mkdtemp(join(tmpdir(), 'lockerd-kiosk-'));
    const shotDir = join(packageRoot(), 'test-results', 'screenshots', testName);
    await rm(shotDir, { recursive: true, force: true });
    await mkdir(shotDir, { recursive: true });
    const demo = await makeDemoLocker(dataDir, options.overrides);
    const sim = options.sim ?? true;
    const lockerd = await startLockerd({ config: demo.config, sim, port: 0 });
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });
      const page = await browser.newPage({ viewport: options.viewport ?? { width: 1280, height: 800 }, locale: 'en-GB' });
      const h = new KioskHarness(lockerd, demo, browser, page, shotDir, dataDir);
      const key = sim ? undefined : (await readFile(join(dataDir, TERMINAL_KEY_FILE), 'utf8')).trim();
      await page.goto(`${lockerd.url}/${key ? `#k=${key}` : ''}`);
      await h.waitForScreen('home');
      return h;
    } catch (e) {
      await browser?.close();
      await lockerd.stop();
      await rm(dataDir, { recursive: true, force: true });
      throw e;
    }
  }

  async close(): Promise<void> {
    await this.browser.close().catch(() => undefined);
    await this.lockerd.stop();
    await rm(this.dataDir, { recursive: true, force: true });
  }

  /** The simulator panel in a page of its own, connected to lockerd; its uncaught errors go to `errors`. */
  async openSimPanel(errors: string[]): Promise<Page> {
    const panel = await this.browser.newPage();
    panel.on('pageerror', (e) => errors.push(e.message));
    await panel.setViewportSize({ width: 1400, height: 1000 });
    await panel.goto(`${this.lockerd.url}/sim/`);
    await panel.waitForSelector('#link.ok');
    return panel;
  }

  // ---- the page ----

  /** Waits for the screen, and for lockerd to know it (scans are read for the screen shown). */
  async waitForScreen(name: string, timeout = 15_000): Promise<void> {
    await this.page.waitForSelector(`#screen > [data-screen="${name}"][data-synced]`, { timeout });
  }

  /** A fresh page, as after the kiosk browser restarted. */
  async reload(): Promise<void> {
    await this.page.reload();
    await this.waitForScreen('home');
  }

  async currentScreen(): Promise<string | undefined> {
    return this.page.evaluate<string | undefined>("document.querySelector('#screen > [data-screen]')?.dataset.screen");
  }

  async waitForLanguage(lang: string): Promise<void> {
    // A locator, not a string predicate: the kiosk's CSP forbids the eval that polling needs.
    await this.page.locator(`html[lang="${lang}"]`).waitFor({ state: 'attached' });
  }

  /** The value of one attribute on every element the selector matches, in page order. */
  async attributes(selector: string, name: string): Promise<(string | null)[]> {
    return Promise.all((await this.page.locator(selector).all()).map((l) => l.getAttribute(name)));
  }

  /** Saves test-results/screenshots/<test>/<nn>-<name>.png. */
  async screenshot(name: string): Promise<string> {
    this.shots += 1;
    const file = join(this.shotDir, `${String(this.shots).padStart(2, '0')}-${name}.png`);
    // Let the last frame of a screen change settle.
    await this.page.waitForTimeout(150);
    await this.page.screenshot({ path: file });
    return file;
  }

  async tap(selector: string): Promise<void> {
    await this.page.locator(selector).first().click();
  }

  /** Taps the button whose text is this catalogue entry in the page's current language. */
  async tapText(text: string): Promise<void> {
    await this.page.getByRole('button', { name: text, exact: true }).first().click();
  }

  async typeOnKeypad(digits: string): Promise<void> {
    for (const d of digits) await this.page.locator(`.keypad [data-key="${d}"]`).click();
  }

  async typeOnKeyboard(text: string): Promise<void> {
    const shift = this.page.locator('.keyboard [data-key="Shift"]');
    for (const ch of text) {
      if (/[a-zA-Z]/.test(ch)) {
        const caps = (await shift.getAttribute('aria-pressed')) === 'true';
        if (caps !== (ch !== ch.toLowerCase())) await shift.click();
      }
      await this.page.locator(`.keyboard [data-key="${ch.toLowerCase()}"]`).click();
    }
  }

  /** Text a person can see in the main area and the header. */
  async visibleText(): Promise<string> {
    return this.page.evaluate<string>(visibleTextScript);
  }

  /** Visible buttons smaller than a 64 px square, as "label WxH". */
  async smallTouchTargets(): Promise<string[]> {
    return this.page.evaluate<string[]>(smallTargetsScript);
  }

  async text(selector: string): Promise<string> {
    return (await this.page.locator(selector).first().textContent()) ?? '';
  }

  // ---- lockerd's API and the simulated world ----

  async api<T>(method: 'GET' | 'POST', path: string, body?: unknown, token?: string): Promise<T> {
    const res = await fetch(`${this.lockerd.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(method === 'POST' ? { body: JSON.stringify(body ?? {}) } : {}),
    });
    const data = (await res.json()) as T & { error?: { code: string; message: string } };
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${data.error?.code ?? ''} ${data.error?.message ?? ''}`);
    return data;
  }

  /** One /sim/* action: close, put, take, jam, unjam, force-open, bounce; scanner scan, ... */
  async sim(path: string, body?: unknown): Promise<void> {
    await this.api('POST', `/sim/${path}`, body);
  }

  async scan(text: string): Promise<void> {
    await this.sim('scanner/scan', { text });
  }

  async simLock(compartment: string): Promise<{ doorOpen: boolean; latched: boolean; itemPresent: boolean; jammed: boolean }> {
    const s = await this.api<{ locks: { compartment: string | null; doorOpen: boolean; latched: boolean; itemPresent: boolean; jammed: boolean }[] }>('GET', '/sim/state');
    const lock = s.locks.find((l) => l.compartment === compartment);
    if (!lock) throw new Error(`no simulated lock for ${compartment}`);
    return lock;
  }

  async waitForDoor(compartment: string, open: boolean, timeout = 10_000): Promise<void> {
    await until(async () => (await this.simLock(compartment)).doorOpen === open, timeout, `door ${compartment} ${open ? 'open' : 'closed'}`);
  }

  async compartments(): Promise<CompartmentJson[]> {
    const { token } = await this.api<{ token: string }>('POST', '/api/operator/login', { badge: await this.demo.mintOperatorBadge() });
    try {
      return (await this.api<{ compartments: CompartmentJson[] }>('GET', '/api/operator/compartments', undefined, token)).compartments;
    } finally {
      await this.api('POST', '/api/operator/logout', {}, token);
    }
  }

  async courierToken(carrier = 'swiftpost', courierId = 'c-100'): Promise<string> {
    const r = await this.api<{ token: string }>('POST', '/api/courier/login', { badge: await this.demo.mintCourierBadge(carrier, courierId) });
    return r.token;
  }

  async deposit(token: string, id: string): Promise<DepositJson> {
    return (await this.api<{ deposit: DepositJson }>('GET', `/api/courier/deposits/${id}`, undefined, token)).deposit;
  }

  async waitForDeposit(token: string, id: string, state: string, timeout = 10_000): Promise<DepositJson> {
    let last: DepositJson | undefined;
    await until(
      async () => {
        last = await this.deposit(token, id);
        return last.state === state;
      },
      timeout,
      `deposit ${id} ${state}`,
    );
    if (!last) throw new Error('unreachable');
    return last;
  }

  /**
   * A courier stores a parcel through the API (not the screen) and the simulated person puts it
   * in and closes the door: the demo reveals its pickup code, as the carrier's message would.
   */
  async storeParcel(waybill: string, size = 'S', carrier = 'swiftpost'): Promise<StoredParcel> {
    const token = await this.courierToken(carrier);
    const { deposit } = await this.api<{ deposit: DepositJson }>('POST', '/api/courier/deposits', { waybill, size }, token);
    const compartment = deposit.compartment.id;
    await this.waitForDoor(compartment, true);
    await this.sim(`compartments/${compartment}/put`);
    await this.sim(`compartments/${compartment}/close`);
    // 'stored' can show a moment before the parcel and its code are recorded: wait for the code.
    let code: string | undefined;
    await until(
      async () => {
        const d = await this.deposit(token, deposit.id);
        code = d.state === 'stored' ? d.pickupCode : undefined;
        return code !== undefined;
      },
      10_000,
      `the revealed pickup code of ${waybill}`,
    );
    await this.api('POST', '/api/courier/logout', {}, token);
    return { waybill, compartment, code: code ?? '' };
  }
}

// Runs in the page: every rendered text node and aria-label, skipping what is hidden.
const visibleTextScript = `(() => {
  const parts = [];
  const walk = (el) => {
    const style = getComputedStyle(el);
    if (style.display === 'none' || style.visibility === 'hidden' || el.hidden) return;
    for (const n of el.childNodes) {
      if (n.nodeType === Node.TEXT_NODE && n.textContent.trim()) parts.push(n.textContent.trim());
      else if (n.nodeType === Node.ELEMENT_NODE) walk(n);
    }
    const label = el.getAttribute('aria-label');
    if (label) parts.push(label);
  };
  walk(document.body);
  return parts.join('\\n');
})()`;

const smallTargetsScript = `[...document.querySelectorAll('button')]
  .map((b) => [b, b.getBoundingClientRect()])
  .filter(([b, r]) => r.width > 0 && r.height > 0 && getComputedStyle(b).visibility !== 'hidden')
  .filter(([, r]) => r.width < 63.5 || r.height < 63.5)
  .map(([b, r]) => (b.textContent || b.getAttribute('aria-label') || '?').trim() + ' ' + Math.round(r.width) + 'x' + Math.round(r.height))`;

export async function until(check: () => Promise<boolean>, timeout: number, what: string): Promise<void> {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
