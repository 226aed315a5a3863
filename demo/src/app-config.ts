// Where telemetry goes: `npm start` serves /demo-config.json with its collector's URL and a write-only
// API key. The last answer is kept so the page, and its queued telemetry, know the collector offline.
export interface DemoConfig {
  /** OTLP/HTTP metrics URL, e.g. http://localhost:4318/v1/metrics; absent: telemetry off */
  readonly telemetryEndpoint?: string;
  readonly apiKey?: string;
  /** the collector's dashboard, linked from the telemetry panel */
  readonly dashboardUrl?: string;
}

const SAVED = 'kiln-demo-config';

function parse(v: unknown): DemoConfig {
  if (typeof v !== 'object' || v === null) return {};
  const r = v as Record<string, unknown>;
  const s = (k: string): string | undefined => (typeof r[k] === 'string' && r[k] !== '' ? (r[k] as string) : undefined);
  const endpoint = s('telemetryEndpoint');
  const apiKey = s('apiKey');
  const dashboardUrl = s('dashboardUrl');
  return { ...(endpoint ? { telemetryEndpoint: endpoint } : {}), ...(apiKey ? { apiKey } : {}), ...(dashboardUrl ? { dashboardUrl } : {}) };
}

export async function loadDemoConfig(url = './demo-config.json'): Promise<DemoConfig> {
  try {
    const response = await fetch(url, { cache: 'no-store' });
    if (!response.ok) throw new Error(String(response.status));
    const config = parse(await response.json());
    localStorage.setItem(SAVED, JSON.stringify(config));
    return config;
  } catch {
    try {
      return parse(JSON.parse(localStorage.getItem(SAVED) ?? 'null'));
    } catch {
      return {};
    }
  }
}
