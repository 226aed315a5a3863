// `kiln collect`: runs the telemetry collector until SIGINT/SIGTERM, then closes it cleanly
// (requests in flight finish, the database is closed, the outbox keeps what was not forwarded).
import { startCollector } from '../../../collector/index.ts';
import { DEFAULT_PORT, type CollectorOptions } from '../../../collector/options.ts';
import { CliUsageError, type Command } from '../command.ts';

const help = `usage: kiln collect [options]

Receives Kiln telemetry (OTLP/HTTP JSON metrics on /v1/metrics), stores it in SQLite, and serves a
dashboard (/), its JSON (/api/*) and Prometheus text (/metrics).

  --port N             port to listen on (default ${DEFAULT_PORT}; 0 = any free port)
  --host H             interface to bind (default 127.0.0.1)
  --db FILE            SQLite database (default kiln-telemetry.db; ':memory:' keeps nothing)
  --api-key KEY        bearer key allowed to post telemetry; repeat for several (write-only).
                       Also KILN_API_KEYS=key1,key2. Without any, anyone who can reach the port may post.
  --read-key KEY       bearer key required by the dashboard, /api/* and /metrics (also KILN_READ_KEY).
                       Without it the read side is open to whoever can reach the port.
  --retention-days N   delete data older than N days (default 30)
  --forward URL        re-post every accepted batch to an upstream OTLP/HTTP endpoint
                       (e.g. http://otel-collector:4318/v1/metrics), retried from a durable outbox
  --forward-key KEY    bearer key sent upstream
  --outbox-max BYTES   forwarding outbox cap, e.g. 256m (default); the oldest batches are dropped
  --outbox-max-age-hours N  batches not forwarded within N hours are dropped (default 72)
  --max-body BYTES     largest request body, e.g. 4194304, 512k, 4m (default 4m; 413 above)
  --rate-limit N/s     batches per second per API key (default 50/s; 0 = unlimited; 429 above)
  --cors-origin O      Access-Control-Allow-Origin (default *)
  --durability MODE    full (default: fsync before answering) or normal (faster; survives a
                       process crash, not a power cut)`;

function value(argv: readonly string[], i: number, flag: string): string {
  const v = argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new CliUsageError(`${flag} needs a value`);
  return v;
}

function integer(flag: string, v: string, min: number): number {
  if (!/^\d+$/.test(v) || Number(v) < min) throw new CliUsageError(`${flag} must be an integer >= ${min}, got '${v}'`);
  return Number(v);
}

function bytes(flag: string, v: string): number {
  const m = /^(\d+)([kKmMgG]?)[bB]?$/.exec(v);
  if (!m) throw new CliUsageError(`${flag} must be a byte count such as 4194304, 512k or 4m, got '${v}'`);
  const scale = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(m[1]) * scale;
}

export function parseCollectArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): CollectorOptions {
  const apiKeys = (env.KILN_API_KEYS ?? '').split(',').map((k) => k.trim()).filter(Boolean);
  // Built up flag by flag, hence mutable here; handed out as the readonly CollectorOptions.
  let o: { -readonly [K in keyof CollectorOptions]: CollectorOptions[K] } = { dbPath: 'kiln-telemetry.db', ...(env.KILN_READ_KEY ? { readKey: env.KILN_READ_KEY } : {}) };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const [name, inline] = flag.includes('=') ? [flag.slice(0, flag.indexOf('=')), flag.slice(flag.indexOf('=') + 1)] : [flag, undefined];
    const v = (): string => {
      if (inline !== undefined) return inline;
      return value(argv, i++, name);
    };
    switch (name) {
      case '--port':
        o.port = integer(name, v(), 0);
        if (o.port > 65535) throw new CliUsageError('--port must be <= 65535');
        break;
      case '--host':
        o.host = v();
        break;
      case '--db':
        o.dbPath = v();
        break;
      case '--api-key':
        apiKeys.push(v());
        break;
      case '--read-key':
        o.readKey = v();
        break;
      case '--retention-days': {
        const d = Number(v());
        if (!(d > 0)) throw new CliUsageError(`--retention-days must be a positive number`);
        o.retentionDays = d;
        break;
      }
      case '--forward':
        o.forwardUrl = v();
        break;
      case '--forward-key':
        o.forwardKey = v();
        break;
      case '--max-body':
        o.maxBodyBytes = bytes(name, v());
        break;
      case '--outbox-max':
        o.outboxMaxBytes = bytes(name, v());
        break;
      case '--outbox-max-age-hours': {
        const h = Number(v());
        if (!(h > 0)) throw new CliUsageError('--outbox-max-age-hours must be a positive number');
        o.outboxMaxAgeHours = h;
        break;
      }
      case '--rate-limit': {
        const r = v();
        const m = /^(\d+(?:\.\d+)?)(?:\/s)?$/.exec(r);
        if (!m) throw new CliUsageError(`--rate-limit must look like 50/s (or 0 for unlimited), got '${r}'`);
        o.rateLimitPerSecond = Number(m[1]);
        break;
      }
      case '--cors-origin':
        o.corsOrigin = v();
        break;
      case '--durability': {
        const d = v();
        if (d !== 'full' && d !== 'normal') throw new CliUsageError(`--durability must be full or normal, got '${d}'`);
        o.durability = d;
        break;
      }
      default:
        throw new CliUsageError(`unknown option '${flag}'`);
    }
  }
  if (apiKeys.length) o = { ...o, apiKeys };
  return o;
}

export const collectCommand: Command = {
  help,
  async run(argv) {
    const options = parseCollectArgs(argv);
    const collector = await startCollector(options);
    console.log(`kiln collect: listening on ${collector.url}`);
    console.log(`  OTLP endpoint  ${collector.url}/v1/metrics${options.apiKeys?.length ? ` (${options.apiKeys.length} API key${options.apiKeys.length > 1 ? 's' : ''})` : ' (open: no API key required)'}`);
    console.log(`  dashboard      ${collector.url}/${options.readKey ? '#key=<read key>' : ''}`);
    console.log(`  Prometheus     ${collector.url}/metrics`);
    console.log(`  database       ${options.dbPath}`);
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await collector.close();
    console.log('kiln collect: stopped');
    return 0;
  },
};
