// The kiosk's only link to lockerd: JSON calls to /api and the live event stream.

export class ApiError extends Error {
  constructor(status, code, message, context, body) {
    super(message || code);
    this.body = body;
    this.status = status;
    this.code = code;
    this.context = context || {};
  }
}

export async function call(method, path, body, token) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
  } catch {
    throw new ApiError(0, 'OFFLINE', 'lockerd is not reachable');
  }
  let data = {};
  try {
    data = await res.json();
  } catch {
    data = {};
  }
  if (!res.ok) {
    const e = data && data.error ? data.error : {};
    const context = { ...(e.context || {}) };
    if (context.retryAfterMs === undefined && res.headers.get('retry-after')) {
      context.retryAfterMs = Number(res.headers.get('retry-after')) * 1000;
    }
    throw new ApiError(res.status, e.code || `HTTP_${res.status}`, e.message, context, data);
  }
  return data;
}

export const get = (path, token) => call('GET', path, undefined, token);
export const post = (path, body, token) => call('POST', path, body ?? {}, token);

/**
 * Opens the event stream; EventSource reconnects by itself after lockerd restarts. The first
 * message says whether the server took this as the paired terminal's own stream.
 */
export function listen(url, onEvent, onConnection) {
  const source = new EventSource(url);
  source.onopen = () => onConnection(true);
  source.onerror = () => onConnection(false);
  source.onmessage = (m) => {
    let ev;
    try {
      ev = JSON.parse(m.data);
    } catch {
      return;
    }
    if (ev && typeof ev.type === 'string') onEvent(ev);
  };
  return () => source.close();
}

const keyItem = 'lockerd.terminalKey';

/**
 * The terminal key the kiosk launcher put in the URL fragment (#k=...): kept for this tab only
 * (so a reload or a lockerd restart can pair again) and taken off the address at once.
 */
export function terminalKey() {
  const m = /(?:^#|&)k=([\w-]{20,256})/.exec(location.hash);
  if (m) {
    sessionStorage.setItem(keyItem, m[1]);
    history.replaceState(null, '', location.pathname + location.search);
  }
  return sessionStorage.getItem(keyItem);
}

/** Pairs this page as the kiosk terminal (sets an HttpOnly cookie); false if refused. */
export async function pair(key) {
  try {
    await post('/api/kiosk/pair', key ? { key } : {});
    return true;
  } catch {
    return false;
  }
}
