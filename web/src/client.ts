// GraphQL over HTTP (POST, application/json) and graphql-transport-ws for the live
// subscription, both with `Authorization: Bearer <token>`.
import { createClient, type Client } from 'graphql-ws';

export interface GraphQLErrorShape {
  message: string;
  path?: ReadonlyArray<string | number>;
  extensions?: { code?: string };
}

export interface Result<T> {
  data: T | null;
  errors: GraphQLErrorShape[];
}

export class RequestFailed extends Error {}

export class GatewayClient {
  private ws: Client | null = null;

  constructor(
    readonly endpoint: string,
    private readonly token: string,
  ) {}

  async request<T, V extends object>(
    query: string,
    variables: V,
    operationName?: string,
  ): Promise<Result<T>> {
    let response: Response;
    try {
      response = await fetch(this.endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
          authorization: `Bearer ${this.token}`,
        },
        body: JSON.stringify({ query, variables, operationName }),
      });
    } catch {
      throw new RequestFailed('The gateway could not be reached.');
    }
    let body: { data?: T | null; errors?: GraphQLErrorShape[] };
    try {
      body = await response.json();
    } catch {
      throw new RequestFailed(`The gateway answered HTTP ${response.status}.`);
    }
    const errors = body.errors ?? [];
    if (body.data == null && errors.length === 0) {
      throw new RequestFailed(`The gateway answered HTTP ${response.status}.`);
    }
    return { data: body.data ?? null, errors };
  }

  /** Calls `next` for every event; returns the unsubscribe function. */
  subscribe<T, V extends Record<string, unknown>>(
    query: string,
    variables: V,
    next: (result: Result<T>) => void,
    status: (state: 'connecting' | 'live' | 'closed' | 'error', message?: string) => void,
  ): () => void {
    if (this.ws === null) {
      const url = new URL(this.endpoint, location.href);
      url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
      this.ws = createClient({
        url: url.href,
        connectionParams: { Authorization: `Bearer ${this.token}` },
        retryAttempts: Infinity,
        shouldRetry: () => true,
        on: {
          connecting: () => status('connecting'),
          connected: () => status('live'),
          closed: () => status('closed'),
        },
      });
    }
    return this.ws.subscribe<T>(
      { query, variables },
      {
        next: (value) =>
          next({ data: (value.data as T) ?? null, errors: [...((value.errors as GraphQLErrorShape[]) ?? [])] }),
        error: (error) => status('error', error instanceof Error ? error.message : 'The live connection failed.'),
        complete: () => status('closed'),
      },
    );
  }

  close(): void {
    void this.ws?.dispose();
    this.ws = null;
  }
}
