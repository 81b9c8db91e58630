// Start functions for the token-cleaner-controller and the bootstrap-signer-controller (upstream's
// startTokenCleanerController and startBootstrapSignerController).
import { findResource } from '@kubelab/api';
import { controllerLogger, type StartFunc } from '../controller-context.js';
import { BootstrapSigner, CLUSTER_INFO_NAMESPACE } from './bootstrap-signer.js';
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

const CONFIGMAPS = findResource('', 'v1', 'configmaps')!;

export const startBootstrapSignerController: StartFunc = (ctx) => ({
  controller: new BootstrapSigner({
    configMapInformer: ctx.informers.forResource(CONFIGMAPS, { fieldSelector: `metadata.namespace=${CLUSTER_INFO_NAMESPACE}` }),
    secretInformer: ctx.informers.forResource(SECRETS, { fieldSelector: `type=${BOOTSTRAP_TOKEN_SECRET_TYPE}` }),
    updateConfigMap: (cm) => ctx.client.resource(CONFIGMAPS, cm.metadata.namespace).update(cm),
    clock: ctx.clock,
    logger: controllerLogger(ctx, 'bootstrap-signer-controller'),
  }),
  workers: 1,
});
