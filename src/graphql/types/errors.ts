import { NotFound, ValidationFailed, type FieldError } from '../../errors.ts';
import { builder } from '../builder.ts';

/** The errors that are part of the contract are typed results, not bare GraphQL errors. */
export const FieldErrorType = builder.objectRef<FieldError>('FieldError').implement({
  description: 'One invalid field, in the shape of the REST 400 body items.',
  fields: (t) => ({
    path: t.exposeString('path', { description: 'The field as a client writes it: `parts[0].criteria[1].min`.' }),
    code: t.exposeString('code', { description: 'required, invalid_type, invalid_format, out_of_range, ...' }),
    message: t.exposeString('message'),
    parameters: t.field({ type: 'JSONObject', resolve: (error) => error.parameters }),
    plural: t.exposeInt('plural', { nullable: true }),
  }),
});

builder.scalarType('JSONObject', {
  description: 'A JSON object (error parameters).',
  serialize: (value) => value,
  parseValue: (value) => value as Record<string, unknown>,
});

const ErrorInterface = builder.interfaceRef<Error>('Error').implement({
  fields: (t) => ({ message: t.exposeString('message') }),
});

builder.objectType(ValidationFailed, {
  name: 'ValidationError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ errors: t.field({ type: [FieldErrorType], resolve: (error) => error.errors }) }),
});

builder.objectType(NotFound, {
  name: 'NotFoundError',
  interfaces: [ErrorInterface],
});
