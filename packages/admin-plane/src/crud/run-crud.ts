import { adminError } from '../errors.js';
import type { AdminMethod } from '../resources/define-resource.js';
import type { CrudRequest, CrudResult } from './crud-request.js';
import { deleteResource } from './delete-resource.js';
import { patchResource } from './patch-resource.js';
import { readResource } from './read.js';
import { postResource, putResource } from './write.js';

const HANDLERS: Readonly<Record<AdminMethod, (request: CrudRequest) => Promise<CrudResult>>> = {
  GET: readResource,
  PUT: putResource,
  POST: postResource,
  PATCH: patchResource,
  DELETE: deleteResource,
};

/** The generic CRUD: one handler per method for every resource descriptor (STYLE §6). */
export async function runCrud(method: AdminMethod, request: CrudRequest): Promise<CrudResult> {
  if (request.descriptor.unsupportedMethods.includes(method)) {
    throw adminError('SB_ADMIN_METHOD_NOT_SUPPORTED', method, request.descriptor.kind);
  }
  return HANDLERS[method](request);
}
