import type { TSchema } from '@sinclair/typebox';
import type { Checker } from './contract.js';

/** STUB (helper core-schemas replaces it): compiles a TypeBox schema into an APISIX-message checker. */
export function compileChecker<S extends TSchema>(_schema: S): Checker<S> {
  throw new Error('compileChecker: not implemented yet');
}
