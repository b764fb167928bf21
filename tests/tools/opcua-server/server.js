// A node-opcua server the collector tests run, so that the OPC UA collector is checked
// against a stack that is not asyncua: a small plant in folders (Double, Float, Int32,
// Boolean and AnalogItem variables), values with Bad and Uncertain statuses, a counter
// that changes every 100 ms, security None or Basic256Sha256 with a user, and a PKI that
// trusts unknown client certificates or rejects them.
//
// Usage: node server.js '{"port": 4840, "pki": "/tmp/dir", "trustClients": true,
//                         "secure": false, "users": {"historian": "secret"},
//                         "extraNamespaces": ["urn:before"]}'
//
// Prints "ready <endpoint>" once listening. Reads commands on stdin, one a line:
//   set <node id> <value> [<status name>]   e.g. set ns=2;s=Plant.Aeration.DO 2.5 Good
// and answers "ok" or "error <why>". Ends on SIGTERM or when stdin closes.
"use strict";

const path = require("path");
const readline = require("readline");
const {
  OPCUAServer,
  OPCUACertificateManager,
  MessageSecurityMode,
  SecurityPolicy,
  Variant,
  DataType,
  StatusCodes,
  standardUnits,
} = require("node-opcua");

const args = JSON.parse(process.argv[2] || "{}");
const PLANT_URI = "urn:clearwell:test-plant";
// The URI in the server's certificate. The tests make that certificate and its key
// (pki/server/own/) before the first start: node-opcua makes them in JavaScript
// otherwise, which takes 10 to 30 s on a busy machine.
const APPLICATION_URI = "urn:clearwell:test-plant-server";

function statusOf(name) {
  const code = StatusCodes[name || "Good"];
  if (code === undefined) throw new Error(`no status code ${name}`);
  return code;
}

function buildPlant(server) {
  const addressSpace = server.engine.addressSpace;
  // Namespaces registered before the plant's move it to another index: a configuration
  // written with ns= would then point elsewhere, one written with nsu= would not.
  for (const uri of args.extraNamespaces || []) addressSpace.registerNamespace(uri);
  const ns = addressSpace.registerNamespace(PLANT_URI);
  const plant = ns.addFolder(addressSpace.rootFolder.objects, { browseName: "Plant", nodeId: "s=Plant" });
  const aeration = ns.addFolder(plant, { browseName: "Aeration", nodeId: "s=Plant.Aeration" });
  const influent = ns.addFolder(plant, { browseName: "Influent", nodeId: "s=Plant.Influent" });
  const variables = {};
  function variable(folder, name, dataType, value, status) {
    const nodeId = `s=${folder === plant ? "Plant" : folder.browseName.name === "Aeration" ? "Plant.Aeration" : "Plant.Influent"}.${name}`;
    const v = ns.addVariable({ componentOf: folder, browseName: name, nodeId, dataType });
    v.setValueFromSource(new Variant({ dataType: DataType[dataType], value }), statusOf(status));
    variables[nodeId] = v;
    return v;
  }
  variable(aeration, "DO", "Double", 2.125);
  variable(aeration, "AirFlow", "Float", 812.5);
  variable(aeration, "BlowersRunning", "Int32", 3);
  variable(aeration, "BlowerFault", "Boolean", true);
  variable(aeration, "Probe2", "Double", 9.75, "BadSensorFailure");
  variable(aeration, "Probe3", "Double", 4.5, "UncertainLastUsableValue");
  const flow = ns.addAnalogDataItem({
    componentOf: influent,
    browseName: "Flow",
    nodeId: "s=Plant.Influent.Flow",
    definition: "influent flow",
    dataType: "Double",
    engineeringUnitsRange: { low: 0, high: 2000 },
    engineeringUnits: standardUnits.cubic_metre_per_hour,
  });
  flow.setValueFromSource(new Variant({ dataType: DataType.Double, value: 1234.5 }));
  variables["s=Plant.Influent.Flow"] = flow;
  const counter = variable(plant, "Counter", "Int32", 0);
  let count = 0;
  const timer = setInterval(() => {
    count += 1;
    counter.setValueFromSource(new Variant({ dataType: DataType.Int32, value: count }));
  }, 100);
  return { ns, variables, timer };
}

async function main() {
  const pki = args.pki || path.join(process.cwd(), "pki");
  const serverCertificateManager = new OPCUACertificateManager({
    rootFolder: path.join(pki, "server"),
    automaticallyAcceptUnknownCertificate: args.trustClients !== false,
  });
  await serverCertificateManager.initialize();
  const users = args.users || {};
  const secure = !!args.secure;
  const server = new OPCUAServer({
    port: args.port,
    hostname: "127.0.0.1",
    host: "127.0.0.1",
    resourcePath: "/clearwell",
    serverCertificateManager,
    securityPolicies: secure ? [SecurityPolicy.Basic256Sha256] : [SecurityPolicy.None],
    securityModes: secure ? [MessageSecurityMode.SignAndEncrypt] : [MessageSecurityMode.None],
    allowAnonymous: Object.keys(users).length === 0,
    userManager: { isValidUser: (user, password) => users[user] !== undefined && users[user] === password },
    serverCapabilities: { operationLimits: { maxMonitoredItemsPerCall: 50, maxNodesPerRead: 50 } },
    buildInfo: { productName: "clearwell-test-plant", manufacturerName: "Clearwell tests" },
    serverInfo: { applicationUri: APPLICATION_URI, productUri: "urn:clearwell:test-plant" },
  });
  await server.initialize();
  const plant = buildPlant(server);
  await server.start();
  const endpoint = server.getEndpointUrl();
  process.stdout.write(`ready ${endpoint}\n`);

  let stopping = false;
  async function stop() {
    if (stopping) return;
    stopping = true;
    clearInterval(plant.timer);
    await server.shutdown(0);
    process.exit(0);
  }
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);

  const input = readline.createInterface({ input: process.stdin });
  input.on("line", (line) => {
    const [command, nodeId, value, status] = line.trim().split(/\s+/);
    try {
      if (command !== "set") throw new Error(`unknown command ${command}`);
      const v = plant.variables[nodeId.replace(/^ns=\d+;/, "")];
      if (!v) throw new Error(`no variable ${nodeId}`);
      const dataType = v.getBasicDataType();
      const parsed = dataType === DataType.Boolean ? value === "true" : Number(value);
      v.setValueFromSource(new Variant({ dataType, value: parsed }), statusOf(status));
      process.stdout.write("ok\n");
    } catch (err) {
      process.stdout.write(`error ${err.message}\n`);
    }
  });
  input.on("close", stop);
}

main().catch((err) => {
  process.stderr.write(`${err.stack || err}\n`);
  process.exit(1);
});
