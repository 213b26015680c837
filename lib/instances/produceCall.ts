import { parseActivity, type ParsedActivity } from '#lib/koogallery/activities.ts';
import { verifyRequest, type AccessKey, type SignedQuery } from '#lib/koogallery/auth.ts';
import { MAX_JSON_DEPTH, nestedDeeperThan, type JsonObject } from '#lib/koogallery/canonicalJson.ts';
import { parseJsonTree, plainValue, type JsonMap } from '#lib/koogallery/jsonTree.ts';
import type { EncryptType } from '#lib/koogallery/fieldCrypto.ts';
import { answer, ResultCode, type Answer } from '#lib/koogallery/resultCodes.ts';
import { parseV1Activity } from '#lib/koogallery/v1Activities.ts';
import { v1Answer } from '#lib/koogallery/v1Answer.ts';
import { parseV1Query, verifyV1Request } from '#lib/koogallery/v1Auth.ts';
import { sha256Hex } from '#lib/koogallery/signature.ts';
import type { Log } from '#lib/log.ts';
import { errorFields, errorName } from '#lib/shared/errors.ts';
import { safeText } from '#lib/shared/safeText.ts';
import { sleep } from '#lib/shared/time.ts';
import type { EventPublisher } from '#lib/outbox/publisher.ts';
import type { AuditRecord } from '#lib/audit/records.ts';
import { keepBody, notKept, type KeptBody } from '#lib/audit/redact.ts';
import type { InstanceStore } from './ports.ts';
import type { CommitResult, PlannedWrite } from '#lib/shared/transaction.ts';
import { budget } from '#lib/shared/budget.ts';
import type { LifecycleEvent } from '#lib/outbox/events.ts';
import type { LicenseStore } from '#lib/licenses/ports.ts';
import type { AppInfoTemplates } from './appInfo.ts';
import type { ChangePolicy } from './changePolicy.ts';
import type { Plan } from './callPlan.ts';
import { planActivity, type ProvisioningSettings, type UsageTotals } from './plans.ts';

/** One call to the production interface, as received: a V2 POST, or a legacy V1 GET (spec §6). */
export type ProduceCall =
  | { version: 'v2'; rawBody: string; query: SignedQuery; correlationId: string }
  | { version: 'v1'; rawQuery: string; correlationId: string };

export interface ProduceSettings {
  maxBodyBytes: number;
  signatureWindowSeconds: number;
  nonceTtlSeconds: number;
  testTtlDays: number;
  appInfo: AppInfoTemplates;
  provisioning: ProvisioningSettings;
  releaseUnknownAnswer: '000003' | 'success';
  /** AES size of the appInfo fields in V1 answers. */
  v1EncryptType: EncryptType;
}

export interface ProduceDeps {
  accessKeys: () => Promise<AccessKey[]>;
  store: InstanceStore;
  licenses: LicenseStore;
  publisher: EventPublisher;
  changePolicy: ChangePolicy;
  settings: ProduceSettings;
  /** The usage ledger's totals, for package instances' usageInfo; without it queryInstance reports none. */
  usage?: UsageTotals;
  now: () => number;
  log: Log;
}

export interface ProduceResult {
  answer: Answer;
  /** The key that signed the request (else the current key): it signs the answer's Body-Sign. */
  signingKey: AccessKey | undefined;
}

/** What authentication established: the key, the nonce to claim, the activity named, and the validated request. */
type Authenticated = {
  ok: true;
  keyId: string;
  nonce: string;
  form: string;
  activity: string | undefined;
  parsed: ParsedActivity;
  /** The request as the message log keeps it (redacted). */
  kept: KeptBody;
};
/** A refused call: the answer, why, the activity it claimed (unauthenticated, raw), and the request as kept. */
type Refused = { ok: false; given: Answer; reason: string; claimedActivity?: string; kept: KeptBody };

/** How much of an activity name the message log keeps. */
const MAX_ACTIVITY_CHARS = 32;

/** Re-planning after a lost race: enough for 50 concurrent duplicates, bounded for the 5 s budget. */
const MAX_ATTEMPTS = 6;

/**
 * The body read once: the tree the signature is checked over and, from that same tree, the plain values the
 * activity's schema validates, so both see the same members. A repeated key is refused: readers disagree on it.
 */
