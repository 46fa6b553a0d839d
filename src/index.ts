// The Worker's entry: wiring only.
import { buildApi } from "./api";

export { SandboxDO } from "../durable-objects/sandbox";
export { RegistryDO } from "../durable-objects/registry";

export default buildApi();
