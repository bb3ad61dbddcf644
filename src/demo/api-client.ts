/**
 * A minimal JSON client for the PilotLab HTTP API (the demo drives the API exactly as a user's
 * script would). Throws with the API's error body on any non-2xx answer.
 */
export class ApiClient {
  /** `apiKey` is sent as `x-api-key` on every request (the API needs one, see docs/api.md). */
  constructor(
    private readonly baseUrl: string,
    private readonly apiKey?: string,
  ) {}

  /** The same API with another key (one client per role). */
  withKey(apiKey: string): ApiClient {
    return new ApiClient(this.baseUrl, apiKey);
  }

  private auth(): Record<string, string> {
    return this.apiKey ? { 'x-api-key': this.apiKey } : {};
  }

  async request<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const init: RequestInit = { method, headers: { ...this.auth(), ...headers } };
    if (body instanceof FormData) init.body = body;
    else if (body !== undefined) {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)['content-type'] = 'application/json';
    }
    const res = await fetch(`${this.baseUrl}${path}`, init);
    const text = await res.text();
    const parsed = text ? JSON.parse(text) : null;
    if (!res.ok) {
      throw new Error(`${method} ${path} → ${res.status}: ${JSON.stringify(parsed)}`);
    }
    return parsed as T;
  }

  /** GET a text representation (e.g. `accept: text/html` for the report page); throws on a non-2xx answer. */
  async getText(path: string, accept: string, headers: Record<string, string> = {}): Promise<string> {
    const res = await fetch(`${this.baseUrl}${path}`, { headers: { ...this.auth(), ...headers, accept } });
    const text = await res.text();
    if (!res.ok) throw new Error(`GET ${path} → ${res.status}: ${text.slice(0, 500)}`);
    return text;
  }

  get<T = any>(path: string) {
    return this.request<T>('GET', path);
  }

  post<T = any>(path: string, body?: unknown, headers?: Record<string, string>) {
    return this.request<T>('POST', path, body, headers);
  }
}
