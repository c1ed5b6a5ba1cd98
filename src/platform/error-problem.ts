import { HTTPException } from 'hono/http-exception';
import { UnknownKeyVersionError } from '../core/identity';
import { IllegalTransitionError } from '../core/lifecycle';
import { JSON_BODY_LIMIT } from './http';
import { Problem, problems } from './problems';

/** Any error thrown while answering, as the problem the client is given (API and web pages alike). */
export function toProblem(error: unknown): Problem {
  if (error instanceof Problem) return error;
  if (error instanceof IllegalTransitionError) return problems.illegalTransition(error.current, error.action);
  if (error instanceof UnknownKeyVersionError) return problems.identityKeyMissing();
  if (error instanceof HTTPException) {
    if (error.status === 413) return problems.payloadTooLarge(JSON_BODY_LIMIT);
    if (error.status === 400) return /json/i.test(error.message) ? problems.malformedJson() : problems.validation([], error.message);
    if (error.status === 401) return problems.unauthenticated();
    if (error.status === 415) return problems.unsupportedMediaType('application/json');
    return new Problem({ status: error.status, code: `http-${error.status}`, title: error.message || 'Request refused' });
  }
  if (isDatabaseUnavailable(error)) return problems.unavailable('The database is unavailable; retry shortly.');
  // Two changes of the same rows at the same instant, one of them stopped by PostgreSQL (a deadlock,
  // a serialization failure): its transaction was rolled back whole, so sending it again is safe.
  if (isContention(error)) return problems.unavailable('Another change of the same records was being made at the same instant; nothing was saved. Send the request again.', 1);
  // A value the database cannot take as given (a NUL in text, a number out of range): the request's fault.
  if (isInvalidValue(error)) return problems.validation([], 'A value of the request cannot be stored or compared as given.');
  // A body that claims to be a form but is not one (the runtime's FormData parser refuses it).
  if (error instanceof TypeError && /parse body as FormData/i.test(error.message)) return problems.unreadableForm();
  return problems.internal();
}

/** Whether the error is worth an operator's attention: server faults, a missing key, and contention (how often it happens). */
export function logLevelOf(error: unknown, problem: Problem): 'error' | 'warn' | undefined {
  if (problem.status === 500 || error instanceof UnknownKeyVersionError) return 'error';
  if (isContention(error)) return 'warn';
  return undefined;
}

/** What is logged of an unexpected error: its kind and the driver's message, never query parameters. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return typeof error;
  const cause = error.cause instanceof Error ? error.cause : undefined;
  return cause ? `${error.name}: ${cause.name}: ${cause.message}` : `${error.name}: ${error.message.split('\nparams:')[0]}`;
}

/** The SQLSTATE of a driver's error, or of the error it wraps (drizzle wraps the driver's). */
function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown })?.code ?? (error as { cause?: { code?: unknown } })?.cause?.code;
  return typeof code === 'string' ? code : undefined;
}

/** PostgreSQL data exceptions caused by input values: invalid byte sequence, text representation, out of range (a year past 9999 reads as a time zone displacement). */
function isInvalidValue(error: unknown): boolean {
  return ['22021', '22P02', '22P05', '22003', '22007', '22008', '22009', '22001', '2200N', '22025'].includes(sqlState(error) ?? '');
}

function isDatabaseUnavailable(error: unknown): boolean {
  // 53300: more connections than the server (or the role) allows, a matter of load or of settings; retrying later is right.
  return ['ECONNREFUSED', 'ECONNRESET', 'CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', '57P01', '57P03', '08006', '08001', '53300'].includes(sqlState(error) ?? '');
}

/** Deadlock detected, serialization failure, lock not available: the transaction lost a race and was rolled back. */
function isContention(error: unknown): boolean {
  return ['40P01', '40001', '55P03'].includes(sqlState(error) ?? '');
}
