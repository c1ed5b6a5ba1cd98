import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { TestResponse } from './engine';

type Media = { schema?: unknown };
type Operation = { responses: Record<string, { content?: Record<string, Media> }> };
export type OpenApiDocument = {
  paths: Record<string, Record<string, Operation>>;
  components?: Record<string, unknown>;
  /** What subscribers receive: each event type's POST and its body. */
  webhooks?: Record<string, { post?: { requestBody?: { content?: Record<string, Media> } } }>;
};

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

/**
 * Holds answers of the engine to the OpenAPI document it serves: the status is one the operation
 * declares, the media type one declared for that status, and the body valid against its schema
 * (JSON Schema 2020-12, as OpenAPI 3.1 says). A problem is application/problem+json with the
 * members SPEC §7 promises. What a generated client would be told, the engine must do.
 */
export function contractChecker(document: OpenApiDocument) {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats.default(ajv);
  // The schemas refer to #/components/…: one resource holding them all resolves those references.
  // Objects listing their members are held closed: a member the document does not name is one no client knows of.
  ajv.addSchema({ $id: CLOSED, components: closed(document.components ?? {}) });
  const schemas = (document.components?.schemas ?? {}) as Record<string, unknown>;
  ajv.addSchema({ $id: OPEN, components: { schemas: Object.fromEntries(Object.entries(schemas).map(([name, s]) => [name, closed(s, true)])) } });
  const compiled = new Map<string, ValidateFunction>();
  const validator = (key: string, schema: unknown) => {
    if (!compiled.has(key)) compiled.set(key, ajv.compile(closed(schema ?? {})));
    return compiled.get(key)!;
  };

  // Literal segments win over parameters (…/signatures/me before …/signatures/{signatureId}).
  const templates = Object.keys(document.paths)
    .map((template) => ({ template, pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`), params: (template.match(/\{/g) ?? []).length }))
    .sort((a, b) => a.params - b.params);

  const operationOf = (method: string, path: string) => {
    const verb = method.toLowerCase() === 'head' ? 'get' : method.toLowerCase();
    for (const { template, pattern } of templates) {
      const op = pattern.test(path) ? document.paths[template]?.[verb] : undefined;
      if (op) return { name: `${verb.toUpperCase()} ${template}`, op };
    }
    return undefined;
  };

  const exercised = new Set<string>();
  const faults: string[] = [];

  /** The faults of one answer (also kept for `faults`), named by the request. */
  function check(method: string, url: string, res: Pick<TestResponse, 'status' | 'body' | 'contentType'>): string[] {
    const path = new URL(url, 'http://engine.test').pathname;
    const found: string[] = [];
    const fault = (what: string) => found.push(`${method} ${url} → ${res.status}: ${what}`);
    const media = (res.contentType ?? '').split(';')[0]!.trim().toLowerCase();
    const hasBody = !(res.body === '' || res.body === undefined || res.body === null);

    if (res.status >= 400) checkProblem(res, media, method === 'HEAD', fault);
    const located = operationOf(method, path);
    if (!located) {
      // Only refusals may come from paths or methods the document does not have (404, 405).
      if (res.status < 400) fault('answered, but the document has no such operation');
      faults.push(...found);
      return found;
    }
    const { name, op } = located;
    exercised.add(`${name} ${res.status}`);
    const declared = op.responses[String(res.status)] ?? op.responses[`${String(res.status)[0]}XX`] ?? op.responses.default;
    if (!declared) {
      fault(`${name} does not declare ${res.status} (declares ${Object.keys(op.responses).join(', ')})`);
      faults.push(...found);
      return found;
    }
    const content = declared.content ?? {};
    if (method === 'HEAD') {
      if (hasBody) fault('HEAD answered with a body');
    } else if (Object.keys(content).length === 0) {
      if (hasBody) fault(`${name} ${res.status} declares no body, got ${media || 'one'}`);
    } else if (!content[media]) {
      fault(`${name} ${res.status} declares ${Object.keys(content).join(', ')}, got ${media || 'no content type'}`);
    } else if (media.endsWith('json')) {
      const validate = validator(`${name} ${res.status} ${media}`, content[media].schema);
      if (!validate(res.body)) {
        for (const e of validate.errors ?? []) fault(`body${e.instancePath} ${e.message} ${JSON.stringify(e.params)} (${name} ${res.status})`);
      }
    }
    faults.push(...found);
    return found;
  }

  /** Operations of the document and the statuses each was seen to answer. */
  function coverage() {
    const operations = Object.entries(document.paths).flatMap(([template, item]) =>
      METHODS.filter((m) => item[m]).map((m) => ({ name: `${m.toUpperCase()} ${template}`, declared: Object.keys(item[m]!.responses) })),
    );
    const seen = (name: string) => [...exercised].filter((e) => e.startsWith(`${name} `)).map((e) => e.slice(name.length + 1));
    return operations.map((o) => ({ ...o, seen: seen(o.name) }));
  }

  /** The faults of one webhook delivery's body against the document's description of its event type. */
  function checkWebhook(body: string): string[] {
    const event = JSON.parse(body) as { type?: unknown };
    const type = String(event.type);
    const schema = document.webhooks?.[type]?.post?.requestBody?.content?.['application/json']?.schema;
    if (!schema) return [`webhook ${type}: the document does not describe it`];
    const validate = validator(`webhook ${type}`, schema);
    return validate(event) ? [] : (validate.errors ?? []).map((e) => `webhook ${type}: body${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
  }

  return { check, checkWebhook, faults, coverage };
}

const CLOSED = 'https://engine.test/openapi.json';
const OPEN = 'https://engine.test/openapi-open.json';

/**
 * The schema with every object that lists its properties, and says nothing of others, closed to
 * others. The members of an allOf stay open (each names only its part); the allOf is closed instead.
 */
function closed<T>(schema: T, open = false): T {
  if (Array.isArray(schema)) return schema.map((s) => closed(s)) as T;
  if (schema === null || typeof schema !== 'object') return schema;
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'example' || key === 'examples') copy[key] = value;
    else if (key === '$ref' && typeof value === 'string') copy[key] = value.replace(/^#/, open ? OPEN + '#' : CLOSED + '#');
    else if (key === 'allOf' && Array.isArray(value)) copy[key] = value.map((s) => closed(s, true));
    else if (key === 'properties' && value && typeof value === 'object') copy[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, closed(v)]));
    else copy[key] = closed(value);
  }
  if (copy.allOf && copy.unevaluatedProperties === undefined) copy.unevaluatedProperties = false;
  if (!open && copy.properties && copy.additionalProperties === undefined) copy.additionalProperties = false;
  return copy as T;
}

/** RFC 9457 as SPEC §7 has it: type, title, status, detail, and `errors` naming each field for validation. */
function checkProblem(res: Pick<TestResponse, 'status' | 'body'>, media: string, head: boolean, fault: (what: string) => void) {
  if (media !== 'application/problem+json') return fault(`a refusal as ${media || 'no content type'}, not application/problem+json`);
  if (head) return;
  const p = res.body as Record<string, unknown>;
  if (typeof p?.type !== 'string' || !p.type.startsWith('/problems/')) fault(`problem type ${JSON.stringify(p?.type)}`);
  if (typeof p?.title !== 'string' || p.title === '') fault('problem without a title');
  if (p?.status !== res.status) fault(`problem status ${JSON.stringify(p?.status)}`);
  if (typeof p?.detail !== 'string' || p.detail === '') fault(`problem ${String(p?.type)} without a detail`);
  if (p?.type === '/problems/validation') {
    const errors = p.errors as { field?: unknown; message?: unknown }[] | undefined;
    if (!Array.isArray(errors) || errors.length === 0) fault('validation problem without errors');
    else if (errors.some((e) => typeof e.field !== 'string' || typeof e.message !== 'string')) fault(`validation errors malformed: ${JSON.stringify(errors)}`);
  }
}
