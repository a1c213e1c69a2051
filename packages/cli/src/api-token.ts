import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Option } from "commander";
import { InputError } from "./cli-error.ts";

/** Where a node keeps its write API's token, under its data dir (the node makes it, mode 0600). */
const TOKEN_FILE = "api.token";
/** `node start`'s data dir when none is given. */
const DEFAULT_DATA_DIR = ".walras";

export interface TokenFlags {
  readonly tokenFile?: string;
  readonly dataDir?: string;
}

/** The token and where it came from (named in errors: a 401 says which token the node refused). */
export interface ApiToken {
  readonly token: string;
  readonly source: string;
}

/** `--token-file` and `--data-dir`: how a command that writes through a node's API finds its token. */
export function tokenOptions(): Option[] {
  return [
    new Option(
      "--token-file <file>",
      "the node's API token file (default: $WALRAS_API_TOKEN, then $WALRAS_API_TOKEN_FILE, then <data-dir>/api.token)",
    ),
    new Option(
      "--data-dir <dir>",
      "the node's data dir, where it wrote api.token (default $WALRAS_DATA_DIR or .walras, as node start)",
    ),
  ];
}

/**
 * The token for a node's write API. Flags first, then the environment, then the default data dir:
 * `--token-file`, `--data-dir`/api.token, $WALRAS_API_TOKEN (the token itself),
 * $WALRAS_API_TOKEN_FILE, $WALRAS_DATA_DIR/api.token, .walras/api.token.
 */
export function readApiToken(flags: TokenFlags, env: NodeJS.ProcessEnv = process.env): ApiToken {
  if (flags.tokenFile !== undefined) return fromFile(flags.tokenFile, "--token-file");
  if (flags.dataDir !== undefined) return fromFile(join(flags.dataDir, TOKEN_FILE), "--data-dir");
  const inline = env.WALRAS_API_TOKEN?.trim();
  if (inline) return checked(inline, "$WALRAS_API_TOKEN");
  if (env.WALRAS_API_TOKEN_FILE) return fromFile(env.WALRAS_API_TOKEN_FILE, "$WALRAS_API_TOKEN_FILE");
  const dataDir = env.WALRAS_DATA_DIR || DEFAULT_DATA_DIR;
  return fromFile(
    join(dataDir, TOKEN_FILE),
    env.WALRAS_DATA_DIR ? "$WALRAS_DATA_DIR" : "the default data dir",
  );
}

function fromFile(file: string, via: string): ApiToken {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "no such file (a node writes api.token to its data dir when it starts; pass --token-file or --data-dir)"
        : code === "EACCES"
          ? "permission denied (the token is readable by the node's user only)"
          : `cannot read: ${(err as Error).message}`;
    throw new InputError(`${file} (${via}): ${why}`);
  }
  return checked(text.trim(), file);
}

function checked(token: string, source: string): ApiToken {
  if (!/^[0-9a-f]{64}$/.test(token))
    throw new InputError(`${source}: not a walras API token (64 hex digits)`);
  return { token, source };
}
