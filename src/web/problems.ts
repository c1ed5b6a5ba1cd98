import { visibleLength } from '../features/initiatives/schema';
import { FULL_COUNT_ACTION } from '../features/verification/service';
import { Problem, type FieldError } from '../platform/problems';
import type { Translator } from './i18n';
import type { Messages } from './i18n/fr';

/** What a reader tried with a form; it words a refusal ("you can no longer withdraw your signature"). */
export type WebAction =
  | 'sign'
  | 'withdrawSignature'
  | 'edit'
  | 'submit'
  | 'close'
  | 'withdraw'
  | 'join'
  | 'review'
  | 'paper'
  | 'startVerification'
  | 'decide'
  | 'certify';

/** The form posts of the web front and the action each one is. */
const FORM_ACTIONS: [RegExp, WebAction][] = [
  [/^\/initiatives\/[^/]+\/sign$/, 'sign'],
  [/^\/initiatives\/[^/]+\/signature\/withdraw$/, 'withdrawSignature'],
  [/^\/initiatives\/[^/]+\/edit$/, 'edit'],
  [/^\/initiatives\/[^/]+\/submit$/, 'submit'],
  [/^\/initiatives\/[^/]+\/close$/, 'close'],
  [/^\/initiatives\/[^/]+\/withdraw$/, 'withdraw'],
  [/^\/initiatives\/[^/]+\/join$/, 'join'],
  [/^\/clerk\/initiatives\/[^/]+\/review$/, 'review'],
  [/^\/clerk\/initiatives\/[^/]+\/paper$/, 'paper'],
  [/^\/clerk\/initiatives\/[^/]+\/verification\/start$/, 'startVerification'],
  [/^\/clerk\/initiatives\/[^/]+\/verification\/decide$/, 'decide'],
  [/^\/clerk\/initiatives\/[^/]+\/verification\/complete$/, 'certify'],
];

export function actionOfPath(method: string, pathname: string): WebAction | undefined {
  if (method !== 'POST') return undefined;
  return FORM_ACTIONS.find(([pattern]) => pattern.test(pathname))?.[1];
}

/** Problem types worded by one sentence of their own. */
const WORDED: Record<string, (m: Messages) => string> = {
  'wrong-committee-code': (m) => m.problems.wrongCommitteeCode,
  'already-sponsor': (m) => m.problems.alreadySponsor,
  'decision-final': (m) => m.problems.decisionFinal,
  'duplicate-partner': (m) => m.problems.duplicatePartner,
  csrf: (m) => m.errors.csrf,
  'not-found': (m) => m.errors.notFound,
  forbidden: (m) => m.errors.forbidden,
  unauthenticated: (m) => m.problems.unauthenticated,
  'invalid-token': (m) => m.problems.unauthenticated,
  'missing-identity-claims': (m) => m.problems.missingClaims,
  'insufficient-assurance': (m) => m.problems.insufficientAssurance,
  'login-failed': (m) => m.problems.loginFailed,
  'rate-limited': (m) => m.problems.rateLimited,
  unavailable: (m) => m.problems.unavailable,
  'payload-too-large': (m) => m.problems.tooLarge,
  'malformed-form': (m) => m.problems.unreadableForm,
  'unreadable-form': (m) => m.problems.unreadableForm,
  validation: (m) => m.problems.validation,
};

/**
 * A refusal of the engine in the reader's words, chosen by the problem's type; the API's English
 * detail only for a type the web front has no words for.
 */
