// Starting and stopping the HTTP server.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, type DuetApi } from './app.js';
import type { AppOptions } from './options.js';

export interface RunningServer {
  api: DuetApi;
  server: Server;
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  close(): Promise<void>;
}

/** Listens on host:port (port 0 = ephemeral) and resolves once listening; the model keeps loading (see /readyz). */
export async function startServer(opts: AppOptions & { port?: number; host?: string }): Promise<RunningServer> {
  const api = createApp(opts);
  const host = opts.host ?? '127.0.0.1';
  const server = await new Promise<Server>((resolve, reject) => {
    const s = api.app.listen(opts.port ?? 0, host, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    api, server, url,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await api.close();
    },
  };
}
