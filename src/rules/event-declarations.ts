/**
 * A rule folder's event type declarations (`eventTypes:` in its rule files) checked and joined to
 * the shipped library into the EventTypeRegistry of the rule set. The rules are:
 *  - a new type (not built in) is declared once, anywhere in the folder;
 *  - a built-in type is never redefined; `extend: true` adds fields to it, and its own fields stay
 *    as the library declares them (code relies on them: facts, time zones, en-route);
 *  - what the declaration schema cannot see (bounds, patterns, roles) is checked by
 *    declarationProblems, the same function that checks the library, and an `example` must decode.
 * Every problem is reported at its file, line and column; nothing stops at the first one.
 */
import { declarationProblems } from '../events/build-data-schema.js';
import type { EventTypeDeclarationDoc } from '../events/declaration-schema.js';
import { BUILTIN_EVENT_TYPES } from '../events/library.js';
import { declaredType, EventTypeRegistry, type DeclaredEventType, type DeclaredField } from '../events/registry.js';
import { exampleEventOf } from '../events/json-schemas.js';
import { formatZodIssues } from '../events/zod-issues.js';
import { suggestionSuffix } from './did-you-mean.js';
import type { Reporter } from './event-fields.js';
import type { ParsedRuleFile } from './parsed-rule-file.js';
import type { PathSegment } from './rule-errors.js';
import { formatLocation } from './rule-errors.js';
import { canonicalJson, shortHash } from './rule-hash.js';

interface Declared {
  file: ParsedRuleFile;
  index: number;
  doc: EventTypeDeclarationDoc;
}

/** Where an item's part is, as `file:line:col`. */
function where(d: Declared, path: PathSegment[]): string {
  return formatLocation({ file: d.file.file, ...d.file.locate.value(['eventTypes', d.index, ...path]) });
}

/** The registry of a rule set: the library, its extensions, then the folder's own types in file order. */
export function declareEventTypes(c: Reporter, files: readonly ParsedRuleFile[], library: EventTypeRegistry = BUILTIN_EVENT_TYPES): EventTypeRegistry {
  const own = new Map<string, { first: Declared; type: DeclaredEventType }>();
  type Extension = { first: Declared; fields: Map<string, DeclaredField & { at: Declared }>; example?: Record<string, unknown> };
  const extended = new Map<string, Extension>();
  const valid: Declared[] = [];
  const report = (d: Declared, path: PathSegment[], name: Parameters<Reporter['report']>[2], args: unknown[], at: 'value' | 'key' = 'value') =>
    c.report(d.file, ['eventTypes', d.index, ...path], name, args, at);

  for (const file of files) {
    for (const item of file.eventTypes ?? []) {
      if (item.doc === undefined) continue; // its schema errors are reported already
      const d: Declared = { file, index: item.index, doc: item.doc };
      const problems = declarationProblems(d.doc);
      for (const p of problems) report(d, p.path, 'EVENT_TYPE_DECLARATION', [d.doc.type, p.message], 'key');
      if (problems.length > 0) continue;
      const builtin = library.get(d.doc.type);
      if (builtin) extend(d, builtin);
      else declare(d);
    }
  }

  function declare(d: Declared): void {
    const { doc } = d;
    if (doc.extend) {
      const near = suggestionSuffix(doc.type, library.names);
      report(d, ['extend'], 'EVENT_TYPE_DECLARATION', [doc.type, `extend: true, but ${doc.type} is not a built-in type${near}; to declare a new type, leave extend out`], 'key');
      return;
    }
    const first = own.get(doc.type);
    if (first) {
      report(d, ['type'], 'EVENT_TYPE_DUPLICATE', [doc.type, where(first.first, ['type']), '; a type is declared once, in one file']);
      return;
    }
    const fields = new Map(Object.entries(doc.fields).map(([name, decl]) => [name, { decl, builtin: false, file: d.file.file }]));
    const type = declaredType({
      name: doc.type, builtin: false, file: d.file.file, fields,
      ...(doc.description === undefined ? {} : { description: doc.description }),
      ...(doc.example === undefined ? {} : { example: doc.example }),
    });
    own.set(doc.type, { first: d, type });
    valid.push(d);
  }

  function extend(d: Declared, builtin: DeclaredEventType): void {
    const { doc } = d;
    if (!doc.extend) {
      const fields = [...builtin.fields.keys()].join(', ');
      report(d, ['type'], 'EVENT_TYPE_BUILTIN', [doc.type, `it cannot be redefined (its fields: ${fields}); to add fields to it, write extend: true`]);
      return;
    }
    if (doc.description !== undefined) {
      report(d, ['description'], 'EVENT_TYPE_BUILTIN', [doc.type, 'an extension adds fields; the description stays the built-in one'], 'key');
      return;
    }
    const ext: Extension = extended.get(doc.type) ?? { first: d, fields: new Map() };
    for (const [name, decl] of Object.entries(doc.fields)) {
      if (builtin.fields.has(name)) {
        report(d, ['fields', name], 'EVENT_TYPE_BUILTIN', [doc.type, `field ${name} is one of its own fields, which an extension cannot redefine; give yours another name`], 'key');
        continue;
      }
      const before = ext.fields.get(name);
      if (before) {
        report(d, ['fields', name], 'EVENT_TYPE_DUPLICATE', [doc.type, where(before.at, ['fields', name]), ` (field ${name} is added by two extensions)`], 'key');
        continue;
      }
      if (decl.role === 'customer' && builtin.customerField !== undefined) {
        report(d, ['fields', name, 'role'], 'EVENT_TYPE_BUILTIN', [doc.type, `its customer is field ${builtin.customerField}; an extension cannot name another`], 'key');
        continue;
      }
      ext.fields.set(name, { decl, builtin: false, file: d.file.file, at: d });
    }
    if (doc.example !== undefined) ext.example = { ...ext.example, ...doc.example };
    extended.set(doc.type, ext);
    valid.push(d);
  }

  if (valid.length === 0) return library;
  const types = library.names.map((name) => {
    const builtin = library.get(name)!;
    const ext = extended.get(name);
    if (!ext) return builtin;
    const fields = new Map<string, DeclaredField>(builtin.fields);
    for (const [field, f] of ext.fields) fields.set(field, { decl: f.decl, builtin: false, ...(f.file === undefined ? {} : { file: f.file }) });
    return declaredType({
      name, builtin: true, file: ext.first.file.file, fields,
      ...(builtin.description === undefined ? {} : { description: builtin.description }),
      ...(ext.example === undefined ? {} : { example: ext.example }),
    });
  });
  const all = [...types, ...[...own.values()].map((o) => o.type)];

  // an example must be valid data of its (whole) type: docs and JSON Schemas show it
  for (const d of valid) {
    if (d.doc.example === undefined) continue;
    const type = all.find((t) => t.name === d.doc.type)!;
    const example = (exampleEventOf(type)?.data ?? d.doc.example) as Record<string, unknown>;
    const parsed = type.schema.safeParse(example);
    if (!parsed.success) {
      report(d, ['example'], 'EVENT_TYPE_DECLARATION', [d.doc.type, `example does not match the declaration: ${formatZodIssues(parsed.error.issues, example, 'example', type.pii)}`], 'key');
    }
  }

  const version = valid.length === 0 ? '' : shortHash(canonicalJson(valid.map((d) => d.doc)));
  return new EventTypeRegistry(all, version);
}