export function problemMessage(t: Translator, problem: Problem, options: { action?: WebAction; timeZone?: string } = {}): string {
  const p = t.m.problems;
  const { action } = options;
  const extra = problem.extra;
  const code = problem.code;
  if (code.startsWith('invalid-state/')) {
    if (extra.action === FULL_COUNT_ACTION) return p.verificationStarted;
    const status = String(extra.currentStatus ?? code.slice('invalid-state/'.length));
    const tried = action ? p.actions[action] : undefined;
    return tried ? p.invalidState(tried, t.m.statuses[status] ?? status) : p.notPossible;
  }
  if (code === 'ineligible/age' && typeof extra.minimumAge === 'number') return t.m.ineligibleAge(t.number(extra.minimumAge));
  if (code.startsWith('ineligible/')) return t.m.ineligible[String(extra.rule)] ?? fallback(problem);
  // A committee counts persons: said where the reader tried to join, rather than the general "needed here".
  if (code === 'missing-identity-claims' && action === 'join') return p.missingClaimsCommittee;
  const worded = WORDED[code];
  if (worded) return worded(t.m);
  switch (code) {
    case 'collection-closed':
      return action === 'withdrawSignature' ? p.collectionClosedWithdraw : p.collectionClosed;
    case 'personal-data-destroyed':
      if (action === 'paper') return p.personalDataDestroyedPaper;
      return action === 'startVerification' ? p.personalDataDestroyedVerification : p.personalDataDestroyed;
    case 'collection-not-started':
      return typeof extra.opensAt === 'string' ? p.collectionNotStarted(t.dateTime(extra.opensAt, options.timeZone)) : p.notPossible;
    case 'committee-too-small':
      return p.committeeTooSmall(Number(extra.committeeSize), Number(extra.committeeMinimum));
    case 'roll-check-running':
      return p.rollCheckRunning(t.number(Number(extra.checked)), t.number(Number(extra.toCheck)));
    case 'verification-pending':
      return p.verificationPending(Number(extra.pending), t.number(Number(extra.pending)));
    case 'full-count-required':
      return p.fullCountRequired(t.number(Math.floor(Number(extra.projectedValid))));
  }
  // An HTTP refusal of the framework has no words of its own; neither has a server fault.
  if (problem.status >= 500 || code.startsWith('http-')) return t.m.errors.title;
  return fallback(problem);
}

/** Last resort: what the API says, in English. */
function fallback(problem: Problem): string {
  return problem.detail ?? problem.title;
}

/** A zod issue, as much of it as the wording needs. */
export interface FieldIssue {
  path: PropertyKey[];
  code: string;
  message: string;
  minimum?: unknown;
  maximum?: unknown;
  origin?: string;
  expected?: string;
  /** A schema's own check names its case here (`code`), with what it needs to be worded. */
  params?: Record<string, unknown>;
}

/**
 * Field errors of a form from a zod result, keyed by form field: by the field's own rule (`rules`,
 * for the schema's custom checks), by whether it was left empty, then by the kind of issue.
 */
export function fieldErrors(t: Translator, issues: readonly FieldIssue[], values: Record<string, string | undefined>, rules: Record<string, string> = {}): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const issue of issues) {
    const field = String(issue.path[0] ?? 'form');
    errors[field] ??= issueMessage(t, issue, values[field], rules[field]);
  }
  return errors;
}

export function issueMessage(t: Translator, issue: FieldIssue, value: string | undefined, rule?: string): string {
  const f = t.m.fields;
  const empty = value === undefined || value.trim() === '';
  // The checks of a text others read (shownText), whatever the field's own rule.
  if (issue.code === 'custom' && issue.params?.code === 'bidi-control') return f.bidiControl;
  if (issue.code === 'custom' && issue.params?.code === 'control-character') return f.controlCharacter;
  if (issue.code === 'custom' && issue.params?.code === 'too-few-visible') {
    const minimum = Number(issue.params.minimum);
    if (empty) return f.required;
    // Spaces or invisible characters are said not to count only where there are some.
    return visibleLength(value) === [...value.trim()].length ? f.tooShort(minimum) : f.tooFewVisible(minimum);
  }
  if (issue.code === 'custom') return rule ?? issue.message;
  const limit = (n: unknown) => Number(n);
  switch (issue.code) {
    case 'invalid_value':
      return f.choose;
    case 'invalid_type':
      if (empty) return f.required;
      return issue.expected === 'number' || issue.expected === 'int' ? f.wholeNumber : f.invalid;
    case 'too_small':
      if (empty) return f.required;
      return issue.origin === 'string' ? f.tooShort(limit(issue.minimum)) : f.tooSmall(t.number(limit(issue.minimum)));
    case 'too_big':
      return issue.origin === 'string' ? f.tooLong(t.number(limit(issue.maximum))) : f.tooBig(t.number(limit(issue.maximum)));
    case 'invalid_format':
      return empty ? f.required : f.invalidDate;
    case 'unrecognized_keys':
      return f.unknownField;
  }
  return empty ? f.required : f.invalid;
}

/**
 * Field errors of a validation problem from the engine (no zod code there): by field, from `byField`;
 * the API's English message for a field the page has no words for.
 */
export function problemFieldErrors(problem: Problem, byField: Record<string, string>): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const e of problem.errors ?? ([] as FieldError[])) {
    const field = e.field.replace(/^body\./, '').split('.')[0]!;
    errors[field] ??= byField[field] ?? e.message;
  }
  return errors;
}
