import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { FastifySchemaCompiler } from 'fastify';

/**
 * Validates Fastify route schemas with TypeBox instead of Fastify's default Ajv, which silently
 * strips unknown properties (STYLE §5). The first error names the field.
 */
export const typeboxValidatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema }) => {
  const compiled = TypeCompiler.Compile(schema);
  return (value: unknown) => {
    if (compiled.Check(value)) return { value };
    const first = compiled.Errors(value).First();
    const where = first === undefined || first.path === '' ? 'value' : first.path;
    return { error: new Error(`${where}: ${first?.message ?? 'is invalid'}`) };
  };
};
