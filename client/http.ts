import { SandboxerError } from "./errors.ts";

/**
 * Opt-in retries of calls the service refused without acting: 429 `rate_limited` always
 * (nothing ran), 503 `runtime_unavailable` and network failures only for idempotent calls
 * (GET, PUT, DELETE, PATCH with If-Match, create with an idempotency key), so code is never
 * run twice behind your back. Waits `Retry-After` when given, else exponential backoff.
 */
export interface RetryPolicy {
  /** Attempts after the first (default 3). */
  retries?: number;
  /** First backoff delay (default 250 ms), doubled each attempt. */
  baseDelayMs?: number;
  /** Longest single wait (default 10 s). */
  maxDelayMs?: number;
}

/** How the client reaches the service. */
export interface ClientOptions {
  /** The service's origin, e.g. `http://localhost:8787` or `https://sand-boxer.example.com`. */
  baseUrl: string;
  /** An API key (`Authorization: Bearer …`). */
  apiKey: string;
  /** `true` for the default policy, or your own; off unless given. */
  retry?: boolean | RetryPolicy;
  /** A fetch to use instead of the global one (tests, proxies, a Worker's service binding). */
  fetch?: typeof fetch;
}

export interface RequestOptions {
  body?: BodyInit;
  json?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Safe to repeat (see RetryPolicy). GET, HEAD, PUT and DELETE are, whatever this says. */
  idempotent?: boolean;
}

const IDEMPOTENT_METHODS = new Set(["GET", "HEAD", "PUT", "DELETE"]);

/** One HTTP conversation with the service: auth, JSON, problem+json errors, retries. */
export class Transport {
  readonly #baseUrl: string;
  readonly #apiKey: string;
  readonly #fetch: typeof fetch;
  readonly #retry: Required<RetryPolicy> | null;

  constructor(options: ClientOptions) {
    if (!options?.baseUrl) throw new TypeError("Sandboxer needs a baseUrl, e.g. http://localhost:8787.");
    if (!options.apiKey) throw new TypeError("Sandboxer needs an apiKey.");
    this.#baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.#apiKey = options.apiKey;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    const policy = options.retry === true ? {} : options.retry || null;
    this.#retry = policy && { retries: policy.retries ?? 3, baseDelayMs: policy.baseDelayMs ?? 250, maxDelayMs: policy.maxDelayMs ?? 10_000 };
  }

  /** The response of a successful call (2xx); anything else is thrown as a SandboxerError. */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.#apiKey}`, ...options.headers };
    let body = options.body;
    if (options.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(options.json);
    }
    const idempotent = options.idempotent || IDEMPOTENT_METHODS.has(method);
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await this.#fetch(`${this.#baseUrl}${path}`, { method, headers, body, signal: options.signal });
      } catch (cause) {
        if (options.signal?.aborted) throw cause;
        const error = new SandboxerError("network_error", 0, `Could not reach ${this.#baseUrl}: ${(cause as Error)?.message ?? cause}`, { cause });
        if (!(await this.#mayRetry(error, attempt, idempotent, options.signal))) throw error;
        continue;
      }
      if (response.ok) return response;
      const error = await SandboxerError.fromResponse(response);
      if (!(await this.#mayRetry(error, attempt, idempotent, options.signal))) throw error;
    }
  }

  /** A JSON answer. */
  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    return (await (await this.request(method, path, options)).json()) as T;
  }

  async #mayRetry(error: SandboxerError, attempt: number, idempotent: boolean, signal?: AbortSignal): Promise<boolean> {
    if (!this.#retry || attempt >= this.#retry.retries) return false;
    const retryable = error.code === "rate_limited" || (idempotent && (error.code === "runtime_unavailable" || error.code === "network_error"));
    if (!retryable) return false;
    const backoff = this.#retry.baseDelayMs * 2 ** attempt;
    const delay = Math.min(this.#retry.maxDelayMs, error.retryAfter !== undefined ? error.retryAfter * 1000 : backoff);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, delay);
      signal?.addEventListener("abort", () => (clearTimeout(timer), reject(signal.reason)), { once: true });
    });
    return true;
  }
}
