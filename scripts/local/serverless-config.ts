/**
 * Reads serverless.yml and the CloudFormation fragments in resources/ so the local stack is derived from the same
 * definitions that are deployed (tables and queues are never defined twice).
 *
 * A tiny resolver handles the variables those files use: ${self:...}, ${sls:stage}, ${opt:stage}, ${env:NAME},
 * ${aws:region}, ${aws:accountId}, ${file(path):address} and comma fallbacks (`${env:X, 'default'}`).
 * Other sources (ssm:, cf:, s3:, ...) resolve to "absent", so their fallback applies; without one it is an error.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, type CollectionTag, type ScalarTag, type YAMLMap, type YAMLSeq } from 'yaml';

export const LOCAL_ACCOUNT_ID = '000000000000';

/** Used only while serverless.yml (or its custom section) does not exist yet: the naming convention of the contract. */
const FALLBACK_SERVICE = 'koogallery-isv';
const FALLBACK_CUSTOM: Record<string, string> = {
  'custom.tables.main': '${self:service}-${sls:stage}-main',
  'custom.tables.audit': '${self:service}-${sls:stage}-audit',
  'custom.queues.provisioning': '${self:service}-${sls:stage}-provisioning',
  'custom.queues.provisioningDeadLetter': '${self:service}-${sls:stage}-provisioning-dlq',
};

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const CFN_FUNCTIONS = [
  'And',
  'Base64',
  'Cidr',
  'Condition',
  'Equals',
  'FindInMap',
  'GetAZs',
  'GetAtt',
  'If',
  'ImportValue',
  'Join',
  'Not',
  'Or',
  'Ref',
  'Select',
  'Split',
  'Sub',
  'Transform',
];

