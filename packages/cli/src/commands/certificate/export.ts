import { fetchNodeCertificate } from "@walras/node";
import { FailureError } from "../../cli-error.ts";
import { jsonText, writeOutput } from "../../write-output.ts";
import { askNode } from "../status/ask-node.ts";

export async function runExport(flags: { readonly node: string; readonly out?: string }): Promise<void> {
  const certificate = await askNode(() => fetchNodeCertificate(flags.node));
  if (certificate === null) throw new FailureError(`${flags.node}: the node has no certificate yet`);
  await writeOutput(jsonText(certificate), flags.out);
  if (flags.out)
    process.stderr.write(
      `certificate for epoch ${certificate.commit.epoch} (${certificate.signatures.length} signatures) written to ${flags.out}\n`,
    );
}
