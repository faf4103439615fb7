/**
 * The shipped library of event type declarations: src/events/library/*.yaml, in the same format as
 * a rule file's `eventTypes:` section (docs/events.md, "Declaring event types"). Read once, when
 * this module is first imported; a problem in it is a bug of cpiwatch and throws at once (a unit
 * test loads it on every run).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';
import { declarationProblems } from './build-data-schema.js';
import { EventTypeDeclaration } from './declaration-schema.js';
import { declaredType, EventTypeRegistry, type DeclaredEventType } from './registry.js';

/** Where the library lives, both from src/ (tsx, tests) and dist/ (the package ships src/events/library). */
export const LIBRARY_DIR = fileURLToPath(new URL('../../src/events/library/', import.meta.url));

/** The library files, in the order their types are listed (docs/events.md, schemas, "expected one of"). */
export const LIBRARY_FILES = ['curbside.yaml', 'customer.yaml', 'store.yaml', 'orders.yaml', 'support.yaml', 'engagement.yaml'] as const;

const LibraryFile = z.strictObject({ eventTypes: z.array(EventTypeDeclaration) });

function readLibrary(): DeclaredEventType[] {
  const types: DeclaredEventType[] = [];
  for (const name of LIBRARY_FILES) {
    const file = `${LIBRARY_DIR}${name}`;
    const parsed = LibraryFile.safeParse(parse(readFileSync(file, 'utf8')));
    if (!parsed.success) throw new Error(`${file}: ${z.prettifyError(parsed.error)}`);
    for (const d of parsed.data.eventTypes) {
      const problems = declarationProblems(d);
      if (problems.length > 0 || d.extend !== undefined || d.example !== undefined) {
        throw new Error(`${file}: ${d.type}: ${problems.map((p) => p.message).join('; ') || 'extend and example are for rule folders'}`);
      }
      if (types.some((t) => t.name === d.type)) throw new Error(`${file}: ${d.type} is declared twice`);
      const fields = new Map(Object.entries(d.fields).map(([field, decl]) => [field, { decl, builtin: true }]));
      types.push(declaredType({ name: d.type, ...(d.description === undefined ? {} : { description: d.description }), builtin: true, fields }));
    }
  }
  return types;
}

/** The built-in event types: what every rule set knows before its own declarations. */
export const BUILTIN_EVENT_TYPES = new EventTypeRegistry(readLibrary());
