// The app's side of the message contract: one request counter, pending requests by id, every host message validated
// on arrival. Three hosts: the VS Code panel (postMessage), `sclab view` (POST /api/message) and the static report
// (answers embedded in the page).
import {
  parseHostMessage,
  requestKey,
  type Method,
  type ParamsInput,
  type ResultOf,
  type ViewerCommand,
  type ViewerNotification,
  type ViewerResponse,
} from '../src/core/viewer/protocol';

export type HostKind = 'vscode' | 'http' | 'static';

export interface Bridge {
  kind: HostKind;
  request<M extends Method>(method: M, params: ParamsInput[M]): Promise<ResultOf[M]>;
  command(cmd: Omit<ViewerCommand, 'kind'>): void;
  onNotification(fn: (n: ViewerNotification) => void): void;
  /** state kept across reloads of the page (vscode.setState, else sessionStorage) */
  getState(): unknown;
  setState(state: unknown): void;
}

export class RequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface VsCodeApi {
  postMessage(msg: unknown): void;
  getState(): unknown;
  setState(s: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const TIMEOUT_MS = 180_000;

function readJsonScript(id: string): unknown {
  const el = document.getElementById(id);
  if (!el?.textContent) return undefined;
  try {
    return JSON.parse(el.textContent);
  } catch {
    return undefined;
  }
}

function sessionState(key: string): Pick<Bridge, 'getState' | 'setState'> {
  return {
    getState() {
      try {
        const s = sessionStorage.getItem(key);
        return s ? JSON.parse(s) : undefined;
      } catch {
        return undefined;
      }
    },
    setState(state) {
      try {
        sessionStorage.setItem(key, JSON.stringify(state));
      } catch {
        // storage can be disabled (file:// in some browsers): state then lasts until reload
      }
    },
  };
}

/** Matches responses to requests by id; unknown ids and invalid messages are dropped with a console warning. */
class Pending {
  private next = 1;
  private waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> }>();
  listeners: Array<(n: ViewerNotification) => void> = [];

  /**
   * Sends one request and waits for its response. The result's type is the method's: the host answers each request
   * with its method's handler (typed `ViewerHandlers` in the core) and every response is validated on arrival.
   */
  open<M extends Method>(_method: M, send: (id: number) => void): Promise<ResultOf[M]> {
    const id = this.next++;
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new RequestError('timeout', `the host did not answer request ${id} within ${TIMEOUT_MS / 1000} s`));
      }, TIMEOUT_MS);
      this.waiting.set(id, { resolve, reject, timer });
      send(id);
      // the one cast of the bridge: see above (the wire carries JSON, the host's handler table fixed its type)
    }) as Promise<ResultOf[M]>;
  }

  receive(raw: unknown): void {
    let msg;
    try {
      msg = parseHostMessage(raw);
    } catch (err) {
      console.warn(`viewer: dropped an invalid host message: ${(err as Error).message}`);
      return;
    }
    if (msg.kind === 'notification') {
      for (const l of this.listeners) l(msg);
      return;
    }
    this.settle(msg);
  }

  settle(msg: ViewerResponse): void {
    const w = this.waiting.get(msg.id);
    if (!w) {
      if (!msg.ok) console.warn(`viewer: host error for request ${msg.id}: ${msg.error.message}`);
      return;
    }
    this.waiting.delete(msg.id);
    clearTimeout(w.timer);
    if (msg.ok) w.resolve(msg.result);
    else w.reject(new RequestError(msg.error.code, msg.error.message));
  }
}

function vscodeBridge(api: VsCodeApi): Bridge {
  const p = new Pending();
  window.addEventListener('message', (ev: MessageEvent) => p.receive(ev.data));
  return {
    kind: 'vscode',
    request: (method, params) => p.open(method, (id) => api.postMessage({ kind: 'request', id, method, params })),
    command: (cmd) => api.postMessage({ kind: 'command', ...cmd }),
    onNotification: (fn) => p.listeners.push(fn),
    getState: () => api.getState(),
    setState: (s) => api.setState(s),
  };
}

function httpBridge(): Bridge {
  const p = new Pending();
  return {
    kind: 'http',
    request: (method, params) =>
      p.open(method, (id) => {
        fetch('api/message', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'request', id, method, params }) })
          .then((r) => r.json())
          .then((json: unknown) => p.receive(json))
          .catch((err: unknown) => p.settle({ kind: 'response', id, ok: false, error: { code: 'network', message: `the viewer server did not answer: ${String(err)}` } }));
      }),
    command: (cmd) => {
      void fetch('api/message', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'command', ...cmd }) }).catch(() => undefined);
    },
    onNotification: (fn) => p.listeners.push(fn),
    ...sessionState('sclab-viewer:' + location.pathname),
  };
}

function staticBridge(answers: Record<string, unknown>): Bridge {
  const p = new Pending();
  return {
    kind: 'static',
    request: (method, params) =>
      p.open(method, (id) => {
        const key = requestKey(method, params);
        const msg = Object.prototype.hasOwnProperty.call(answers, key)
          ? { kind: 'response', id, ok: true, result: answers[key] }
          : {
              kind: 'response',
              id,
              ok: false,
              error: { code: 'unsupported', message: 'this static report holds the first page of each view only; open the run with `sclab view RUN_DIR` (or in VS Code) to see the rest.' },
            };
        // asynchronous like the other hosts, and validated like any host message
        queueMicrotask(() => p.receive(msg));
      }),
    command: () => undefined,
    onNotification: (fn) => p.listeners.push(fn),
    ...sessionState('sclab-viewer-static:' + location.pathname),
  };
}

export function connect(): Bridge {
  const answers = readJsonScript('sclab-static-answers');
  if (answers && typeof answers === 'object') return staticBridge(answers as Record<string, unknown>);
  if (typeof acquireVsCodeApi === 'function') return vscodeBridge(acquireVsCodeApi());
  return httpBridge();
}