/** CloudFormation short forms (!Ref, !GetAtt, ...) turned into their long forms so `yaml` parses them. */
const cfnTags: (ScalarTag | CollectionTag)[] = CFN_FUNCTIONS.flatMap((name) => {
  const key = name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`;
  const scalar: ScalarTag = {
    tag: `!${name}`,
    resolve: (value: string) => ({ [key]: name === 'GetAtt' ? value.split('.') : value }),
  };
  const seq: CollectionTag = {
    tag: `!${name}`,
    collection: 'seq',
    resolve: (value: YAMLMap.Parsed | YAMLSeq.Parsed) => ({ [key]: value.toJSON() }),
  };
  const map: CollectionTag = {
    tag: `!${name}`,
    collection: 'map',
    resolve: (value: YAMLMap.Parsed | YAMLSeq.Parsed) => ({ [key]: value.toJSON() }),
  };
  return [scalar, seq, map];
});

export function readYaml(path: string): Json {
  return parse(readFileSync(path, 'utf8'), { customTags: cfnTags }) as Json;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function getPath(root: Json | undefined, path: string): Json | undefined {
  let node: Json | undefined = root;
  for (const part of path.split('.').filter(Boolean)) {
    if (Array.isArray(node) && /^\d+$/.test(part)) node = node[Number(part)];
    else if (isObject(node)) node = node[part];
    else return undefined;
  }
  return node;
}

/** Splits on commas that are not inside ${...}, (...) or quotes. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '{' || c === '(') depth++;
    else if (c === '}' || c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim());
}

/** Index of the `}` that closes the `${` whose `$` is at `open`. */
function closingBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open + 1; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return i;
  }
  throw new Error(`Unbalanced variable in "${text}"`);
}

export interface ResolverContext {
  /** Directory of serverless.yml: file() paths are relative to it. */
  root: string;
  /** The parsed serverless.yml (or an empty object). */
  config: JsonObject;
  stage: string;
  region: string;
  env: Record<string, string | undefined>;
}

export class VariableResolver {
  constructor(private readonly ctx: ResolverContext) {}

  /** Resolves every variable inside a value (objects and arrays recursively). */
  value(value: Json | undefined, where = 'value', depth = 0): Json | undefined {
    if (depth > 40) throw new Error(`Variable resolution too deep at ${where} (a cycle?)`);
    if (typeof value === 'string') return this.string(value, where, depth);
    if (Array.isArray(value)) return value.map((v, i) => this.value(v, `${where}[${i}]`, depth + 1) ?? null);
    if (isObject(value)) {
      const out: JsonObject = {};
      for (const [k, v] of Object.entries(value)) {
        const resolved = this.value(v, `${where}.${k}`, depth + 1);
        if (resolved !== undefined) out[k] = resolved;
      }
      return out;
    }
    return value;
  }

  private string(text: string, where: string, depth: number): Json | undefined {
    const first = text.indexOf('${');
    if (first < 0) return text;
    // A string that is exactly one variable keeps the variable's type (number, object, ...).
    if (first === 0 && closingBrace(text, 0) === text.length - 1) {
      const value = this.variable(text.slice(2, -1), where, depth);
      if (value === undefined) throw new Error(`Cannot resolve ${text} (at ${where})`);
      return value;
    }
    let out = '';
    let i = 0;
    while (i < text.length) {
      const open = text.indexOf('${', i);
      if (open < 0) {
        out += text.slice(i);
        break;
      }
      const close = closingBrace(text, open);
      out += text.slice(i, open);
      const value = this.variable(text.slice(open + 2, close), where, depth);
      if (value === undefined || value === null || typeof value === 'object') {
        throw new Error(`Cannot resolve ${text.slice(open, close + 1)} inside "${text}" (at ${where})`);
      }
      out += String(value);
      i = close + 1;
    }
    return out;
  }

  private variable(inner: string, where: string, depth: number): Json | undefined {
    for (const part of splitTopLevel(inner)) {
      const value = this.term(part, where, depth);
      if (value !== undefined && value !== null) return value;
    }
    return undefined;
  }

  private term(term: string, where: string, depth: number): Json | undefined {
    if (term.startsWith('${')) return this.string(term, where, depth + 1);
    const quoted = /^(['"])(.*)\1$/s.exec(term);
    if (quoted) return this.string(quoted[2] ?? '', where, depth + 1); // variables inside quotes resolve too
    if (/^-?\d+(\.\d+)?$/.test(term)) return Number(term);
    if (term === 'true' || term === 'false') return term === 'true';
    // Nested variables inside an address: ${self:custom.${sls:stage}.x}
    const address = term.includes('${') ? String(this.string(term, where, depth + 1)) : term;
    const file = /^file\((.+?)\)(?::(.+))?$/.exec(address);
    if (file) {
      const path = resolve(this.ctx.root, file[1]!.trim().replace(/^['"]|['"]$/g, ''));
      if (!existsSync(path)) return undefined;
      const doc = readYaml(path);
      return this.value(file[2] ? getPath(doc, file[2]) : doc, `${where} → ${file[1]}`, depth + 1);
    }
    const colon = address.indexOf(':');
    if (colon < 0) return undefined;
    const source = address.slice(0, colon);
    const key = address.slice(colon + 1);
    switch (source) {
      case 'self': {
        let found = getPath(this.ctx.config, key);
        if (found === undefined && key === 'service') found = FALLBACK_SERVICE;
        if (found === undefined) found = FALLBACK_CUSTOM[key];
        return this.value(found, `self:${key}`, depth + 1);
      }
      case 'param': {
        const stageParams = getPath(this.ctx.config, `params.${this.ctx.stage}.${key}`);
        const found = stageParams ?? getPath(this.ctx.config, `params.default.${key}`);
        return this.value(found, `param:${key}`, depth + 1);
      }
      case 'sls':
        return key === 'stage' ? this.ctx.stage : key === 'instanceId' ? 'local' : undefined;
      case 'opt':
        return key === 'stage' ? this.ctx.stage : key === 'region' ? this.ctx.region : undefined;
      case 'aws':
        return key === 'region' ? this.ctx.region : key === 'accountId' ? LOCAL_ACCOUNT_ID : undefined;
      case 'env':
        return this.ctx.env[key];
      default:
        return undefined; // ssm:, cf:, s3:, ... : the fallback (if any) applies
    }
  }
}

export interface ServerlessProject {
  root: string;
  /** Parsed serverless.yml, or undefined while it does not exist yet. */
  config: JsonObject | undefined;
  resolver: VariableResolver;
  service: string;
}

export function loadProject(options: {
  root?: string;
  stage: string;
  region?: string;
  env?: Record<string, string | undefined>;
}): ServerlessProject {
  const root = resolve(options.root ?? process.cwd());
  const path = join(root, 'serverless.yml');
  const parsed = existsSync(path) ? readYaml(path) : undefined;
  const config = isObject(parsed) ? parsed : undefined;
  const resolver = new VariableResolver({
    root,
    config: config ?? {},
    stage: options.stage,
    region: options.region ?? 'us-east-1',
    env: options.env ?? process.env,
  });
  const service = String(resolver.value(config?.service ?? FALLBACK_SERVICE, 'service'));
  return { root, config, resolver, service };
}

export interface CfnResource {
  logicalId: string;
  type: string;
  /** Properties with every serverless variable resolved (CloudFormation functions left as objects). */
  properties: JsonObject;
}

/**
 * The CloudFormation resources serverless.yml deploys: its `resources` entries (inline or ${file(...)}), or, while
 * serverless.yml has none, every resources/*.yml. Only resources of the wanted types are resolved.
 */
export function cfnResources(project: ServerlessProject, types: string[]): CfnResource[] {
  const blocks: Json[] = [];
  const declared = project.config?.resources;
  const entries = declared === undefined ? [] : Array.isArray(declared) ? declared : [declared];
  for (const entry of entries) {
    const fileRef = typeof entry === 'string' ? /^\$\{file\((.+?)\)(?::(.+))?\}$/.exec(entry.trim()) : null;
    if (fileRef) {
      const doc = readYaml(resolve(project.root, fileRef[1]!.trim()));
      blocks.push(fileRef[2] ? (getPath(doc, fileRef[2]) ?? null) : doc);
    } else {
      blocks.push(entry);
    }
  }
  if (blocks.length === 0) {
    const dir = join(project.root, 'resources');
    if (existsSync(dir)) {
      for (const name of readdirSync(dir)
        .filter((n) => /\.ya?ml$/.test(n))
        .sort()) {
        blocks.push(readYaml(join(dir, name)));
      }
    }
  }
  const out: CfnResource[] = [];
  for (const block of blocks) {
    // A block is either { Resources: {...}, Outputs: ... } or (for ${file(x):Resources}) the Resources map itself.
    const resources = isObject(block) && isObject(block.Resources) ? block.Resources : block;
    if (!isObject(resources)) continue;
    for (const [logicalId, resource] of Object.entries(resources)) {
      if (!isObject(resource) || typeof resource.Type !== 'string' || !types.includes(resource.Type)) continue;
      const properties = project.resolver.value(resource.Properties ?? {}, logicalId);
      out.push({ logicalId, type: resource.Type, properties: isObject(properties) ? properties : {} });
    }
  }
  return out;
}

/** An `sqs` event of a function in serverless.yml: what the local SQS bridge must emulate. */
export interface SqsConsumer {
  /** Key under `functions:` (e.g. `provision`). */
  functionKey: string;
  /** Deployed name, `${service}-${stage}-${key}` unless the function sets `name`. */
  functionName: string;
  /** Logical id of the queue resource when the event's arn is !GetAtt X.Arn; else undefined. */
  queueLogicalId: string | undefined;
  /** Queue name when the arn is a literal ARN string. */
  queueName: string | undefined;
  batchSize: number;
  reportBatchItemFailures: boolean;
}

export function sqsConsumers(project: ServerlessProject, stage: string): SqsConsumer[] {
  const functions = project.config?.functions;
  if (!isObject(functions)) return [];
  const out: SqsConsumer[] = [];
  for (const [key, raw] of Object.entries(functions)) {
    if (!isObject(raw)) continue;
    const events = Array.isArray(raw.events) ? raw.events : [];
    for (const event of events) {
      if (!isObject(event) || event.sqs === undefined) continue;
      const sqs = project.resolver.value(event.sqs, `functions.${key}.events.sqs`);
      const spec: JsonObject = isObject(sqs) ? sqs : { arn: sqs ?? null };
      const arn = spec.arn ?? null;
      let queueLogicalId: string | undefined;
      let queueName: string | undefined;
      if (isObject(arn) && Array.isArray(arn['Fn::GetAtt'])) queueLogicalId = String(arn['Fn::GetAtt'][0]);
      else if (typeof arn === 'string') queueName = arn.split(':').pop();
      const name = raw.name === undefined ? undefined : project.resolver.value(raw.name, `functions.${key}.name`);
      out.push({
        functionKey: key,
        functionName: typeof name === 'string' ? name : `${project.service}-${stage}-${key}`,
        queueLogicalId,
        queueName,
        batchSize: Math.min(10, Math.max(1, Number(spec.batchSize ?? 10) || 10)),
        reportBatchItemFailures: spec.functionResponseType === 'ReportBatchItemFailures',
      });
    }
  }
  return out;
}

export function projectRoot(): string {
  // scripts/local/ → project root
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
}
