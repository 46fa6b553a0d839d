import { describe, expect, it } from "vitest";
import lockfile from "../../../package-lock.json";
import dockerfile from "../../../containers/linux/Dockerfile?raw";
import wranglerToml from "../../../wrangler.toml?raw";

/**
 * The container server in the image must speak the routes the installed SDK's SandboxClient
 * calls: package.json allows any 0.12.x (`^`), so the version that counts is the one the
 * lockfile installs, and the deployed image (wrangler.toml) and the optional Dockerfile must
 * carry that same tag.
 */
describe("@cloudflare/sandbox: the installed SDK and the container image are the same version", () => {
  const installed = (lockfile.packages as Record<string, { version?: string }>)["node_modules/@cloudflare/sandbox"]?.version;

  it("the lockfile installs one exact version", () => {
    expect(installed).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("wrangler.toml's container image is the SDK's own image at that version", () => {
    const images = [...wranglerToml.matchAll(/^image\s*=\s*"([^"]+)"/gm)].map((m) => m[1]);
    expect(images).toEqual([`docker.io/cloudflare/sandbox:${installed}-python`]);
  });

  it("containers/linux/Dockerfile starts FROM the image at that version", () => {
    const from = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
    expect(from).toEqual([`docker.io/cloudflare/sandbox:${installed}-python`]);
  });
});
