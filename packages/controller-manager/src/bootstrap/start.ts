// Start function for the token-cleaner-controller (upstream's startTokenCleanerController).
import { findResource } from '@kubelab/api';
import { controllerLogger, type StartFunc } from '../controller-context.js';
import { BOOTSTRAP_TOKEN_SECRET_TYPE, TokenCleaner } from './token-cleaner.js';

const SECRETS = findResource('', 'v1', 'secrets')!;

export const startTokenCleanerController: StartFunc = (ctx) => ({
  controller: new TokenCleaner({
    secretInformer: ctx.informers.forResource(SECRETS, { fieldSelector: `type=${BOOTSTRAP_TOKEN_SECRET_TYPE}` }),
    deleteSecret: (namespace, name, uid) => ctx.client.resource(SECRETS, namespace).delete(name, { preconditions: { uid } }),
    clock: ctx.clock,
    logger: controllerLogger(ctx, 'token-cleaner-controller'),
  }),
  workers: 1,
});
