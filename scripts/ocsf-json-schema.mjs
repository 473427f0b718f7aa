#!/usr/bin/env node
/**
 * Derives a JSON Schema (draft-07) for one OCSF event class from a git checkout of ocsf/ocsf-schema at a
 * release tag, the way the OCSF server compiles it: `extends` chains (class → finding → base_event, object →
 * _entity → object), `$include`d profile attributes, dictionary types and enums (a class's enum values merge
 * over the dictionary's, key by key), object `constraints` (at_least_one, just_one), and profile-required
 * attributes required only when `metadata.profiles` names the profile. Unknown attributes are refused, as the
 * OCSF validator reports them. Descriptions are left out: the schema checks shape, the OCSF site explains.
 *
 *   node scripts/ocsf-json-schema.mjs --repo <ocsf-schema git dir> --tag 1.8.0 --class compliance_finding \
 *     --out test/data/ocsf-1.8.0-compliance_finding.schema.json
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, a, i, all) => (a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs), []));
const { repo, tag, class: className, out } = args;
if (!repo || !tag || !className || !out) throw new Error('usage: --repo <git dir> --tag <release> --class <name> --out <file>');

const git = (...a) => execFileSync('git', ['--git-dir', repo, ...a], { encoding: 'utf8', maxBuffer: 64 << 20 });
const commit = git('rev-parse', `${tag}^{commit}`).trim();
const files = git('ls-tree', '-r', '--name-only', commit).split('\n').filter(Boolean);
const load = (path) => JSON.parse(git('show', `${commit}:${path}`));

const version = load('version.json').version;
const dictionary = load('dictionary.json');
const types = dictionary.types.attributes;
const dictAttrs = dictionary.attributes;
const categories = load('categories.json').attributes;
const byName = (prefix) => Object.fromEntries(files.filter((f) => f.startsWith(prefix) && f.endsWith('.json')).map((f) => [load(f).name, f]));
const objectFiles = byName('objects/');
const eventFiles = byName('events/');

const isPlain = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
function merge(a, b) {
  if (!isPlain(a) || !isPlain(b)) return b === undefined ? a : b;
  const r = { ...a };
  for (const [k, v] of Object.entries(b)) r[k] = merge(a[k], v);
  return r;
}

/** A definition's own attributes with its `$include`s merged under them; profile attributes remember their profile. */
function ownAttributes(def) {
  let attrs = {};
  for (const inc of def.attributes?.$include ?? []) {
    const included = load(inc);
    const profile = included.meta === 'profile' ? included.name : null;
    for (const [k, v] of Object.entries(ownAttributes(included))) attrs[k] = merge(attrs[k], profile && v.profile === undefined ? { ...v, profile } : v);
  }
  for (const [k, v] of Object.entries(def.attributes ?? {})) if (k !== '$include') attrs[k] = merge(attrs[k], v);
  return attrs;
}

function resolve(files, name, seen = []) {
  if (!files[name]) throw new Error(`${name} is not defined at ${tag}`);
  const def = load(files[name]);
  const base = def.extends ? resolve(files, def.extends, [...seen, name]) : { attributes: {}, constraints: null, profiles: [], def: null };
  const attributes = { ...base.attributes };
  for (const [k, v] of Object.entries(ownAttributes(def))) attributes[k] = merge(attributes[k], v);
  return { attributes, constraints: def.constraints ?? base.constraints, profiles: [...base.profiles, ...(def.profiles ?? [])], def, base: base.def ? base : null };
}

const definitions = {};
const pending = [];
const ref = (objectName) => {
  if (objectName === 'object') return { type: 'object' }; // OCSF's generic object: any attributes
  if (!(objectName in definitions)) {
    definitions[objectName] = null;
    pending.push(objectName);
  }
  return { $ref: `#/definitions/${objectName}` };
};

function scalar(typeName) {
  switch (typeName) {
    case 'string_t': return { type: 'string' };
    case 'integer_t': case 'long_t': return { type: 'integer' };
    case 'float_t': return { type: 'number' };
    case 'boolean_t': return { type: 'boolean' };
    case 'json_t': return {};
  }
  const t = types[typeName];
  if (!t) return null;
  const s = { ...scalar(t.type) };
  if (t.regex) s.pattern = t.regex;
  if (t.max_len) s.maxLength = t.max_len;
  if (t.range) [s.minimum, s.maximum] = t.range;
  return s;
}

function attributeSchema(name, entry) {
  const a = merge(dictAttrs[name] ?? {}, entry);
  if (!a.type) throw new Error(`attribute ${name} has no type`);
  let s = scalar(a.type) ?? ref(a.type);
  if (a.enum && !s.$ref) {
    const keys = Object.keys(a.enum);
    s = { ...s, enum: s.type === 'integer' ? keys.map(Number) : keys };
  }
  return a.is_array ? { type: 'array', items: s } : s;
}

function constraintsOf(c) {
  const all = [];
  if (c?.at_least_one) all.push({ anyOf: c.at_least_one.map((k) => ({ required: [k] })) });
  if (c?.just_one) all.push({ oneOf: c.just_one.map((k) => ({ required: [k] })) });
  return all;
}

function objectSchema(resolved, { profileRules = true } = {}) {
  const properties = {};
  const required = [];
  const byProfile = {};
  for (const [k, v] of Object.entries(resolved.attributes)) {
    properties[k] = attributeSchema(k, v);
    if (v.requirement !== 'required') continue;
    if (v.profile) (byProfile[v.profile] ??= []).push(k);
    else required.push(k);
  }
  const allOf = constraintsOf(resolved.constraints);
  if (profileRules) {
    for (const [profile, attrs] of Object.entries(byProfile)) {
      allOf.push({
        if: { required: ['metadata'], properties: { metadata: { required: ['profiles'], properties: { profiles: { contains: { const: profile } } } } } },
        then: { required: attrs },
      });
    }
  }
  return { type: 'object', properties, ...(required.length ? { required } : {}), additionalProperties: false, ...(allOf.length ? { allOf } : {}) };
}

const cls = resolve(eventFiles, className);
const categoryName = [cls.def, cls.base?.def, cls.base?.base?.def].find((d) => d?.category)?.category;
const categoryUid = categories[categoryName].uid;
const classUid = categoryUid * 1000 + cls.def.uid;
const schema = objectSchema(cls);
const activities = Object.keys(merge(dictAttrs.activity_id.enum ?? {}, cls.attributes.activity_id.enum ?? {})).map(Number);
schema.properties.class_uid = { const: classUid };
schema.properties.category_uid = { const: categoryUid };
schema.properties.type_uid = { enum: activities.map((a) => classUid * 100 + a) };
while (pending.length) {
  const name = pending.shift();
  definitions[name] = objectSchema(resolve(objectFiles, name), { profileRules: false });
}

const sorted = Object.fromEntries(Object.keys(definitions).sort().map((k) => [k, definitions[k]]));
writeFileSync(
  out,
  JSON.stringify({
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: `https://schema.ocsf.io/${version}/classes/${className}`,
    $comment: `OCSF ${version} ${className} (class_uid ${classUid}), derived by scripts/ocsf-json-schema.mjs from github.com/ocsf/ocsf-schema tag ${tag}, commit ${commit}.`,
    title: `OCSF ${version} ${cls.def.caption}`,
    ...schema,
    definitions: sorted,
  }, null, 1) + '\n',
);
console.log(`${out}: OCSF ${version} ${className} (class_uid ${classUid}), ${Object.keys(sorted).length} objects, from ${commit}`);
