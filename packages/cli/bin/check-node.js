// The Node.js check that runs before anything else of walras is loaded. Importing this module (or
// running it: `node check-node.js`) ends the process with one line when Node is too old, instead
// of the stack trace an older Node gives on the TypeScript sources, node:sqlite or libp2p.
// Plain JavaScript on purpose: Node 18 and 20 must be able to parse it.
//
// 22.18 is the first Node that strips TypeScript types without a flag (how the repository runs
// walras from its sources); node:sqlite and libp2p 3 need 22.13 at least.
const MINIMUM = [22, 18];

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < MINIMUM[0] || (major === MINIMUM[0] && minor < MINIMUM[1])) {
  process.stderr.write(
    `walras needs Node.js >= ${MINIMUM.join(".")}, but this is Node.js ${process.version} (${process.execPath}): ` +
      "install Node 24 with `nvm install 24`, or `npm install -g node@24`, or from https://nodejs.org\n",
  );
  process.exit(1);
}