function parseBody(rawBody: string): { tree: JsonMap; body: JsonObject } | { message: string; reason: string } {
  const reading = parseJsonTree(rawBody, MAX_JSON_DEPTH);
  if (reading.ok && reading.value instanceof Map) return { tree: reading.value, body: plainValue(reading.value) as JsonObject };
  if (!reading.ok && reading.problem === 'duplicate key') return { message: 'body has a duplicate key', reason: 'duplicate key' };
  return { message: 'body is not a JSON object', reason: 'malformed JSON' };
}

/** V2: size, JSON, signature (spec §7.2), then the activity's schema. */
function authenticateV2(
  call: Extract<ProduceCall, { version: 'v2' }>,
  keys: AccessKey[],
  nowMs: number,
  settings: ProduceSettings,
): Authenticated | Refused {
  const bodyBytes = Buffer.byteLength(call.rawBody, 'utf8');
  const unread = (note: string) => keepBody({ query: call.query, body: notKept(note) });
  if (bodyBytes === 0 || bodyBytes > settings.maxBodyBytes) {
    const given = answer(ResultCode.invalidParameter, 'body is empty or too large');
    return { ok: false, given, reason: 'body size', kept: unread(`${bodyBytes} bytes`) };
  }
  if (nestedDeeperThan(call.rawBody)) {
    return {
      ok: false,
      given: answer(ResultCode.invalidParameter, `body is nested deeper than ${MAX_JSON_DEPTH} levels`),
      reason: 'deep JSON',
      kept: unread('nested too deep'),
    };
  }
  const read = parseBody(call.rawBody);
  if (!('tree' in read))
    return { ok: false, given: answer(ResultCode.invalidParameter, read.message), reason: read.reason, kept: unread(read.reason) };
  const { tree, body } = read;
  const kept = keepBody({ query: call.query, body });
  const activity = typeof body.activity === 'string' ? body.activity : undefined;
  const verdict = verifyRequest(keys, call.query, tree, call.rawBody, nowMs, settings.signatureWindowSeconds * 1000);
  if (!verdict.ok)
    return { ok: false, given: answer(verdict.code), reason: verdict.reason, ...(activity ? { claimedActivity: activity } : {}), kept };
  return { ok: true, keyId: verdict.keyId, nonce: verdict.nonce, form: verdict.form, activity, parsed: parseActivity(body), kept };
}

/** A V1 call's query parameters as the message log keeps them (redacted), or why they could not be read. */
function keptV1Query(rawQuery: string): KeptBody {
  const parsed = parseV1Query(rawQuery);
  return parsed.ok ? keepBody({ query: parsed.form }) : keepBody({ query: notKept(parsed.reason) });
}

/** The `activity` parameter of a refused V1 query string, as sent, if it can be read. */
function claimedV1Activity(rawQuery: string): string | undefined {
  const parsed = parseV1Query(rawQuery);
  return parsed.ok ? parsed.literal.activity || undefined : undefined;
}

/** V1: the authToken over the query string (spec §7.5); the authToken, unique per call, is the nonce. */
function authenticateV1(
  call: Extract<ProduceCall, { version: 'v1' }>,
  keys: AccessKey[],
  nowMs: number,
  settings: ProduceSettings,
): Authenticated | Refused {
  const verdict = verifyV1Request(keys, call.rawQuery, nowMs, settings.signatureWindowSeconds * 1000);
  const kept = keptV1Query(call.rawQuery);
  if (!verdict.ok) {
    const claimedActivity = claimedV1Activity(call.rawQuery);
    return { ok: false, given: answer(verdict.code), reason: verdict.reason, ...(claimedActivity ? { claimedActivity } : {}), kept };
  }
  return {
    ok: true,
    keyId: verdict.keyId,
    nonce: `v1:${verdict.authToken}`,
    form: `v1-${verdict.reading}`,
    activity: verdict.params.activity || undefined,
    parsed: parseV1Activity(verdict.params),
    kept,
  };
}

/** How long the marketplace's 5 s leave the flow, less the network's and the gateway's share. */
export const ANSWER_WITHIN_MS = 4_000;
/**
 * How a call's budget is shared, as fractions of it (with ANSWER_WITHIN_MS: 1.5 s, 1 s, 0.5 s). Everything after
 * the decision (its transaction; after a lost transaction answer, the fence; the publish) ends within `settle` of
 * it: the message-log record, written in the transaction, carries the latency at the decision, and the answer
 * leaves at most `settle` later. Reads end `settle` before the budget does.
 */
export const BUDGET_SHARES = {
  settle: 3 / 8,
  /** The transaction carrying the decision. */
  commit: 1 / 4,
  /** The publish of a committed call's events, or the 000005 record of a failed call. */
  afterCommit: 1 / 8,
} as const;

