// The Worker's entry: wiring only.
import { buildApi } from "./api";

export { SandboxDO } from "../durable-objects/sandbox";
export { RegistryDO } from "../durable-objects/registry";
export { FilesCapability, StateCapability, ToolsCapability } from "./capabilities/entrypoints";
export { EgressGateway } from "./egress/gateway";
export { SandboxService } from "./rpc/service";
export { LinuxContainer } from "./providers/linux/container";

export default buildApi();
