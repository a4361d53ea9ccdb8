// Drives the ASM migration calls through the real npm clients (azure-asm-compute, azure-asm-network,
// azure-asm-storage) against a local classic2arm server, and prints one JSON document with what the
// clients parsed. Usage: node migrate_all.js '<json config>'
//
// Per unit kind (cfg.order), the steps in cfg.steps; by default all of them: validate, prepare (non-begin:
// polls Get Operation Status), read MigrationState while prepared, abort (non-begin), read it again,
// prepare again, commit (non-begin). Bodyless POSTs need `.end()` on the returned stream (azure-common
// webresource quirk; see real-clients.md C2).
//
// Credentials: a bearer token (cfg.token, TokenCloudCredentials) or a management certificate (cfg.pemFile,
// a PEM holding certificate and key, through createCertificateCloudCredentials). Over HTTPS the server's
// CA comes from NODE_EXTRA_CA_CERTS.
'use strict';

const fs = require('fs');
const common = require('azure-common');
const compute = require('azure-asm-compute');
const network = require('azure-asm-network');
const storage = require('azure-asm-storage');

const cfg = JSON.parse(process.argv[2]);
const creds = cfg.pemFile
  ? compute.createCertificateCloudCredentials({
    subscriptionId: cfg.subscriptionId, pem: fs.readFileSync(cfg.pemFile, 'utf8'),
  })
  : new common.TokenCloudCredentials({ subscriptionId: cfg.subscriptionId, token: cfg.token });
const clients = {
  compute: compute.createComputeManagementClient(creds, cfg.baseUri),
  network: network.createNetworkManagementClient(creds, cfg.baseUri),
  storage: storage.createStorageManagementClient(creds, cfg.baseUri),
};
for (const client of Object.values(clients)) {
  client.longRunningOperationInitialTimeout = 0;
  client.longRunningOperationRetryTimeout = 0;
}

// Call an SDK method with a node-style callback; `bodyless` sends the request with `.end()`.
function call(fn, bodyless) {
  return new Promise((resolve, reject) => {
    const ret = fn((err, result) => (err ? reject(err) : resolve(result)));
    if (bodyless && ret && typeof ret.end === 'function') ret.end();
  });
}

function messages(list) {
  return (list || []).map((m) => ({
    resourceType: m.resourceType, resourceName: m.resourceName, category: m.category,
    message: m.message, virtualMachineName: m.virtualMachineName || null,
  }));
}

const dest = { destinationVirtualNetwork: 'New', resourceGroupName: '', subNetName: '', virtualNetworkName: '' };
const d = cfg.deployment;
const units = {
  deployment: {
    validate: () => call((cb) => clients.compute.deployments.validateMigration(d.service, d.name, dest, cb), false)
      .then((r) => messages(r.validateDeploymentMessages)),
    prepare: () => call((cb) => clients.compute.deployments.prepareMigration(d.service, d.name, dest, cb), false),
    commit: () => call((cb) => clients.compute.deployments.commitMigration(d.service, d.name, cb), true),
    abort: () => call((cb) => clients.compute.deployments.abortMigration(d.service, d.name, cb), true),
    state: () => call((cb) => clients.compute.deployments.getByName(d.service, d.name, cb), false)
      .then((r) => (r.roles || []).map((role) => role.migrationState || null)),
  },
  vnet: {
    group: clients.network.networks, name: cfg.vnet, list: 'validationMessages',
    state: () => call((cb) => clients.network.networks.list(cb), false)
      .then((r) => (r.virtualNetworkSites || []).filter((s) => s.name === cfg.vnet).map((s) => s.migrationState || null)),
  },
  storage: {
    group: clients.storage.storageAccounts, name: cfg.storage, list: 'validateStorageMessages',
    state: () => call((cb) => clients.storage.storageAccounts.get(cfg.storage, cb), false)
      .then((r) => [((r.storageAccount || r).migrationState) || null]),
  },
  reservedIp: { group: clients.network.reservedIPs, name: cfg.reservedIp, list: 'validationMessages' },
  nsg: { group: clients.network.networkSecurityGroups, name: cfg.nsg, list: 'validationMessages' },
  routeTable: { group: clients.network.routes, name: cfg.routeTable, list: 'validationMessages' },
};
for (const u of Object.values(units)) {
  if (!u.group) continue;
  u.validate = () => call((cb) => u.group.validateMigration(u.name, cb), true).then((r) => messages(r[u.list]));
  u.prepare = () => call((cb) => u.group.prepareMigration(u.name, cb), true);
  u.commit = () => call((cb) => u.group.commitMigration(u.name, cb), true);
  u.abort = () => call((cb) => u.group.abortMigration(u.name, cb), true);
}

const steps = cfg.steps || ['validate', 'prepare', 'abort', 'prepare', 'commit'];

async function main() {
  const out = { credentials: creds.constructor.name };
  for (const kind of cfg.order) {
    const u = units[kind];
    const r = { calls: [] };
    try {
      for (const step of steps) {
        if (step === 'validate') {
          r.validate = await u.validate();
        } else {
          const key = step === 'prepare' && 'prepare' in r ? 'prepareAgain' : step;
          r[key] = (await u[step]()).status;
        }
        r.calls.push(step);
        if (u.state && step === 'prepare' && !('statePrepared' in r)) r.statePrepared = await u.state();
        if (u.state && step === 'abort') r.stateAborted = await u.state();
      }
    } catch (err) {
      r.error = { message: String(err && err.message), code: err && (err.code || (err.error && err.error.code)) };
    }
    out[kind] = r;
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => { process.stderr.write(String(err && err.stack)); process.exit(1); });
