// Every handle, timer and pending I/O request of this process, ref'd or not, counted by type.
// `process.getActiveResourcesInfo()` and `process._getActiveHandles()` list only what keeps the
// loop alive, so an unref'd timer or socket that leaked would never show there; an async hook
// sees each one from its creation to its destruction. Imported first by the service, so that it
// sees everything the service creates (what existed before it, stdio and the IPC channel, is
// constant and never counted).
//
// Only resources destroyed deterministically are counted: handles when closed, timers when they
// fire or are cleared, requests when they complete. Promises, tick objects and AsyncResources
// (HTTP messages) are destroyed by the garbage collector, whenever it runs: not counted.
import { createHook } from 'node:async_hooks';

const COUNTED: ReadonlySet<string> = new Set([
  // timers
  'Timeout',
  'Immediate',
  // handles
  'TCPWRAP',
  'TCPSERVERWRAP',
  'PIPEWRAP',
  'PIPESERVERWRAP',
  'TTYWRAP',
  'UDPWRAP',
  'PROCESSWRAP',
  'SIGNALWRAP',
  'FSEVENTWRAP',
  'STATWATCHER',
  'TLSWRAP',
  // requests
  'TCPCONNECTWRAP',
  'PIPECONNECTWRAP',
  'SHUTDOWNWRAP',
  'WRITEWRAP',
  'GETADDRINFOREQWRAP',
  'GETNAMEINFOREQWRAP',
  'FSREQCALLBACK',
  'FSREQPROMISE',
]);

interface Live {
  type: string;
  resource: object;
}
const live = new Map<number, Live>();

createHook({
  init(asyncId, type, _trigger, resource) {
    if (COUNTED.has(type)) live.set(asyncId, { type, resource });
  },
  destroy(asyncId) {
    live.delete(asyncId);
  },
}).enable();

/** A TCP handle's remote port, when it has a peer (a listening socket has none). */
function peerPort(resource: object): number | undefined {
  const handle = resource as { getpeername?: (out: { port?: number }) => number };
  if (typeof handle.getpeername !== 'function') return undefined;
  const out: { port?: number } = {};
  return handle.getpeername(out) === 0 ? out.port : undefined;
}

/** What {@link liveResources} reports. */
export interface LiveResources {
  /** Live resources by async-hook type (`Timeout`, `TCPWRAP`, …), ref'd or unref'd. */
  byType: Record<string, number>;
  /** Connected TCP sockets by remote port (the upstream's, Redis's, a client's ephemeral one). */
  tcpByPeerPort: Record<string, number>;
  total: number;
}

export function liveResources(): LiveResources {
  const byType: Record<string, number> = {};
  const tcpByPeerPort: Record<string, number> = {};
  for (const { type, resource } of live.values()) {
    byType[type] = (byType[type] ?? 0) + 1;
    if (type === 'TCPWRAP') {
      const port = peerPort(resource);
      if (port !== undefined) tcpByPeerPort[port] = (tcpByPeerPort[port] ?? 0) + 1;
    }
  }
  return { byType, tcpByPeerPort, total: live.size };
}