export interface CallOptions {
  /** How long the caller waits for the answer (default ANSWER_WITHIN_MS). */
  answerWithinMs?: number;
  /** Told the answer as soon as the call's transaction is durable, before its events are published. */
  onCommitted?: (result: ProduceResult) => void;
}

/** An answer decided and sent to be committed with its message-log record, and what follows once it is durable. */
interface Decided {
  given: Answer;
  events: readonly LifecycleEvent[];
  /** Fields of the call's log line. */
  note: Record<string, unknown>;
}

/**
 * Handles one call to the production interface: size and JSON checks, signature (spec §7.2),
 * validation, the activity's plan, and one transaction holding the nonce claim, the state change
 * and the message-log record (laws 1, 4, 6). Whatever happens, the answer is a result code, given within
 * `answerWithinMs` (law 11): each wait on another system is a step of the call's budget.
 */
export async function handleProduceCall(call: ProduceCall, deps: ProduceDeps, options: CallOptions = {}): Promise<ProduceResult> {
  const { store, settings, log } = deps;
  const totalMs = options.answerWithinMs ?? ANSWER_WITHIN_MS;
  const time = budget(totalMs);
  const settleMs = totalMs * BUDGET_SHARES.settle;
  const commitMs = totalMs * BUDGET_SHARES.commit;
  const afterCommitMs = totalMs * BUDGET_SHARES.afterCommit;
  const started = deps.now();
  const at = new Date(started).toISOString();
  const received = call.version === 'v2' ? call.rawBody : call.rawQuery;
  const audit: AuditRecord = {
    at,
    correlationId: call.correlationId,
    channel: call.version === 'v2' ? 'produce' : 'produceV1',
    resultCode: '',
    latencyMs: 0,
    bodySha256: sha256Hex(received),
    bodyBytes: Buffer.byteLength(received, 'utf8'),
  };
  let signingKey: AccessKey | undefined;
  /** The decided answer whose transaction was sent and whose outcome is unknown: it may be durable. */
  let unconfirmed: Decided | undefined;
  /** The mark on the budget's clock by which everything after the last decision ends. */
  let settleBy = Infinity;

  const auditWrite = (given: Answer, reason?: string): PlannedWrite => {
    audit.resultCode = given.resultCode;
    audit.answer = keepBody(given);
    audit.latencyMs = deps.now() - started;
    if (reason) audit.reason = reason;
    return store.audit(audit);
  };

  const finish = (given: Answer, extra: Record<string, unknown> = {}): ProduceResult => {
    const fields = { ...extra, resultCode: given.resultCode, latencyMs: deps.now() - started, correlationId: call.correlationId };
    const { reason: _r, request: _q, answer: _a, ...logged } = audit;
    log.info('marketplace call', { ...logged, ...fields });
    return { answer: given, signingKey };
  };

  /** Commits a decided answer with its message-log record, within the commit's share of the decision's settle time. */
  const commitDecided = async (writes: PlannedWrite[], decided: Decided, reason?: string): Promise<CommitResult> => {
    const record = auditWrite(decided.given, reason);
    settleBy = time.elapsed() + settleMs;
    unconfirmed = decided;
    const result = await time.step({ atMost: commitMs }, () => store.commit([...writes, record]));
    unconfirmed = undefined;
    if (result.ok) options.onCommitted?.({ answer: decided.given, signingKey });
    return result;
  };

  /** Sends a committed call's events; whatever the queue does, the outbox keeps them for the sweep and the answer stands. */
  const publishCommitted = async (events: readonly LifecycleEvent[]): Promise<void> => {
    if (events.length === 0) return;
    try {
      const unsent = await time.step({ atMost: afterCommitMs, by: settleBy }, () => deps.publisher.publish(events));
      if (unsent.length > 0) log.warn('events left to the outbox sweep', { eventIds: unsent });
    } catch (error) {
      log.warn('events left to the outbox sweep', { eventIds: events.map((e) => e.eventId), error: errorName(error) });
    }
  };

  const committed = async (decided: Decided): Promise<ProduceResult> => {
    await publishCommitted(decided.events);
    return finish(decided.given, decided.note);
  };

  /** Refusals before anything is claimed: only the message-log record is written. */
  const refuse = async (given: Answer, reason: string): Promise<ProduceResult> => {
    await commitDecided([], { given, events: [], note: { reason } }, reason);
    return finish(given, { reason });
  };

  /**
   * A call that failed is answered 000005 with its own record. The record's key is the call's, so when a transaction
   * of the call was sent and its answer lost, writing it either fences that transaction off for good (its record
   * can no longer be created) or finds it committed: then the call is answered as committed (law 1 holds, the
   * message log matches the answer).
   */
  const afterFailure = async (error: unknown): Promise<ProduceResult> => {
    const given = answer(ResultCode.internalError);
    const lost = unconfirmed;
    let recorded: CommitResult | undefined;
    try {
      recorded = await time.step({ atMost: afterCommitMs, by: settleBy }, () => store.commit([auditWrite(given, 'internal error')]));
    } catch (auditError) {
      log.error('message log write failed', { correlationId: call.correlationId, error: errorName(auditError) });
    }
    if (lost && recorded && !recorded.ok && recorded.conditionFailed.includes('audit')) {
      log.warn('commit answer lost; the write is durable', { correlationId: call.correlationId, error: errorName(error) });
      options.onCommitted?.({ answer: lost.given, signingKey });
      return await committed(lost);
    }
    log.error('marketplace call failed', { correlationId: call.correlationId, activity: audit.activity, error: errorFields(error) });
    return { answer: given, signingKey };
  };

  try {
    const keys = await time.step({ leaving: settleMs }, () => deps.accessKeys());
    signingKey = keys[0];
    const verdict = call.version === 'v2' ? authenticateV2(call, keys, started, settings) : authenticateV1(call, keys, started, settings);
    audit.request = verdict.kept;
    if (!verdict.ok) {
      // What an unauthenticated call claims is kept apart, short and cleaned: anyone can send it.
      if (verdict.claimedActivity) audit.claimedActivity = safeText(verdict.claimedActivity, MAX_ACTIVITY_CHARS);
      return await refuse(verdict.given, verdict.reason);
    }
    if (verdict.activity) audit.activity = verdict.activity.slice(0, MAX_ACTIVITY_CHARS);

    const key = keys.find((k) => k.id === verdict.keyId) ?? signingKey;
    signingKey = key;
    audit.keyId = verdict.keyId;
    audit.signatureForm = verdict.form;
    const nonceClaim = store.claimNonce(verdict.keyId, verdict.nonce, Math.floor(started / 1000) + settings.nonceTtlSeconds);
    const replayed = async () => refuse(answer(ResultCode.authFailed, 'nonce was already used'), 'replayed nonce');
    // V1 answers carry appInfo's credentials encrypted under the key that signed the call.
    const shape = (given: Answer) => (call.version === 'v1' && key ? v1Answer(given, key.secret, settings.v1EncryptType) : given);

    const parsed = verdict.parsed;
    if (!parsed.ok) {
      const given = answer(ResultCode.invalidParameter, parsed.reason);
      const result = await commitDecided([nonceClaim], { given, events: [], note: { reason: parsed.reason } }, parsed.reason);
      if (!result.ok && result.conditionFailed.includes('nonce')) return await replayed();
      return finish(given, { reason: parsed.reason });
    }
    const request = parsed.request;
    audit.test = request.testFlag === '1';

    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const plan: Plan = await time.step({ leaving: settleMs }, () =>
        planActivity(request, {
          legacy: call.version === 'v1',
          store,
          licenses: deps.licenses,
          changePolicy: deps.changePolicy,
          appInfo: settings.appInfo,
          provisioning: settings.provisioning,
          testTtlDays: settings.testTtlDays,
          releaseUnknownAnswer: settings.releaseUnknownAnswer,
          nowMs: deps.now(),
          ...(deps.usage ? { usage: deps.usage } : {}),
        }),
      );
      Object.assign(audit, plan.refs);

      const decided: Decided = { given: shape(plan.answer), events: plan.events, note: { attempt, ...plan.note } };
      const result = await commitDecided([nonceClaim, ...plan.writes], decided);
      if (result.ok) return await committed(decided);
      if (result.conditionFailed.includes('nonce')) return await replayed();

      const final = result.conditionFailed.length > 0 ? plan.onConditionFailed?.(result.conditionFailed) : undefined;
      if (final) {
        const note = { attempt, conditionFailed: result.conditionFailed };
        const settled = await commitDecided([nonceClaim], { given: final, events: [], note });
        if (!settled.ok && settled.conditionFailed.includes('nonce')) return await replayed();
        return finish(final, note);
      }
      await sleep(Math.random() * 15 * attempt);
    }
    throw new Error(`could not commit after ${MAX_ATTEMPTS} attempts`);
  } catch (error) {
    return await afterFailure(error);
  }
}
