// Evaluates IAM requests with @cloud-copilot/iam-simulate, offline. Reads a JSON
// array of cases on stdin and prints one result per case, in order, on stdout.
//
// A case: { principal, action, resource, accountId, context?, identityPolicies?,
// resourcePolicy?, engine? }. A result: { result: "Allowed" | "ExplicitlyDenied" |
// "ImplicitlyDenied", ignoredContextKeys: [...] } or { error } when the simulator
// refuses the request as invalid.
//
// engine "validated" (the default) is the package's runSimulation: it checks the
// policies, the action, the resource type and the context keys, and drops context
// keys the action does not take (reported in ignoredContextKeys). Its check drops
// `kms:EncryptionContext:<key>` keys whose <key> holds a colon, such as CloudWatch
// Logs' `aws:logs:arn`; engine "core" runs the same evaluation without that
// validation, for those cases only.
//
// Used by lambdas/e2e/tests/it/iam.rs; `cargo xtask ci` installs it with `npm ci`.
import { loadPolicy } from '@cloud-copilot/iam-policy'
import { runSimulation } from '@cloud-copilot/iam-simulate'
// Not exported by the package (its runUnsafeSimulation leaves the resource policy
// unnamed and then fails on it); the version is pinned in package-lock.json.
import { DiscoveryContextKeyConstraints } from './node_modules/@cloud-copilot/iam-simulate/dist/esm/context_keys/discoveryContextKeyConstraints.js'
import { authorize } from './node_modules/@cloud-copilot/iam-simulate/dist/esm/core_engine/CoreSimulatorEngine.js'
import { AwsRequestImpl } from './node_modules/@cloud-copilot/iam-simulate/dist/esm/request/request.js'
import { RequestContextImpl } from './node_modules/@cloud-copilot/iam-simulate/dist/esm/requestContext.js'

async function validated(c) {
  const response = await runSimulation(
    {
      identityPolicies: (c.identityPolicies ?? []).map((policy, i) => ({ name: `identity${i}`, policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: c.resourcePolicy,
      request: {
        principal: c.principal,
        action: c.action,
        resource: { resource: c.resource, accountId: c.accountId },
        contextVariables: c.context ?? {},
      },
    },
    {},
  )
  if (response.resultType === 'error') {
    return { error: response.errors }
  }
  if (response.resultType !== 'single') {
    return { error: `a wildcard resource was simulated: ${c.resource}` }
  }
  return { result: response.overallResult, ignoredContextKeys: response.result.ignoredContextKeys ?? [] }
}

function core(c) {
  const request = new AwsRequestImpl(
    c.principal,
    { resource: c.resource, accountId: c.accountId },
    c.action,
    new RequestContextImpl(c.context ?? {}),
  )
  const analysis = authorize({
    request,
    sessionPolicy: undefined,
    identityPolicies: (c.identityPolicies ?? []).map((policy, i) => loadPolicy(policy, { name: `identity${i}` })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: c.resourcePolicy ? loadPolicy(c.resourcePolicy, { name: 'resource' }) : undefined,
    permissionBoundaries: undefined,
    vpcEndpointPolicies: undefined,
    simulationParameters: {
      simulationMode: 'Strict',
      discoveryContextKeyConstraints: new DiscoveryContextKeyConstraints([]),
    },
    serviceSettings: { s3: {} },
  })
  return { result: analysis.result, ignoredContextKeys: [] }
}

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const cases = JSON.parse(Buffer.concat(chunks).toString('utf8'))
const results = []
for (const c of cases) {
  results.push(c.engine === 'core' ? core(c) : await validated(c))
}
process.stdout.write(JSON.stringify(results))
