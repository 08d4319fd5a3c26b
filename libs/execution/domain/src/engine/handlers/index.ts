import type { BuiltinNode, BuiltinNodeType } from '@ussd/workflow-domain';
import type { NodeHandler } from '../node-handler.js';
import { delayHandler } from './delay.handler.js';
import { endHandler } from './end.handler.js';
import { failHandler } from './fail.handler.js';
import { httpRequestHandler } from './http-request.handler.js';
import { subworkflowHandler } from './subworkflow.handler.js';
import { switchHandler } from './switch.handler.js';
import { transformHandler } from './transform.handler.js';
import { ussdEndHandler } from './ussd-end.handler.js';
import { ussdInputHandler } from './ussd-input.handler.js';
import { ussdMenuHandler } from './ussd-menu.handler.js';

/** Typed by the spec's node union, so a built-in type without a handler does not compile. */
export const BUILTIN_HANDLERS: { readonly [T in BuiltinNodeType]: NodeHandler<Extract<BuiltinNode, { type: T }>> } = {
  'ussd.menu': ussdMenuHandler,
  'ussd.input': ussdInputHandler,
  'ussd.end': ussdEndHandler,
  'http.request': httpRequestHandler,
  transform: transformHandler,
  switch: switchHandler,
  delay: delayHandler,
  subworkflow: subworkflowHandler,
  fail: failHandler,
  end: endHandler,
};

export { HTTP_REQUEST_DEFAULT_TIMEOUT_MS } from './http-request.handler.js';
