/**
 * One error path for the whole app: code throws a `Problem`, and the app renders it once as
 * application/problem+json (RFC 9457). The `type` is stable: clients may switch on it.
 */
export interface FieldError {
  field: string;
  message: string;
  /** A stable name for what is wrong with the field, where clients need to tell cases apart (the message is English prose). */
  code?: string;
}

export interface ProblemInit {
  status: number;
  code: string;
  title: string;
  detail?: string;
  errors?: FieldError[];
  /** Extra members of the problem document (e.g. the current state). */
  extra?: Record<string, unknown>;
  headers?: Record<string, string>;
}

export class Problem extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string | undefined;
  readonly errors: FieldError[] | undefined;
  readonly extra: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(init: ProblemInit) {
    super(init.detail ?? init.title);
    this.name = 'Problem';
    this.status = init.status;
    this.code = init.code;
    this.title = init.title;
    this.detail = init.detail;
    this.errors = init.errors;
    this.extra = init.extra ?? {};
    this.headers = init.headers ?? {};
  }

  get type(): string {
    return problemType(this.code);
  }

  toJSON(instance?: string, requestId?: string): Record<string, unknown> {
    return {
      type: this.type,
      title: this.title,
      status: this.status,
      ...(this.detail ? { detail: this.detail } : {}),
      ...(this.errors ? { errors: this.errors } : {}),
      ...this.extra,
      ...(instance ? { instance } : {}),
      ...(requestId ? { requestId } : {}),
    };
  }
}

export const problemType = (code: string) => `/problems/${code}`;

export const problems = {
  validation: (errors: FieldError[], detail = 'The request has invalid or missing fields.', extra?: Record<string, unknown>) =>
    new Problem({ status: 400, code: 'validation', title: 'Invalid request', detail, errors, extra }),
  unreadableForm: () =>
    new Problem({ status: 400, code: 'malformed-form', title: 'Malformed form', detail: 'The request body cannot be read as a form.' }),
  malformedJson: () =>
    new Problem({ status: 400, code: 'malformed-json', title: 'Malformed JSON', detail: 'The request body is not valid JSON.' }),
  unauthenticated: (detail = 'A valid bearer token is required.') =>
    new Problem({
      status: 401,
      code: 'unauthenticated',
      title: 'Authentication required',
      detail,
      headers: { 'WWW-Authenticate': 'Bearer' },
    }),
  invalidToken: (detail: string) =>
    new Problem({
      status: 401,
      code: 'invalid-token',
      title: 'Invalid token',
      detail,
      headers: { 'WWW-Authenticate': 'Bearer error="invalid_token"' },
    }),
  missingClaims: (claims: string[]) =>
    new Problem({
      status: 403,
      code: 'missing-identity-claims',
      title: 'Verified identity incomplete',
      detail: `The identity token lacks the claims needed here: ${claims.join(', ')}.`,
      extra: { claims },
    }),
  loginFailed: (detail: string, extra: Record<string, unknown> = {}) => new Problem({ status: 401, code: 'login-failed', title: 'Login failed', detail, extra }),
  insufficientAssurance: (required: string, actual: string | undefined) =>
    new Problem({
      status: 403,
      code: 'insufficient-assurance',
      title: 'Identity assurance too low',
      detail: `This requires identity assurance ${required} or higher; the identity provider asserted ${actual ?? 'none'}.`,
      extra: { required, actual: actual ?? null },
    }),
  denied: (code: string, title: string, detail: string) => new Problem({ status: 403, code, title, detail }),
  forbidden: (detail: string) => new Problem({ status: 403, code: 'forbidden', title: 'Not allowed', detail }),
  notFound: (what: string, id: string) =>
    new Problem({ status: 404, code: 'not-found', title: `${what} not found`, detail: `No ${what.toLowerCase()} with id "${id}".` }),
  methodNotAllowed: (method: string, allowed: string[]) =>
    new Problem({
      status: 405,
      code: 'method-not-allowed',
      title: 'Method not allowed',
      detail: `${method} is not one of the methods this resource takes: ${allowed.join(', ')}.`,
      extra: { allowed },
      headers: { Allow: allowed.join(', ') },
    }),
  conflict: (code: string, title: string, detail: string, extra?: Record<string, unknown>) =>
    new Problem({ status: 409, code, title, detail, extra }),
  illegalTransition: (current: string, action: string) =>
    new Problem({
      status: 409,
      code: `invalid-state/${current}`,
      title: 'Not possible in the current state',
      detail: `The initiative is ${current}; "${action}" is not possible now.`,
      extra: { currentStatus: current, action },
    }),
  ineligible: (rule: string, detail: string) =>
    new Problem({ status: 403, code: `ineligible/${rule}`, title: 'Not eligible to sign', detail, extra: { rule } }),
  payloadTooLarge: (limit: number) =>
    new Problem({ status: 413, code: 'payload-too-large', title: 'Request body too large', detail: `The body exceeds ${limit} bytes.` }),
  unsupportedMediaType: (expected: string) =>
    new Problem({ status: 415, code: 'unsupported-media-type', title: 'Unsupported media type', detail: `Send ${expected}.` }),
  tooManyRequests: (retryAfterSeconds: number, detail: string) =>
    new Problem({
      status: 429,
      code: 'rate-limited',
      title: 'Too many requests',
      detail,
      headers: { 'Retry-After': String(retryAfterSeconds) },
    }),
  unavailable: (detail: string, retryAfterSeconds = 2) =>
    new Problem({
      status: 503,
      code: 'unavailable',
      title: 'Service temporarily unavailable',
      detail,
      headers: { 'Retry-After': String(retryAfterSeconds) },
    }),
  /** A pepper version that stored hashes use is not configured: an operator's matter, said without internals. */
  identityKeyMissing: () =>
    new Problem({
      status: 503,
      code: 'identity-key-missing',
      title: 'Identity key missing',
      detail: 'Signatures of this initiative cannot be checked now: a key they need is missing from the engine. Its operators have been told.',
    }),
  /** The collection is over and the pepper that recognised its signers was retired on purpose (docs/identity.md). */
  signerKeyRetired: () =>
    new Problem({
      status: 410,
      code: 'signer-key-retired',
      title: 'Signers no longer recognised',
      detail: "This initiative's collection is over and the key that recognised its signers has been retired: whether you signed can no longer be looked up. A signature's receipt still proves it.",
    }),
  internal: () =>
    new Problem({ status: 500, code: 'internal', title: 'Internal error', detail: 'An unexpected error occurred; it has been logged.' }),
};
