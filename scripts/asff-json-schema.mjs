#!/usr/bin/env node
/**
 * Derives a JSON Schema (draft-07) for one AwsSecurityFinding, as BatchImportFindings accepts it, from the
 * Security Hub Smithy model in a git checkout of aws/api-models-aws (the SDK ships no model at run time):
 * structures with their required members and nothing else, enums, lists, maps, and the model's length, range
 * and pattern traits, plus the length limits the model only documents ("Length Constraints: … Maximum length of
 * 512."), which the service enforces. Minimal: of ResourceDetails only the members Keywarden can send
 * (AwsIamUser, AwsIamAccessKey, Other) are kept; any other detail is refused.
 *
 *   node scripts/asff-json-schema.mjs --repo <api-models-aws git dir> --out test/data/securityhub-asff.schema.json
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []));
const { repo, out } = args;
if (!repo || !out) throw new Error('usage: --repo <git dir> --out <file>');
const MODEL = 'securityhub/service/2018-10-26/securityhub-2018-10-26.json';
const KEPT_DETAILS = new Set(['AwsIamUser', 'AwsIamAccessKey', 'Other']);

const git = (...a) => execFileSync('git', ['--git-dir', repo, ...a], { encoding: 'utf8', maxBuffer: 64 << 20 });
const commit = git('rev-parse', 'HEAD').trim();
const shapes = JSON.parse(git('show', `${commit}:${MODEL}`)).shapes;
const NS = 'com.amazonaws.securityhub#';
const local = (id) => id.replace(NS, '');

const definitions = {};
const pending = [];
const PRELUDE = {
  'smithy.api#String': { type: 'string' },
  'smithy.api#Boolean': { type: 'boolean' },
  'smithy.api#PrimitiveBoolean': { type: 'boolean' },
  'smithy.api#Integer': { type: 'integer' },
  'smithy.api#PrimitiveInteger': { type: 'integer' },
  'smithy.api#Long': { type: 'integer' },
  'smithy.api#Double': { type: 'number' },
  'smithy.api#Float': { type: 'number' },
  'smithy.api#Timestamp': { type: 'string' },
};

function ref(id) {
  if (PRELUDE[id]) return PRELUDE[id];
  const name = local(id);
  if (!(name in definitions)) {
    definitions[name] = null;
    pending.push(id);
  }
  return { $ref: `#/definitions/${name}` };
}

/** Length limits the documentation states, e.g. "Minimum length of 1. Maximum length of 256." or "Maximum of 512 length". */
function documentedLength(doc = '') {
  const text = doc.replace(/<[^>]+>/g, ' ');
  const min = /Minimum (?:length )?of (\d+)(?: length)?/i.exec(text);
  const max = /Maximum (?:length )?of (\d+)(?: length)?/i.exec(text);
  return { ...(min ? { minLength: Number(min[1]) } : {}), ...(max ? { maxLength: Number(max[1]) } : {}) };
}

function traitsSchema(traits = {}, kind) {
  const s = {};
  const length = traits['smithy.api#length'];
  if (length) {
    const [lo, hi] = kind === 'list' ? ['minItems', 'maxItems'] : kind === 'map' ? ['minProperties', 'maxProperties'] : ['minLength', 'maxLength'];
    if (length.min !== undefined) s[lo] = length.min;
    if (length.max !== undefined) s[hi] = length.max;
  }
  const range = traits['smithy.api#range'];
  if (range) {
    if (range.min !== undefined) s.minimum = range.min;
    if (range.max !== undefined) s.maximum = range.max;
  }
  if (traits['smithy.api#pattern']) s.pattern = traits['smithy.api#pattern'];
  if (traits['smithy.api#enum']) s.enum = traits['smithy.api#enum'].map((e) => e.value);
  return s;
}

function shapeSchema(id) {
  const shape = shapes[id];
  const t = shape.traits ?? {};
  switch (shape.type) {
    case 'structure': {
      const properties = {};
      const required = [];
      for (const [name, member] of Object.entries(shape.members ?? {})) {
        if (local(id) === 'ResourceDetails' && !KEPT_DETAILS.has(name)) continue;
        const mt = member.traits ?? {};
        const target = shapes[member.target];
        const isString = target?.type === 'string' || member.target === 'smithy.api#String';
        const extra = { ...traitsSchema(mt, target?.type), ...(isString ? documentedLength(mt['smithy.api#documentation']) : {}) };
        properties[name] = Object.keys(extra).length ? { allOf: [ref(member.target)], ...extra } : ref(member.target);
        if (mt['smithy.api#required']) required.push(name);
      }
      return { type: 'object', properties, ...(required.length ? { required } : {}), additionalProperties: false };
    }
    case 'list':
    case 'set':
      return { type: 'array', items: ref(shape.member.target), ...traitsSchema(t, 'list') };
    case 'map':
      return { type: 'object', additionalProperties: ref(shape.value.target), propertyNames: ref(shape.key.target), ...traitsSchema(t, 'map') };
    case 'enum':
      return { type: 'string', enum: Object.entries(shape.members).map(([name, m]) => m.traits?.['smithy.api#enumValue'] ?? name) };
    case 'intEnum':
      return { type: 'integer', enum: Object.values(shape.members).map((m) => m.traits['smithy.api#enumValue']) };
    case 'string':
      return { type: 'string', ...traitsSchema(t, 'string') };
    case 'integer': case 'long': case 'short': case 'byte':
      return { type: 'integer', ...traitsSchema(t, 'number') };
    case 'double': case 'float': case 'bigDecimal':
      return { type: 'number', ...traitsSchema(t, 'number') };
    case 'boolean':
      return { type: 'boolean' };
    case 'timestamp':
      return { type: 'string' };
    case 'document':
      return {};
    default:
      throw new Error(`shape ${id} of type ${shape.type} is not handled`);
  }
}

const root = ref(`${NS}AwsSecurityFinding`);
while (pending.length) {
  const id = pending.shift();
  definitions[local(id)] = shapeSchema(id);
}
const sorted = Object.fromEntries(Object.keys(definitions).sort().map((k) => [k, definitions[k]]));
writeFileSync(
  out,
  JSON.stringify({
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://keywarden.invalid/schemas/securityhub-AwsSecurityFinding.json',
    $comment: `AwsSecurityFinding (ASFF) as BatchImportFindings takes it, derived by scripts/asff-json-schema.mjs from github.com/aws/api-models-aws ${MODEL}, commit ${commit}. ResourceDetails keeps only ${[...KEPT_DETAILS].join(', ')}.`,
    ...root,
    definitions: sorted,
  }, null, 1) + '\n',
);
console.log(`${out}: ${Object.keys(sorted).length} shapes, from ${commit}`);
