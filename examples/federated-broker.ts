// An in-process MQTT broker (aedes) for the federated example and tests: TCP on a loopback port,
// optionally MQTT over WebSockets (ws) for browsers, with username/password authentication and the
// protocol's topic permissions (src/federated/acl.ts) enforced by authorizePublish/Subscribe.
// Deployments use a real broker instead (mosquitto: docs/FEDERATED.md §5).
import { createServer, type Server } from 'node:net';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { Aedes } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { accessRules } from '../src/federated/acl.js';

export interface BrokerOptions {
  /** username → password; when given, every connection must authenticate and the ACL applies. */
  users?: Record<string, string>;
  /** Topic prefix the ACL protects (required with users). */
  prefix?: string;
  coordinator?: string;
  /** Also serve MQTT over WebSockets on an ephemeral port. */
  websocket?: boolean;
  /** Called with every publish the ACL refuses. */
  onDenied?: (username: string | undefined, topic: string) => void;
}

export interface RunningBroker {
  url: string;
  wsUrl?: string;
  port: number;
  close(): Promise<void>;
}

export async function startBroker(options: BrokerOptions = {}): Promise<RunningBroker> {
  const rules = options.users ? accessRules(options.prefix ?? 'ivon-fl', options.coordinator) : undefined;
  const broker = await Aedes.createBroker({
    authenticate: (client, username, password, done) => {
      if (!options.users) return done(null, true);
      const ok = username !== undefined && options.users[username] !== undefined && password?.toString() === options.users[username];
      if (ok) (client as unknown as { user: string }).user = username!;
      if (ok) return done(null, true);
      const error = Object.assign(new Error('bad username or password'), { returnCode: 4 as const });
      return done(error, null);
    },
    authorizePublish: (client, packet, callback) => {
      if (!rules) return callback(null);
      const user = (client as unknown as { user?: string } | null)?.user;
      if (rules.canPublish(user, packet.topic)) return callback(null);
      options.onDenied?.(user, packet.topic);
      return callback(new Error(`${user} may not publish on ${packet.topic}`));
    },
    authorizeSubscribe: (client, subscription, callback) => {
      if (!rules) return callback(null, subscription);
      const user = (client as unknown as { user?: string }).user;
      return callback(rules.canSubscribe(user, subscription.topic) ? null : new Error(`${user} may not subscribe to ${subscription.topic}`), subscription);
    },
  });
  const server: Server = createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  let http: HttpServer | undefined;
  let wss: WebSocketServer | undefined;
  let wsUrl: string | undefined;
  if (options.websocket) {
    http = createHttpServer();
    wss = new WebSocketServer({ server: http });
    wss.on('connection', (socket, request) => broker.handle(createWebSocketStream(socket), request));
    await new Promise<void>((resolve) => http!.listen(0, '127.0.0.1', resolve));
    wsUrl = `ws://127.0.0.1:${(http.address() as { port: number }).port}`;
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    wsUrl,
    port,
    async close() {
      wss?.clients.forEach((c) => c.terminate());
      await new Promise<void>((resolve) => (wss ? wss.close(() => resolve()) : resolve()));
      await new Promise<void>((resolve) => (http ? http.close(() => resolve()) : resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Debian's mosquitto as a real broker process on a free loopback port, with a password file and the
 * protocol's acl_file (mosquittoAcl). Throws, saying what to install, when mosquitto is missing.
 */
export async function startMosquitto(options: { users: Record<string, string>; prefix: string; coordinator?: string; binary?: string }): Promise<RunningBroker> {
  const { mkdtempSync, writeFileSync, rmSync, existsSync } = await import('node:fs');
  const { tmpdir, userInfo } = await import('node:os');
  const { join } = await import('node:path');
  const { spawn, execFileSync } = await import('node:child_process');
  const { mosquittoAcl } = await import('../src/federated/acl.js');
  const binary = options.binary ?? '/usr/sbin/mosquitto';
  if (!existsSync(binary)) throw new Error(`mosquitto is not installed at ${binary}: apt-get install mosquitto (Debian/Ubuntu), or pass binary`);
  const dir = mkdtempSync(join(tmpdir(), 'ivon-mosquitto-'));
  const passwd = join(dir, 'passwd');
  writeFileSync(passwd, '', { mode: 0o600 });
  for (const [user, password] of Object.entries(options.users)) execFileSync('mosquitto_passwd', ['-b', passwd, user, password]);
  writeFileSync(join(dir, 'acl'), mosquittoAcl(options.prefix, options.coordinator), { mode: 0o600 });
  const port = await freePort();
  writeFileSync(
    join(dir, 'mosquitto.conf'),
    [`user ${userInfo().username}`, `listener ${port} 127.0.0.1`, 'allow_anonymous false', `password_file ${passwd}`, `acl_file ${join(dir, 'acl')}`, 'persistence false', 'log_dest stderr', 'log_type error', 'log_type warning', ''].join('\n'),
  );
  const child = spawn(binary, ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitForPort(port, 5000).catch((e) => {
    child.kill('SIGKILL');
    throw new Error(`mosquitto did not start: ${(e as Error).message}\n${stderr}`);
  });
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    async close() {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const { connect } = await import('node:net');
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
