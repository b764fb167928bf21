// A node-opcua client the simulator tests drive: connects (any security mode,
// anonymous or username/password), browses the plant folder tree, reads every
// variable with its EURange and EngineeringUnits, and prints one JSON document.
//
// Usage: node client.js '{"endpoint": "...", "mode": "None|Sign|SignAndEncrypt",
//                         "policy": "None|Basic256Sha256", "user": "...", "password": "...",
//                         "pki": "/tmp/dir", "read": ["ns=2;s=..."]}'
"use strict";

const os = require("os");
const path = require("path");
const {
  OPCUAClient,
  MessageSecurityMode,
  SecurityPolicy,
  AttributeIds,
  BrowseDirection,
  NodeClass,
  UserTokenType,
  OPCUACertificateManager,
  resolveNodeId,
} = require("node-opcua");

const args = JSON.parse(process.argv[2] || "{}");

function securityMode(name) {
  return { None: MessageSecurityMode.None, Sign: MessageSecurityMode.Sign, SignAndEncrypt: MessageSecurityMode.SignAndEncrypt }[name || "None"];
}

function securityPolicy(name) {
  return { None: SecurityPolicy.None, Basic256Sha256: SecurityPolicy.Basic256Sha256 }[name || "None"];
}

async function browseTree(session, nodeId, prefix, out, depth) {
  if (depth > 8) return;
  const result = await session.browse({
    nodeId,
    browseDirection: BrowseDirection.Forward,
    referenceTypeId: "HierarchicalReferences",
    includeSubtypes: true,
    resultMask: 63,
  });
  for (const ref of result.references || []) {
    const id = ref.nodeId.toString();
    if (ref.nodeId.namespace === 0) continue; // standard nodes: not the plant
    const name = ref.browseName.name;
    const p = prefix ? `${prefix}/${name}` : name;
    const entry = { path: p, nodeId: id, nodeClass: NodeClass[ref.nodeClass], typeDefinition: ref.typeDefinition.toString() };
    out.push(entry);
    if (ref.nodeClass === NodeClass.Object) {
      await browseTree(session, ref.nodeId, p, out, depth + 1);
    }
  }
}

async function properties(session, nodeId) {
  const result = await session.browse({
    nodeId,
    browseDirection: BrowseDirection.Forward,
    referenceTypeId: "HasProperty",
    includeSubtypes: true,
    resultMask: 63,
  });
  const props = {};
  for (const ref of result.references || []) {
    const dv = await session.read({ nodeId: ref.nodeId, attributeId: AttributeIds.Value });
    const v = dv.value.value;
    if (ref.browseName.name === "EURange" && v) props.EURange = { low: v.low, high: v.high };
    if (ref.browseName.name === "EngineeringUnits" && v) {
      props.EngineeringUnits = { unitId: v.unitId, displayName: v.displayName && v.displayName.text };
    }
  }
  return props;
}

function plain(dataValue) {
  return {
    value: dataValue.value ? dataValue.value.value : null,
    dataType: dataValue.value ? dataValue.value.dataType : null,
    statusCode: dataValue.statusCode.value,
    statusName: dataValue.statusCode.name,
    sourceTimestamp: dataValue.sourceTimestamp ? dataValue.sourceTimestamp.toISOString() : null,
  };
}

async function main() {
  const pki = args.pki || path.join(os.tmpdir(), "clearwell-opcua-client-pki");
  const certificateManager = new OPCUACertificateManager({
    rootFolder: pki,
    automaticallyAcceptUnknownCertificate: true,
  });
  await certificateManager.initialize();
  const client = OPCUAClient.create({
    applicationName: "ClearwellTestClient",
    applicationUri: "urn:clearwell:test-client",
    clientCertificateManager: certificateManager,
    securityMode: securityMode(args.mode),
    securityPolicy: securityPolicy(args.policy),
    endpointMustExist: false,
    connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 500 },
    requestedSessionTimeout: 30000,
  });
  const out = { endpoint: args.endpoint };
  await client.connect(args.endpoint);
  try {
    const identity = args.user
      ? { type: UserTokenType.UserName, userName: args.user, password: args.password || "" }
      : { type: UserTokenType.Anonymous };
    const session = await client.createSession(identity);
    try {
      if (args.browse !== false) {
        const tree = [];
        await browseTree(session, resolveNodeId("ObjectsFolder"), "", tree, 0);
        out.tree = tree;
        out.variables = {};
        for (const entry of tree.filter((e) => e.nodeClass === "Variable")) {
          const dv = await session.read({ nodeId: entry.nodeId, attributeId: AttributeIds.Value });
          out.variables[entry.nodeId] = { path: entry.path, ...plain(dv), ...(await properties(session, entry.nodeId)) };
        }
      }
      if (args.read) {
        const dvs = await session.read(args.read.map((nodeId) => ({ nodeId, attributeId: AttributeIds.Value })));
        out.read = Object.fromEntries(args.read.map((id, i) => [id, plain(dvs[i])]));
      }
    } finally {
      await session.close();
    }
  } finally {
    await client.disconnect();
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stdout.write(JSON.stringify({ error: String((err && err.message) || err) }) + "\n");
    process.exit(2);
  },
);
